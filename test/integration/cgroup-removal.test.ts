import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEngine } from '../../src/compose/open-engine.js';
import { detectCgroupMode, openCgroupDriver } from '../../src/sandbox/cgroup/detect.js';
import { REMOVE_WAIT_MS } from '../../src/sandbox/cgroup/removals.js';
import { DEFAULT_HOST_ID_RANGE } from '../../src/sandbox/host-ids.js';

/*
 * A sandbox whose killed processes take longer to leave its cgroup than a removal waits (a task in
 * uninterruptible sleep, a large address space unmapping under load) is not given up: its cgroup is
 * removed in the background, and the engine's close() returns with nothing of it left. Stood in for
 * by real processes that cannot exit yet: v1's freezer keeps a task frozen by an ancestor cgroup
 * frozen through SIGKILL until the ancestor thaws. So the sandboxes run under a cgroup parent of
 * this file's own, frozen for longer than REMOVE_WAIT_MS just as the teardown starts.
 */
const PARENT = `runner-codes-test-${process.pid}`;
const FREEZER = join('/sys/fs/cgroup/freezer', PARENT);
const CONTROLLERS = ['memory', 'pids', 'cpu', 'freezer'];
// Host uids no other engine hands out: its cgroups are not under the shared parent, which is where engines learn each other's.
const HOST_IDS = { first: DEFAULT_HOST_ID_RANGE.first + DEFAULT_HOST_ID_RANGE.count, count: 64 };
const v1 = detectCgroupMode() === 'v1' && process.getuid?.() === 0;

/** The pids in this parent's sandbox cgroups, read from every hierarchy. */
function tasks(): number[] {
  const driver = openCgroupDriver(PARENT);
  return driver.list().flatMap((name) =>
    CONTROLLERS.flatMap((controller) => {
      const file = join('/sys/fs/cgroup', controller, PARENT, name, 'tasks');
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : [];
    }),
  );
}

describe('a sandbox cgroup still busy after the removal wait', { skip: v1 ? false : 'needs root on cgroup v1 (a frozen ancestor holds killed tasks only there)' }, () => {
  after(() => {
    if (existsSync(FREEZER)) writeFileSync(join(FREEZER, 'freezer.state'), 'THAWED');
    for (const controller of CONTROLLERS) {
      const dir = join('/sys/fs/cgroup', controller, PARENT);
      if (existsSync(dir)) rmdirSync(dir);
    }
  });

  it('is removed in the background, and close() returns with nothing left, throwing nothing', async () => {
    // A warm sandbox: its agent waits for a job, so its processes are alive when close() destroys it.
    const engine = await openEngine({
      backend: 'bwrap',
      cgroupParent: PARENT,
      hostIds: HOST_IDS,
      pool: { defaultSize: 1, warm: ['base'], maxIdle: 1, idleTtlMs: 600_000, shrinkAfterMs: 600_000 },
    });
    const driver = openCgroupDriver(PARENT);
    let thawed = 0;
    let closing: Promise<void> | undefined;
    try {
      for (let i = 0; i < 1000 && engine.pool!.stats().idle_total === 0; i++) await sleep(20);
      assert.equal(engine.pool!.stats().idle_total, 1, 'the pool started its sandbox');
      // Its teardown's kill lands on frozen tasks, which cannot exit until thawed.
      writeFileSync(join(FREEZER, 'freezer.state'), 'FROZEN');
      const held = tasks();
      assert.ok(held.length > 0, 'the warm sandbox\'s processes are there');
      setTimeout(() => {
        writeFileSync(join(FREEZER, 'freezer.state'), 'THAWED');
        thawed = Date.now();
      }, REMOVE_WAIT_MS + 1500);
      closing = engine.close();
      // Past the removal wait the cgroup is still there, its tasks killed but frozen: not given up.
      await sleep(REMOVE_WAIT_MS + 500);
      assert.equal(driver.list().length, 1, 'the busy cgroup is still being removed');
      assert.deepEqual(tasks().sort(), held.sort(), 'its processes cannot exit while frozen');
    } finally {
      await (closing ?? engine.close());
    }
    assert.ok(thawed > 0 && Date.now() >= thawed, 'close() waited for the removal, past the thaw');
    assert.deepEqual(driver.list(), [], 'no cgroup of the engine is left');
    assert.deepEqual(tasks(), [], 'no process is left');
  });

  it('a cgroup that cannot be set up leaves no directory in any hierarchy', () => {
    const driver = openCgroupDriver(PARENT);
    // pids.max refuses a negative count: the memory limit was written already, the rest not.
    assert.throws(() => driver.create(`rc-${process.pid}-u1-0123456789ab`, { memoryBytes: 64 << 20, pids: -1, cpus: 1 }), /cannot set limits on cgroup/);
    for (const controller of CONTROLLERS) {
      assert.equal(existsSync(join('/sys/fs/cgroup', controller, PARENT, `rc-${process.pid}-u1-0123456789ab`)), false, controller);
    }
    assert.deepEqual(driver.list(), []);
  });
});
