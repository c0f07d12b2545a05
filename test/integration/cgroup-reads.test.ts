import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { detectCgroupMode, openCgroupDriver } from '../../src/sandbox/cgroup/detect.js';

/**
 * What the engine reads and removes per execution, on real cgroups (docs/performance.md, "CPU per
 * execution"): the one-file readers give what stats() gives; a fresh v1 cgroup gets its memory
 * limits in an order the kernel accepts without reading the old limit first (with swap accounting,
 * writing memsw below limit_in_bytes is refused); and a cgroup whose maker kills its processes is
 * removed from every hierarchy it joined, after its last task has left, and from none it did not.
 */
const mode = detectCgroupMode();
const PARENT = `runner-codes-test-reads-${process.pid}`;
const HIERARCHIES = mode === 'v2' ? [''] : ['memory', 'pids', 'cpu', 'freezer'];
const dir = (controller: string, name: string): string => join('/sys/fs/cgroup', controller, PARENT, name);
const read = (file: string): string => readFileSync(file, 'utf8').trim();

describe('per-execution cgroup reads and removal', { skip: mode === 'none' || process.getuid?.() !== 0 ? 'needs root and cgroups' : false }, () => {
  after(() => {
    for (const controller of HIERARCHIES) {
      try {
        rmdirSync(join('/sys/fs/cgroup', controller, PARENT));
      } catch {
        // not created on this hierarchy
      }
    }
  });

  it('oomKills() and memoryCurrentBytes() read what stats() reads', async () => {
    const driver = openCgroupDriver(PARENT);
    const cgroup = driver.create('rc-reads-1', { memoryBytes: 64 << 20, pids: 16, cpus: 1 });
    // A process in it, so that memory is charged and stays put while it sleeps.
    const child = spawn('/bin/sh', ['-c', 'read _; sleep 30'], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      for (const file of cgroup.procsFiles) writeFileSync(file, String(child.pid));
      child.stdin!.write('go\n');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const stats = cgroup.stats();
      assert.equal(cgroup.oomKills(), stats.oomKills);
      assert.equal(stats.oomKills, 0);
      const current = cgroup.memoryCurrentBytes();
      assert.ok(current !== null && current > 0, `memory is charged: ${current}`);
      assert.ok(stats.memoryCurrentBytes !== null && Math.abs(current - stats.memoryCurrentBytes) < 4 << 20, `${current} against ${stats.memoryCurrentBytes}`);
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
      await cgroup.destroy();
    }
  });

  it('a fresh cgroup gets its memory limits without the old one read, in an order the kernel accepts', { skip: mode !== 'v1' ? 'cgroup v1 only' : false }, async () => {
    const driver = openCgroupDriver(PARENT);
    const cgroup = driver.create('rc-reads-2', { memoryBytes: 96 << 20, pids: 16, cpus: 1 });
    try {
      const memory = dir('memory', 'rc-reads-2');
      assert.equal(read(join(memory, 'memory.limit_in_bytes')), String(96 << 20));
      if (existsSync(join(memory, 'memory.memsw.limit_in_bytes'))) assert.equal(read(join(memory, 'memory.memsw.limit_in_bytes')), String(96 << 20));
      // Raised and lowered again on the live cgroup (the warm pool's take): each order is accepted.
      cgroup.setLimits({ memoryBytes: 160 << 20, pids: 16, cpus: 1 });
      assert.equal(read(join(memory, 'memory.limit_in_bytes')), String(160 << 20));
      cgroup.setLimits({ memoryBytes: 32 << 20, pids: 16, cpus: 1 });
      assert.equal(read(join(memory, 'memory.limit_in_bytes')), String(32 << 20));
    } finally {
      await cgroup.destroy();
    }
  });

  it('a cgroup its maker kills is removed from every hierarchy it joined once its tasks have left', async () => {
    const driver = openCgroupDriver(PARENT);
    const cgroup = driver.create('rc-reads-3', { memoryBytes: 64 << 20, pids: 16, cpus: 1 }, { killAll: false });
    const joined = mode === 'v2' ? [''] : ['memory', 'pids', 'cpu'];
    const child = spawn('/bin/sh', ['-c', 'read _; sleep 30 & sleep 30 & wait'], { stdio: ['pipe', 'ignore', 'ignore'] });
    for (const file of cgroup.procsFiles) writeFileSync(file, String(child.pid));
    child.stdin!.write('go\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const pids = read(join(dir(mode === 'v2' ? '' : 'pids', 'rc-reads-3'), 'cgroup.procs')).split('\n').map(Number);
    assert.equal(pids.length, 3, 'the shell and its two sleeps are in the cgroup');
    // The maker's kill: every task, at once (as a pid namespace's init's death does).
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await cgroup.destroy();
    for (const controller of joined) assert.equal(existsSync(dir(controller, 'rc-reads-3')), false, `${controller || 'v2'}: removed`);
    if (mode === 'v1') assert.equal(existsSync(dir('freezer', 'rc-reads-3')), false, 'no freezer directory was made');
    assert.deepEqual(driver.list(), []);
  });
});
