import { it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServerProcess, waitForPool } from '../../src/bench/server-process.js';
import { openEngine } from '../../src/compose/open-engine.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';

it('a crashed server leaves nothing running, and the next start removes its cgroups', async () => {
  const server = await startServerProcess(['--backend', 'bwrap', '--pool-warm', 'python,bash', '--pool-size', '2']);
  await waitForPool(server.url, 4);
  const busy = fetch(`${server.url}/api/v1/execute`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ language: 'bash', code: 'sleep 60' }),
  }).catch(() => 'connection lost');
  await sleep(200);
  process.kill(server.pid, 'SIGKILL');
  assert.equal(await busy, 'connection lost');
  // bwrap dies with its parent (the launcher set PDEATHSIG; bwrap --die-with-parent), and with the
  // sandbox's PID 1 every process in it.
  for (let i = 0; i < 100 && leftovers().processes.length > 0; i++) await sleep(20);
  const after = leftovers();
  assert.deepEqual(after.processes, [], 'no sandbox process survived the crash');
  assert.ok(after.cgroups.length >= 4, `the crashed server's cgroups remain until the next start (${after.cgroups.length})`);
  const engine = await openEngine({ backend: 'bwrap' });
  await engine.close();
  assert.deepEqual(leftovers(), NOTHING_LEFT);
});
