import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_LIMITS } from '../../src/engine/limits.js';
import { openEngine } from '../../src/compose/open-engine.js';
import type { Engine } from '../../src/engine/engine.js';
import { descendants } from '../../src/bench/host-probe.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';

async function pooledEngine(options: { idleTtlMs?: number; shrinkAfterMs?: number; defaultSize?: number } = {}): Promise<Engine> {
  const engine = await openEngine({
    backend: 'bwrap',
    pool: { defaultSize: options.defaultSize ?? 2, warm: ['base'], maxIdle: 8, idleTtlMs: options.idleTtlMs ?? 60_000, shrinkAfterMs: options.shrinkAfterMs ?? 60_000 },
  });
  return engine;
}

async function untilIdle(engine: Engine, idle: number): Promise<void> {
  for (let i = 0; i < 300 && (engine.pool!.stats().idle_total < idle); i++) await sleep(10);
  assert.ok(engine.pool!.stats().idle_total >= idle, `pool reached ${idle} idle`);
}

const agents = (): number[] => descendants(process.pid).filter((p) => p.comm === 'runner-agent').map((p) => p.pid).sort();

after(() => assert.deepEqual(leftovers(), NOTHING_LEFT));

describe('warm pool', () => {
  it('isolates: 100 consecutive runs never see another run\'s files or processes', async () => {
    const engine = await pooledEngine();
    await untilIdle(engine, 2);
    for (let i = 0; i < 100; i++) {
      const result = await engine.execute({
        language: 'bash',
        code: `echo run-${i} > /tmp/mark-${i}; echo x > /work/mark-${i}; echo y > /dev/shm/mark-${i}; sleep 100 & ls -A /tmp /work /dev/shm | grep -c mark; ls /proc | grep -c '^[0-9]'`,
      });
      // Exactly this run's 3 markers; processes: the agent, bash, the background sleep, ls, grep.
      const [marks, processes] = result.stdout.trim().split('\n').map(Number);
      assert.equal(marks, 3, `run ${i}: ${result.stdout}`);
      assert.ok(processes! <= 6, `run ${i} saw ${processes} processes`);
    }
    const stats = engine.pool!.stats();
    assert.ok(stats.images[0]!.hits >= 90, `hits ${stats.images[0]!.hits}`);
    await engine.close();
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });

  it('applies each request\'s limits to the pooled sandbox', async () => {
    const engine = await pooledEngine();
    await untilIdle(engine, 2);
    const hog = 'x=$(head -c 100M /dev/zero | tr "\\0" a); echo ${#x}';
    const oom = await engine.execute({ language: 'bash', code: hog, limits: { memoryMb: 32 } });
    assert.equal(engine.pool!.stats().images[0]!.hits, 1, 'came from the pool');
    assert.equal(oom.oom_killed, true);
    assert.equal(oom.stdout, '');
    const bomb = await engine.execute({ language: 'bash', code: 'for i in $(seq 20); do sleep 5 & done 2>/dev/null; ls /proc | grep -c "^[0-9]"', limits: { pids: 8, timeoutMs: 2000 } });
    assert.ok(Number(bomb.stdout.trim()) <= 8, `pids limit held: ${bomb.stdout}`);
    // Raising a live limit above the pool's default (256 MiB) works too.
    const roomy = await engine.execute({ language: 'bash', code: hog.replace('100M', '300M'), limits: { memoryMb: 1024, timeoutMs: 20_000 } });
    assert.equal(roomy.oom_killed, false);
    assert.equal(roomy.stdout, `${300 * 1024 * 1024}\n`);
    await engine.close();
  });

  it('never hands out a sandbox that died while idle', async () => {
    const engine = await pooledEngine();
    await untilIdle(engine, 2);
    for (const pid of agents()) process.kill(pid, 'SIGKILL');
    await sleep(50);
    const result = await engine.execute({ language: 'bash', code: 'echo alive' });
    assert.equal(result.status, 'success');
    assert.equal(result.stdout, 'alive\n');
    await engine.close();
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });

  it('replaces expired idle sandboxes and shrinks unused images to zero', async () => {
    const engine = await openEngine({ backend: 'bwrap', pool: { defaultSize: 1, maxIdle: 4, idleTtlMs: 300, shrinkAfterMs: 1200 } });
    await engine.execute({ language: 'python', code: 'print(1)' }); // a miss that makes python active
    await untilIdle(engine, 1);
    const first = agents();
    await sleep(800);
    await untilIdle(engine, 1);
    assert.notDeepEqual(agents(), first, 'the expired sandbox was replaced by a fresh one');
    await sleep(2000);
    const stats = engine.pool!.stats();
    assert.equal(stats.images[0]!.target, 0);
    assert.equal(stats.idle_total, 0);
    await engine.close();
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });

  it('hands a sandbox only to limits it started with: bwrap\'s tmpfs sizes are fixed at start', async () => {
    const engine = await openEngine({ backend: 'bwrap', pool: { defaultSize: 1, warm: ['base'], maxIdle: 4, idleTtlMs: 60_000, shrinkAfterMs: 1500 } });
    const pool = engine.pool!;
    const rootfs = engine.images.rootfs('base');
    assert.deepEqual(engine.backend.fixedAtStart, ['diskBytes']);
    await untilIdle(engine, 1);
    const bigger = { ...DEFAULT_LIMITS, diskBytes: 2 * DEFAULT_LIMITS.diskBytes };
    assert.equal(pool.take('base', rootfs, bigger), undefined, 'a warm sandbox with smaller tmpfs mounts is not handed out');
    assert.equal(pool.stats().images[0]!.misses, 1);
    // Its own kind fills; a live limit (memory) may still differ.
    await untilIdle(engine, 2);
    const taken = pool.take('base', rootfs, { ...bigger, memoryBytes: 2 * DEFAULT_LIMITS.memoryBytes });
    assert.ok(taken, 'a pool of the request\'s start limits filled');
    await taken.destroy();
    // Unused, that pool goes (the next maintenance after shrinkAfterMs); the image's own, warm pool stays.
    for (let i = 0; i < 150 && pool.stats().images[0]!.target !== 1; i++) await sleep(100);
    assert.deepEqual({ target: pool.stats().images[0]!.target, idle: pool.stats().idle_total }, { target: 1, idle: 1 });
    await engine.close();
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });
});
