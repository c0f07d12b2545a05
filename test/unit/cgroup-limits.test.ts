import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupV1Driver } from '../../src/sandbox/cgroup/v1.js';
import { CgroupV2Driver } from '../../src/sandbox/cgroup/v2.js';

/**
 * The limits plan of both cgroup drivers on a stand-in tree of plain directories (no root, no
 * cgroupfs): which control files a sandbox's cgroup gets at start, and that applying limits again
 * (the warm pool's take) writes only the files whose value changes. A file the driver must not
 * write is set to a sentinel first; finding it unchanged proves no write happened.
 */
const LIMITS = { memoryBytes: 256 << 20, pids: 64, cpus: 1 };
let root: string;
const read = (...path: string[]): string => readFileSync(join(root, ...path), 'utf8');
const poke = (...path: string[]): void => writeFileSync(join(root, ...path), 'sentinel');

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'rc-cgroup-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('cgroup v1 limits', () => {
  const open = (): CgroupV1Driver => {
    for (const controller of ['memory', 'pids', 'cpu', 'freezer']) mkdirSync(join(root, controller, 'rc'), { recursive: true });
    return new CgroupV1Driver(root, 'rc');
  };

  it('sets memory, swappiness, pids and the CPU quota at start', () => {
    open().create('rc-1-a', LIMITS);
    assert.equal(read('memory', 'rc', 'rc-1-a', 'memory.limit_in_bytes'), String(LIMITS.memoryBytes));
    assert.equal(read('memory', 'rc', 'rc-1-a', 'memory.swappiness'), '0');
    assert.equal(read('pids', 'rc', 'rc-1-a', 'pids.max'), '64');
    assert.equal(read('cpu', 'rc', 'rc-1-a', 'cpu.cfs_period_us'), '100000');
    assert.equal(read('cpu', 'rc', 'rc-1-a', 'cpu.cfs_quota_us'), '100000');
  });

  it('applying the same limits again writes nothing; other limits write only what changed', () => {
    const cgroup = open().create('rc-1-b', LIMITS);
    const files = [['memory', 'rc', 'rc-1-b', 'memory.limit_in_bytes'], ['memory', 'rc', 'rc-1-b', 'memory.swappiness'], ['pids', 'rc', 'rc-1-b', 'pids.max'], ['cpu', 'rc', 'rc-1-b', 'cpu.cfs_period_us'], ['cpu', 'rc', 'rc-1-b', 'cpu.cfs_quota_us']];
    for (const file of files) poke(...file);
    cgroup.setLimits({ ...LIMITS });
    for (const file of files) assert.equal(read(...file), 'sentinel', file.join('/'));
    cgroup.setLimits({ ...LIMITS, pids: 32 });
    assert.equal(read('pids', 'rc', 'rc-1-b', 'pids.max'), '32');
    for (const file of files.filter((f) => f[3] !== 'pids.max')) assert.equal(read(...file), 'sentinel', file.join('/'));
    cgroup.setLimits({ ...LIMITS, pids: 32, memoryBytes: 512 << 20, cpus: 2 });
    assert.equal(read('memory', 'rc', 'rc-1-b', 'memory.limit_in_bytes'), String(512 << 20));
    assert.equal(read('cpu', 'rc', 'rc-1-b', 'cpu.cfs_quota_us'), '200000');
    assert.equal(read('cpu', 'rc', 'rc-1-b', 'cpu.cfs_period_us'), 'sentinel');
  });
  it('a cgroup whose maker kills its processes (bwrap through the fork server) joins no freezer; others do', () => {
    const driver = open();
    const own = driver.create('rc-1-c', LIMITS, { killAll: false });
    assert.equal(own.killsAll, false);
    assert.deepEqual(own.procsFiles, ['memory', 'pids', 'cpu'].map((c) => join(root, c, 'rc', 'rc-1-c', 'cgroup.procs')));
    assert.equal(existsSync(join(root, 'freezer', 'rc', 'rc-1-c')), false, 'a freezer directory was made');
    assert.equal(existsSync(join(root, 'memory', 'rc', 'rc-1-c')), true);
    assert.deepEqual(own.settings().map((s) => s.file), ['memory.swappiness', 'pids.max', 'cpu.cfs_quota_us']);
    const killing = driver.create('rc-1-d', LIMITS);
    assert.equal(killing.killsAll, true);
    assert.equal(killing.procsFiles.length, 4);
    assert.equal(existsSync(join(root, 'freezer', 'rc', 'rc-1-d')), true);
  });
});

describe('cgroup v2 limits', () => {
  const open = (): CgroupV2Driver => {
    mkdirSync(join(root, 'rc'), { recursive: true });
    writeFileSync(join(root, 'cgroup.controllers'), 'cpu memory pids');
    writeFileSync(join(root, 'cgroup.subtree_control'), 'cpu memory pids');
    return new CgroupV2Driver(root, 'rc');
  };

  it('sets memory.max, pids.max and cpu.max at start', () => {
    open().create('rc-1-a', LIMITS);
    assert.equal(read('rc', 'rc-1-a', 'memory.max'), String(LIMITS.memoryBytes));
    assert.equal(read('rc', 'rc-1-a', 'pids.max'), '64');
    assert.equal(read('rc', 'rc-1-a', 'cpu.max'), '100000 100000');
  });

  it('applying the same limits again writes nothing; other limits write only what changed', () => {
    const cgroup = open().create('rc-1-b', LIMITS);
    const files = ['memory.max', 'pids.max', 'cpu.max'];
    for (const file of files) poke('rc', 'rc-1-b', file);
    cgroup.setLimits({ ...LIMITS });
    for (const file of files) assert.equal(read('rc', 'rc-1-b', file), 'sentinel', file);
    cgroup.setLimits({ ...LIMITS, cpus: 0.5 });
    assert.equal(read('rc', 'rc-1-b', 'cpu.max'), '50000 100000');
    assert.equal(read('rc', 'rc-1-b', 'memory.max'), 'sentinel');
    assert.equal(read('rc', 'rc-1-b', 'pids.max'), 'sentinel');
  });
});
