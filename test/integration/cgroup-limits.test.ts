import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroupMode, openCgroupDriver } from '../../src/sandbox/cgroup/detect.js';

/**
 * A warm sandbox taken with the limits it started with (a request without limits of its own) keeps
 * its cgroup as it is: the 0.2-0.3 ms of cgroup writes are off the request's path (docs/performance.md,
 * the request path). Other limits are still written.
 */
const mode = detectCgroupMode();
const PARENT = `runner-codes-test-limits-${process.pid}`;
const pidsFile = (name: string): string => join('/sys/fs/cgroup', mode === 'v2' ? '' : 'pids', PARENT, name, 'pids.max');
const pidsMax = (name: string): string => readFileSync(pidsFile(name), 'utf8').trim();
const setPidsMax = (name: string, value: number): void => writeFileSync(pidsFile(name), String(value));

describe('cgroup limits of a warm sandbox', { skip: mode === 'none' || process.getuid?.() !== 0 ? 'needs root and cgroups' : false }, () => {
  it('setLimits with the limits the cgroup already holds writes nothing; other limits are written', async () => {
    const driver = openCgroupDriver(PARENT);
    const limits = { memoryBytes: 64 << 20, pids: 32, cpus: 1 };
    const cgroup = driver.create('rc-limits-1', limits);
    try {
      assert.equal(pidsMax('rc-limits-1'), '32');
      // Changed behind the driver's back (nothing but the engine writes these files in practice):
      // the same limits again leave the file alone, which shows that nothing was written.
      setPidsMax('rc-limits-1', 31);
      cgroup.setLimits({ ...limits });
      assert.equal(pidsMax('rc-limits-1'), '31', 'the same limits again: no write');
      cgroup.setLimits({ ...limits, pids: 16 });
      assert.equal(pidsMax('rc-limits-1'), '16', 'other limits: written');
      cgroup.setLimits({ ...limits });
      assert.equal(pidsMax('rc-limits-1'), '32', 'back to the first ones: written');
    } finally {
      await cgroup.destroy();
      for (const controller of mode === 'v2' ? [''] : ['memory', 'pids', 'cpu', 'freezer']) {
        try {
          rmdirSync(join('/sys/fs/cgroup', controller, PARENT));
        } catch {
          // not created on this hierarchy
        }
      }
    }
  });
});
