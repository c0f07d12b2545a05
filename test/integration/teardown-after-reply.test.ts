import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEngine } from '../../src/compose/open-engine.js';
import { detectCgroupMode, openCgroupDriver } from '../../src/sandbox/cgroup/detect.js';
import { ownerOf } from '../../src/sandbox/names.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';

/*
 * A server's engine (deferDestroy) hands the result on before it starts tearing the used sandbox
 * down: the cgroup's freeze and kill are synchronous writes that used to sit between the result and
 * its reply (docs/performance.md, "The request path"). The teardown still happens, in full.
 */
describe('the used sandbox\'s teardown, in a server', () => {
  it('starts after execute() has resolved, and completes before close() returns', async () => {
    const engine = await openEngine({ backend: 'bwrap', deferDestroy: true });
    const cgroups = openCgroupDriver();
    const ours = (): string[] => cgroups.list().filter((name) => ownerOf(name) === process.pid);
    try {
      const result = await engine.execute({ language: 'bash', code: 'echo hi' });
      // Nothing of the teardown has run yet when the caller gets the result.
      const [used] = ours();
      assert.equal(result.stdout, 'hi\n');
      assert.ok(used, 'the used sandbox\'s cgroup is still there');
      if (detectCgroupMode() === 'v1') {
        assert.equal(readFileSync(`/sys/fs/cgroup/freezer/runner-codes/${used}/freezer.state`, 'utf8').trim(), 'THAWED', 'the cgroup was frozen before the result was handed on');
      } else {
        assert.match(readFileSync(`/sys/fs/cgroup/runner-codes/${used}/cgroup.events`, 'utf8'), /^populated 1$/m);
      }
      // And then it goes, whether or not anyone waits: the cgroup is gone soon after.
      for (let i = 0; i < 100 && ours().includes(used); i++) await sleep(20);
      assert.equal(ours().includes(used), false, 'the used sandbox was not torn down');
    } finally {
      await engine.close();
    }
    await sleep(200);
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });
});
