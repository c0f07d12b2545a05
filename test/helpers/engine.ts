import { after } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../src/engine/engine.js';
import { openEngine } from '../../src/compose/open-engine.js';
import type { ExecuteRequest } from '../../src/engine/request.js';
import type { ExecutionResult } from '../../src/engine/result.js';
import { NOTHING_LEFT, leftovers } from './host.js';

let shared: Promise<Engine> | undefined;

/**
 * One engine per test file, on this host's real bwrap, cgroups and images (run `infra.operator
 * setup` first). Registers an after-hook asserting that nothing was left behind.
 */
export function engine(): Promise<Engine> {
  if (!shared) {
    // The suite's expectations (cgroup evidence, seccomp, namespaces) are the bwrap backend's; VM backends have test/vm/.
    shared = openEngine({ backend: 'bwrap' });
    after(async () => {
      // Destruction is awaited inside execute(); give exiting processes a moment to be reaped.
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(leftovers(), NOTHING_LEFT, 'sandboxes left cgroups or processes behind');
    });
  }
  return shared;
}

export async function run(request: ExecuteRequest): Promise<ExecutionResult> {
  const result = await (await engine()).execute(request);
  assert.equal(result.status, 'success', `infrastructure failure: ${JSON.stringify(result.error)}`);
  return result;
}
