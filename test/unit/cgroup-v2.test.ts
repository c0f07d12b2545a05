import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupV2Driver } from '../../src/sandbox/cgroup/v2.js';
import { REMOVE_WAIT_MS } from '../../src/sandbox/cgroup/removals.js';

/**
 * cgroup v2 on a real cgroup2 mount. On hybrid hosts (ours) the unified tree exists but has no
 * memory/pids/cpu controllers, which still lets us check the kill-and-remove path and the refusal.
 */
const CGROUP2_SUPER_MAGIC = 0x63677270;
const mounts = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].filter((m) => {
  try {
    return statfsSync(m).type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
});
const mount = mounts[0];
const PARENT = `runner-codes-test-${process.pid}`;

describe('cgroup v2 driver on a real cgroup2 mount', { skip: mount === undefined || process.getuid?.() !== 0 ? 'no cgroup2 mount or not root' : false }, () => {
  after(() => {
    if (existsSync(join(mount!, PARENT))) rmdirSync(join(mount!, PARENT));
  });

  it('kills every process of a sandbox cgroup and removes it', async () => {
    const driver = new CgroupV2Driver(mount!, PARENT);
    const dir = join(mount!, PARENT, 'rc-1-abc');
    mkdirSync(dir, { recursive: true });
    const sleeper = spawn('sh', ['-c', 'sleep 100 & sleep 100'], { stdio: 'ignore' });
    writeFileSync(join(dir, 'cgroup.procs'), String(sleeper.pid));
    const exited = new Promise((resolve) => sleeper.once('exit', (_code, signal) => resolve(signal)));
    assert.deepEqual(driver.list(), ['rc-1-abc']);
    await driver.remove('rc-1-abc');
    assert.equal(await exited, 'SIGKILL');
    assert.equal(existsSync(dir), false);
    assert.deepEqual(driver.list(), []);
  });

  it('keeps removing a cgroup still busy after the removal wait, in the background, until it goes', async () => {
    const driver = new CgroupV2Driver(mount!, PARENT);
    const dir = join(mount!, PARENT, 'rc-1-busy');
    // A child cgroup keeps rmdir EBUSY as a task still exiting would.
    mkdirSync(join(dir, 'held'), { recursive: true });
    const started = Date.now();
    await driver.remove('rc-1-busy');
    assert.ok(Date.now() - started >= REMOVE_WAIT_MS, 'it waited the removal wait first');
    assert.equal(existsSync(dir), true);
    assert.deepEqual(driver.list(), ['rc-1-busy'], 'still listed while being removed');
    assert.deepEqual(await driver.settle(100), ['rc-1-busy'], 'settle() says what is left after its wait');
    rmdirSync(join(dir, 'held'));
    assert.deepEqual(await driver.settle(5_000), []);
    assert.equal(existsSync(dir), false);
    assert.deepEqual(driver.list(), []);
  });

  it('refuses to create a sandbox when a controller is not available, naming it', (t) => {
    const controllers = readFileSync(join(mount!, 'cgroup.controllers'), 'utf8');
    if (controllers.includes('memory') && controllers.includes('pids') && controllers.includes('cpu')) {
      t.skip('this host has a full cgroup v2: covered by the integration tests');
      return;
    }
    const driver = new CgroupV2Driver(mount!, PARENT);
    assert.throws(() => driver.create('rc-1-def', { memoryBytes: 1 << 26, pids: 16, cpus: 1 }), /cgroup v2 controller '(memory|pids|cpu)' is not available/);
  });
});
