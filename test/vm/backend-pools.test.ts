import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { dataPaths } from '../../src/config/paths.js';
import type { ServicePoolStats } from '../../src/engine/service.js';
import { vmPaths } from '../../src/images/vm/paths.js';
import { descendants } from '../../src/bench/host-probe.js';
import { hostCapabilities } from '../../src/sandbox/availability.js';
import { ownerOf } from '../../src/sandbox/names.js';
import { get, post, testServer, type Reply } from '../helpers/server.js';

/**
 * Every backend the server offers has its own warm pool per image: a request that picks QEMU takes a
 * VM booted ahead of it (TCG here: seconds per boot), the default backend's pool is left as it was,
 * and the two pools share one budget in which the default backend's comes first. Real bwrap
 * sandboxes, real QEMU microVMs, a real server on loopback. Needs `setup --vm` (as the other VM tests).
 */
const paths = dataPaths();
const qemu = hostCapabilities(paths).backends.qemu;
const skip = qemu.usable || process.env.CI === 'true' ? false : `needs the QEMU backend: ${qemu.reason}`;

type ImageEntry = ServicePoolStats['images'][number];

/** This process's QEMU processes and VM directories (other test files may run VMs beside it). */
const ourQemus = (): number[] => descendants(process.pid).filter((p) => p.comm.startsWith('qemu')).map((p) => p.pid);
const ourVmDirs = (): string[] => readdirSync(vmPaths(paths).runDir).filter((name) => ownerOf(name) === process.pid);

describe('a warm pool for every backend the server offers', { skip }, async () => {
  // Room for 3: bwrap's python, and two booted python VMs (pool_backend_sizes qemu=2).
  const server = await testServer({ allowedBackends: ['qemu'], poolSize: 1, poolBackendSizes: ['qemu=2'], poolWarm: ['python'], poolMaxIdle: 3, poolMaxIdleMemoryMb: 4096 });
  after(async () => {
    // testServer's own after() closes the server and asserts no cgroup, sandbox process or mount is left.
    await server.close();
    await sleep(200);
    assert.deepEqual(ourQemus(), [], 'no QEMU process outlives the server');
    assert.deepEqual(ourVmDirs(), [], 'no VM directory is left');
  });

  const pool = async (): Promise<ServicePoolStats> => (await get(server.base, '/api/v1/pool')).body;
  const entry = async (backend: string, image: string): Promise<ImageEntry | undefined> => (await pool()).images.find((p) => p.backend === backend && p.image === image);
  const until = async (what: string, done: () => Promise<boolean>, ms = 120_000): Promise<void> => {
    for (const deadline = Date.now() + ms; !(await done()); await sleep(200)) assert.ok(Date.now() < deadline, `${what}: ${JSON.stringify(await pool())}`);
  };
  const PYTHON = { language: 'python', code: 'print("hi")\n' };
  const ok = (reply: Reply): Reply => {
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.status, 'success', JSON.stringify(reply.body));
    return reply;
  };

  it('serves a request that picks QEMU from a VM booted ahead of it, much faster than a cold boot, leaving the default pool as it was', async (t) => {
    await until('both backends warmed python', async () => (await entry('bwrap', 'python'))?.idle === 1 && (await entry('qemu', 'python'))?.idle === 2);
    const bwrapBefore = await entry('bwrap', 'python');
    assert.ok(ourQemus().length >= 2 && ourVmDirs().length >= 2, 'the warm VMs are this process\'s QEMUs (what the after hook checks are gone)');

    const warm = ok(await post(server.base, '/api/v1/execute', { ...PYTHON, backend: 'qemu' }));
    assert.equal(warm.body.stdout, 'hi\n');
    const qemuAfter = (await entry('qemu', 'python'))!;
    assert.equal(qemuAfter.hits, 1, 'the VM came from the qemu pool');
    assert.equal(qemuAfter.misses, 0);
    assert.deepEqual(await entry('bwrap', 'python'), bwrapBefore, 'the default backend\'s pool is untouched by a qemu request');

    // A cold boot to compare with: limits whose RAM no warm VM has (fixed at boot) miss the pool.
    await until('the qemu pool refilled', async () => (await entry('qemu', 'python'))?.idle === 2);
    const cold = ok(await post(server.base, '/api/v1/execute', { ...PYTHON, backend: 'qemu', memory: 320 }));
    assert.equal((await entry('qemu', 'python'))!.misses, 1, 'the 320 MiB request booted cold');
    const [warmMs, coldMs] = [warm.body.timings.load_ms, cold.body.timings.load_ms];
    t.diagnostic(`warm VM ready in ${warmMs} ms, a cold boot in ${coldMs} ms`);
    assert.ok(warmMs * 3 < coldMs, `warm VM ready in ${warmMs} ms, a cold boot in ${coldMs} ms`);

    const metrics = (await get(server.base, '/metrics')).text;
    assert.match(metrics, /^runner_codes_pool_hits_total\{backend="qemu",image="python"\} 1$/m);
    assert.match(metrics, /^runner_codes_pool_idle_sandboxes\{backend="bwrap",image="python"\} 1$/m);
    assert.match(metrics, /^runner_codes_pool_idle_memory_bytes\{backend="qemu"\} [1-9]\d*$/m);
    const ready = (await get(server.base, '/ready')).body;
    assert.deepEqual([ready.backend, ready.backends], ['bwrap', ['bwrap', 'qemu']]);
  });

  it('keeps every pool within one budget, and the default backend\'s pool takes room back from warm VMs', async () => {
    const before = await pool();
    assert.equal(before.max_idle, 3);
    assert.ok(before.idle_total <= 3, JSON.stringify(before));
    // bash is a new image for bwrap's pool: its refill finds the budget full of VMs and evicts one.
    ok(await post(server.base, '/api/v1/execute', { language: 'bash', code: 'echo default' }));
    await until('the default backend\'s bash pool filled', async () => (await entry('bwrap', 'base'))?.idle === 1, 30_000);
    const after = await pool();
    const evicted = after.images.filter((p) => p.backend === 'qemu').reduce((sum, p) => sum + p.evicted, 0);
    assert.ok(evicted >= 1, `a warm VM made room: ${JSON.stringify(after)}`);
    assert.ok(after.images.reduce((sum, p) => sum + p.idle + p.starting, 0) <= 3, `within max_idle: ${JSON.stringify(after)}`);
    assert.equal((await entry('bwrap', 'python'))!.idle, 1, 'the default backend\'s other image kept its sandbox');
  });
});
