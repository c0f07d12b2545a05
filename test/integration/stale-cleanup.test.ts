import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeStaleSandboxes } from '../../src/sandbox/stale-sandboxes.js';
import { openCgroupDriver } from '../../src/sandbox/cgroup/detect.js';
import { sandboxName } from '../../src/sandbox/names.js';

// A parent of this file's own: a crashed owner's cgroup under the shared one would be removed by any
// engine opening on the host meanwhile, and counted as a leftover by every other test's leak check.
const PARENT = `runner-codes-test-${process.pid}`;
after(() => {
  for (const dir of ['memory', 'pids', 'cpu', 'freezer', ''].map((controller) => join('/sys/fs/cgroup', controller, PARENT))) {
    try {
      rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
});

it('a new engine kills and removes sandboxes left by a crashed process, and only those', async () => {
  const driver = openCgroupDriver(PARENT);
  const deadPid = spawnSync('true').pid!; // exited and reaped: its pid names a crashed owner
  const stale = driver.create(sandboxName(deadPid), { memoryBytes: 64 << 20, pids: 8, cpus: 1 });
  const live = driver.create(sandboxName(process.pid), { memoryBytes: 64 << 20, pids: 8, cpus: 1 });
  const orphan = spawn('sleep', ['100'], { stdio: 'ignore' });
  const killed = new Promise((resolve) => orphan.once('exit', (_code, signal) => resolve(signal)));
  for (const file of stale.procsFiles) writeFileSync(file, String(orphan.pid));

  assert.equal(await removeStaleSandboxes(driver), 1);
  assert.equal(await killed, 'SIGKILL');
  assert.deepEqual(driver.list(), [live.name]);
  await live.destroy();
  assert.deepEqual(driver.list(), []);
});

it('a dead engine\'s bwrap sandbox cgroup (no freezer on v1) is killed and removed too', async () => {
  const driver = openCgroupDriver(PARENT);
  const deadPid = spawnSync('true').pid!;
  const stale = driver.create(sandboxName(deadPid), { memoryBytes: 64 << 20, pids: 8, cpus: 1 }, { killAll: false });
  const orphan = spawn('sleep', ['100'], { stdio: 'ignore' });
  const killed = new Promise((resolve) => orphan.once('exit', (_code, signal) => resolve(signal)));
  for (const file of stale.procsFiles) writeFileSync(file, String(orphan.pid));
  assert.equal(await removeStaleSandboxes(driver), 1);
  assert.equal(await killed, 'SIGKILL');
  assert.equal(driver.list().includes(stale.name), false, 'the stale cgroup is still there');
  for (const controller of ['memory', 'pids', 'cpu', 'freezer', '']) assert.equal(existsSync(join('/sys/fs/cgroup', controller, PARENT, stale.name)), false, controller || 'v2');
});
