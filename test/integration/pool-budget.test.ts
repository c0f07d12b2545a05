import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEngine } from '../../src/compose/open-engine.js';
import { openService } from '../../src/compose/open-service.js';
import type { Engine } from '../../src/engine/engine.js';
import { PoolBudget } from '../../src/engine/pool-budget.js';
import type { PoolImageStats, PoolOptions } from '../../src/engine/pool.js';
import { isRunnerError } from '../../src/errors.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';

/**
 * Pools that share one budget (as every backend's pool of one service does, compose/open-service.ts),
 * with real bwrap sandboxes: two engines stand for the default backend and a further one, ranked in
 * the order their pools join the budget. The same with a real QEMU pool: test/vm/backend-pools.test.ts.
 */
const settings = (budget: PoolBudget, options: Partial<PoolOptions>): PoolOptions => ({ defaultSize: 1, maxIdle: budget.maxIdle, idleTtlMs: 60_000, shrinkAfterMs: 60_000, budget, ...options });

async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await sleep(10);
  assert.ok(done(), what);
}

const imageStats = (engine: Engine, image: string) => engine.pool!.stats().images.find((p) => p.image === image);
const MIB = 1024 * 1024;

after(() => assert.deepEqual(leftovers(), NOTHING_LEFT));

describe('pools sharing one budget', () => {
  it('keeps every pool together within max_idle, and a lower-ranked pool gives way to the first one', async () => {
    const budget = new PoolBudget({ maxIdle: 2 });
    const first = await openEngine({ backend: 'bwrap', pool: settings(budget, {}) });
    // The lower-ranked pool is warm and asks for the whole budget before the first one needs anything.
    const second = await openEngine({ backend: 'bwrap', pool: settings(budget, { defaultSize: 2, warm: ['base'] }) });
    try {
      await until('the second pool filled the budget', () => second.pool!.stats().idle_total === 2);
      assert.equal(first.pool!.stats().max_idle, 2, 'both report the shared cap');

      const result = await first.execute({ language: 'bash', code: 'echo first' });
      assert.equal(result.stdout, 'first\n', JSON.stringify(result.error));
      // The first pool's refill evicts the second's oldest idle sandbox instead of waiting for room.
      await until('the first pool refilled', () => first.pool!.stats().idle_total === 1);
      assert.equal(imageStats(second, 'base')!.evicted, 1);
      assert.equal(second.pool!.stats().idle_total, 1);

      // The second pool, one short of its target, does not take back the room the first one holds.
      await sleep(300);
      assert.deepEqual([first.pool!.stats().idle_total, second.pool!.stats().idle_total], [1, 1]);
      const again = await second.execute({ language: 'bash', code: 'echo second' });
      assert.equal(again.stdout, 'second\n');
      await sleep(300);
      assert.ok(first.pool!.stats().idle_total + second.pool!.stats().idle_total <= 2, 'never more than max_idle over both pools');
      assert.equal(imageStats(first, 'base')!.evicted, 0, 'a higher-ranked pool is never evicted for a lower one');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });

  it('leaves room a higher-ranked pool still lacks for its targets', async () => {
    const budget = new PoolBudget({ maxIdle: 3 });
    // The first pool's warm image wants 2; the second may take only what is left: 1 of its 3.
    const first = await openEngine({ backend: 'bwrap', pool: settings(budget, { defaultSize: 2, warm: ['base'] }) });
    const second = await openEngine({ backend: 'bwrap', pool: settings(budget, { defaultSize: 3, warm: ['base'] }) });
    try {
      await until('both pools filled', () => first.pool!.stats().idle_total === 2 && second.pool!.stats().idle_total === 1);
      await sleep(300);
      assert.equal(second.pool!.stats().idle_total, 1);
      assert.equal(imageStats(first, 'base')!.evicted + imageStats(second, 'base')!.evicted, 0, 'no eviction was needed');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('holds one memory cap over every pool: what one pool\'s idle sandboxes take, another cannot', async () => {
    // A cap one sandbox exceeds: the first pool's first sandbox starts (nothing is charged yet), then nothing more.
    const budget = new PoolBudget({ maxIdle: 8, maxIdleMemoryBytes: 1 });
    const first = await openEngine({ backend: 'bwrap', pool: settings(budget, { defaultSize: 2, warm: ['base'] }) });
    let second: Engine | undefined;
    try {
      await until('the first pool started its first sandbox', () => first.pool!.stats().idle_total === 1);
      second = await openEngine({ backend: 'bwrap', pool: settings(budget, { defaultSize: 2, warm: ['base'] }) });
      await sleep(500);
      assert.ok(first.pool!.stats().idle_memory_bytes > 1, 'an idle sandbox is charged some memory');
      assert.deepEqual([first.pool!.stats().idle_total, second.pool!.stats().idle_total], [1, 0], 'the cap covers both pools, not each');
      assert.equal(imageStats(second, 'base')!.target, 2);
    } finally {
      await Promise.all([first.close(), second?.close()]);
    }
  });

  it('expects of each image what its own idle sandboxes were seen charged, not the most of any image', async (t) => {
    const budget = new PoolBudget({ maxIdle: 4 });
    const engine = await openEngine({ backend: 'bwrap', pool: settings(budget, { warm: ['base', 'node'] }) });
    try {
      await until('a bash and a pre-started node sandbox idle and measured', () =>
        ['base', 'node'].every((image) => imageStats(engine, image)?.idle === 1 && imageStats(engine, image)!.expected_memory_bytes > 0),
      );
      const stats = engine.pool!.stats();
      const [bash, node] = ['base', 'node'].map((image) => stats.images.find((p) => p.image === image)!) as [PoolImageStats, PoolImageStats];
      const shown = JSON.stringify({ bash, node });
      t.diagnostic(`idle charge, expected: bash ${bash.idle_memory_bytes}, ${bash.expected_memory_bytes}; node ${node.idle_memory_bytes}, ${node.expected_memory_bytes}`);
      assert.equal(stats.idle_memory_bytes, bash.idle_memory_bytes + node.idle_memory_bytes, shown);
      for (const image of [bash, node]) assert.ok(image.idle_memory_bytes > 0 && image.expected_memory_bytes >= image.idle_memory_bytes, shown);
      // bash and the agent: under 1 MiB; node's heap alone is over 8 MiB.
      assert.ok(node.expected_memory_bytes > 4 * bash.expected_memory_bytes, shown);
    } finally {
      await engine.close();
    }
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });

  it('starts no sandbox whose image\'s expected charge would take the pools past the memory cap', async (t) => {
    // Two idle bash sandboxes (under 1 MiB each) fit; a pre-started node one (over 8 MiB) beside them does not.
    const cap = 6 * MIB;
    const budget = new PoolBudget({ maxIdle: 8, maxIdleMemoryBytes: cap });
    const engine = await openEngine({ backend: 'bwrap', pool: settings(budget, { sizes: { base: 2, node: 1 }, warm: ['base'] }) });
    const pooledNode = () => (imageStats(engine, 'node')?.idle ?? 0) + (imageStats(engine, 'node')?.starting ?? 0);
    try {
      await until('two bash sandboxes idle', () => imageStats(engine, 'base')?.idle === 2);
      // Node's first sandbox starts while nothing of node has been measured and the cap has room left.
      const cold = await engine.execute({ language: 'javascript', code: 'console.log(1)' });
      assert.equal(cold.stdout, '1\n', JSON.stringify(cold.error));
      await until('the node sandbox idle', () => imageStats(engine, 'node')?.idle === 1);
      await sleep(100);
      const charged = engine.pool!.stats().idle_memory_bytes;
      assert.ok(charged > cap, `the two bash sandboxes and the node one are charged ${charged}, over the ${cap} cap`);
      t.diagnostic(`two bash and one node sandbox idle: ${charged} bytes charged`);

      // Measured now: once this one is taken, the next would not fit beside the two bash sandboxes.
      const warm = await engine.execute({ language: 'javascript', code: 'console.log(2)' });
      assert.equal(warm.stdout, '2\n', JSON.stringify(warm.error));
      assert.equal(imageStats(engine, 'node')!.hits, 1);
      // A bash sandbox taken is replaced: another bash one still fits, whatever node takes.
      const bash = await engine.execute({ language: 'bash', code: 'echo 3' });
      assert.equal(bash.stdout, '3\n', JSON.stringify(bash.error));
      for (let i = 0; i < 200; i++) {
        assert.equal(pooledNode(), 0, 'no node sandbox is started past the cap');
        await sleep(10);
      }
      await until('the bash sandbox replaced', () => imageStats(engine, 'base')?.idle === 2);
      const stats = engine.pool!.stats();
      assert.equal(pooledNode(), 0);
      assert.equal(imageStats(engine, 'node')!.target, 1, 'node still wants its sandbox');
      assert.ok(stats.idle_memory_bytes <= cap, `idle ${stats.idle_memory_bytes} within ${cap}`);
    } finally {
      await engine.close();
    }
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });

  it('refuses pool sizes for a backend the service does not offer, naming it, and leaves nothing behind', async () => {
    await assert.rejects(
      openService({ engine: { backend: 'bwrap', pool: { defaultSize: 1, warm: ['base'], maxIdle: 2, idleTtlMs: 60_000, shrinkAfterMs: 60_000 }, poolSizes: { qemu: { defaultSize: 1 } } }, concurrency: 1, maxQueued: 0 }),
      (err: unknown) => isRunnerError(err) && err.code === 'RC_ERR_CONFIG' && /pool sizes name 'qemu', which this server does not offer \(offered: bwrap\)/.test(err.message),
    );
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });
});

describe('pool sizes per backend (whichever backend an engine opens)', () => {
  // maxIdle 1: the targets are what is checked; few sandboxes need to start for them.
  const shared: PoolOptions = { defaultSize: 1, sizes: { python: 3 }, warm: ['base', 'python'], maxIdle: 1, idleTtlMs: 60_000, shrinkAfterMs: 60_000 };
  const targets = (engine: Engine) => Object.fromEntries(engine.pool!.stats().images.map((p) => [p.image, p.target]));

  it('takes the shared sizes, a backend\'s own sizes merged over them, or its own default size in place of them', async () => {
    const plain = await openEngine({ backend: 'bwrap', pool: shared, poolSizes: { qemu: { defaultSize: 0 } } });
    const merged = await openEngine({ backend: 'bwrap', pool: shared, poolSizes: { bwrap: { sizes: { base: 2 } } } });
    const own = await openEngine({ backend: 'bwrap', pool: shared, poolSizes: { bwrap: { defaultSize: 2 } } });
    const none = await openEngine({ backend: 'bwrap', pool: shared, poolSizes: { bwrap: { defaultSize: 0 } } });
    try {
      assert.deepEqual(targets(plain), { base: 1, python: 3 }, 'another backend\'s sizes do not apply');
      assert.deepEqual(targets(merged), { base: 2, python: 3 });
      assert.deepEqual(targets(own), { base: 2, python: 2 }, 'a size naming the backend wins over the plain per-language one');
      assert.equal(none.pool, undefined, 'defaultSize 0 and no sizes of its own: no pool on that backend');
    } finally {
      await Promise.all([plain, merged, own, none].map((engine) => engine.close()));
    }
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });
});
