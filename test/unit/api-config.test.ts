import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultApiConfig, exposureWarning, isLoopback, loadApiConfig } from '../../src/api/config.js';
import { poolOptionsFor } from '../../src/api/engine-options.js';
import { ExecutionQueue } from '../../src/engine/queue.js';

describe('API configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rc-config-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ port: 9000, host: '0.0.0.0', concurrency: 3, api_keys: ['from-file'] }));

  it('takes flag > environment > config file > default', () => {
    const config = loadApiConfig({ port: '9200' }, { RUNNER_CODES_PORT: '9100', RUNNER_CODES_CONCURRENCY: '5' }, file);
    assert.equal(config.port, 9200);
    assert.equal(config.concurrency, 5);
    assert.equal(config.host, '0.0.0.0');
    assert.deepEqual(config.apiKeys, ['from-file']);
    assert.equal(config.queueLimit, defaultApiConfig().queueLimit);
    assert.deepEqual(loadApiConfig({}, { RUNNER_CODES_API_KEYS: 'a, b,,c' }).apiKeys, ['a', 'b', 'c']);
  });

  it('names the option at fault', () => {
    assert.throws(() => loadApiConfig({ port: 'eighty' }, {}), /^RunnerError: --port: 'eighty' is not a whole number$/);
    assert.throws(() => loadApiConfig({}, { RUNNER_CODES_PORT: '70000' }), /RUNNER_CODES_PORT: must be at most 65535/);
    assert.throws(() => loadApiConfig({}, { RUNNER_CODES_LOG_LEVEL: 'loud' }), /RUNNER_CODES_LOG_LEVEL: must be one of fatal/);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ prot: 1 }));
    assert.throws(() => loadApiConfig({}, {}, join(dir, 'bad.json')), /unknown option 'prot'/);
    assert.throws(() => loadApiConfig({}, {}, join(dir, 'missing.json')), /cannot read the config file/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('warns when reachable from other hosts without API keys', () => {
    assert.match(exposureWarning({ host: '0.0.0.0', apiKeys: [] }) ?? '', /^WARNING: serving on 0.0.0.0 without API keys/);
    assert.equal(exposureWarning({ host: '0.0.0.0', apiKeys: ['k'] }), null);
    assert.equal(exposureWarning({ host: '127.0.0.1', apiKeys: [] }), null);
  });

  it('knows loopback addresses', () => {
    assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost') && isLoopback('127.1.2.3'));
    assert.ok(!isLoopback('0.0.0.0') && !isLoopback('10.0.0.1') && !isLoopback('::'));
  });
});

describe('execution queue', () => {
  it('runs at most `concurrency` tasks, queues up to the limit, refuses beyond', async () => {
    const queue = new ExecutionQueue({ concurrency: 2, maxQueued: 1 });
    let running = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const task = (): Promise<void> =>
      new Promise((resolve) => {
        running++;
        peak = Math.max(peak, running);
        release.push(() => {
          running--;
          resolve();
        });
      });
    const a = queue.run(task);
    const b = queue.run(task);
    const c = queue.run(task);
    assert.equal(queue.queued, 1);
    assert.equal(queue.canAccept(1), false);
    await assert.rejects(queue.run(task), /all 2 execution slots are busy and 1 requests are waiting/);
    release.shift()!();
    await a;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(queue.queued, 0);
    release.shift()!();
    release.shift()!();
    await Promise.all([b, c]);
    assert.equal(peak, 2);
    assert.equal(queue.running, 0);
  });

  it('drops an aborted waiter without running it, and refuses everything after close()', async () => {
    const queue = new ExecutionQueue({ concurrency: 1, maxQueued: 5 });
    let finish!: () => void;
    const first = queue.run(() => new Promise<void>((resolve) => (finish = resolve)));
    const controller = new AbortController();
    let ran = false;
    const second = queue.run(async () => {
      ran = true;
    }, controller.signal);
    controller.abort();
    await assert.rejects(second, { code: 'RC_ERR_CANCELLED' });
    const third = queue.run(async () => undefined);
    queue.close();
    await assert.rejects(third, { code: 'RC_ERR_SHUTTING_DOWN' });
    await assert.rejects(queue.run(async () => undefined), { code: 'RC_ERR_SHUTTING_DOWN' });
    finish();
    await first;
    assert.equal(ran, false);
    assert.equal(queue.running, 0);
  });
});

describe('docs/api.md', () => {
  it('documents every server option with its flag, environment variable and config key', async () => {
    const { readFileSync } = await import('node:fs');
    const { packageRoot } = await import('../../src/config/paths.js');
    const { API_OPTIONS } = await import('../../src/api/config.js');
    const doc = readFileSync(join(packageRoot, 'docs', 'api.md'), 'utf8');
    for (const o of API_OPTIONS) assert.ok(doc.includes(`| \`${o.flag}\` | \`${o.env}\` | \`${o.file}\` |`), o.flag);
  });
});

describe('pool sizes per backend', () => {
  const config = (overrides: Partial<ReturnType<typeof defaultApiConfig>>) => ({ ...defaultApiConfig(), ...overrides });

  it('holds pool_size and plain pool_sizes for every backend, and BACKEND=N or BACKEND:LANG=N for one', () => {
    const { pool, poolSizes } = poolOptionsFor(config({ poolSize: 2, poolSizes: ['python=4', 'qemu:c=1', 'qemu:python=2'], poolBackendSizes: ['qemu=1', 'firecracker=0'] }));
    assert.equal(pool!.defaultSize, 2);
    assert.deepEqual(pool!.sizes, { python: 4 });
    assert.deepEqual(poolSizes, { qemu: { sizes: { gcc: 1, python: 2 }, defaultSize: 1 }, firecracker: { sizes: {}, defaultSize: 0 } });
    assert.deepEqual(poolOptionsFor(config({ poolSize: 0 })), {}, 'no sizes at all: no pools');
    assert.equal(poolOptionsFor(config({ poolSize: 0, poolBackendSizes: ['qemu=1'] })).pool!.defaultSize, 0, 'a pool on qemu only');
  });

  it('names the option and the entry at fault', () => {
    assert.throws(() => poolOptionsFor(config({ poolBackendSizes: ['docker=1'] })), /^RunnerError: --pool-backend-sizes: unknown backend 'docker' \(known: bwrap, qemu, firecracker\)$/);
    assert.throws(() => poolOptionsFor(config({ poolBackendSizes: ['qemu'] })), /--pool-backend-sizes: 'qemu' is not BACKEND=N/);
    assert.throws(() => poolOptionsFor(config({ poolSizes: ['qemu:klingon=1'] })), /--pool-sizes: unknown language 'klingon'/);
    assert.throws(() => poolOptionsFor(config({ poolSizes: ['vm:python=1'] })), /--pool-sizes: unknown backend 'vm'/);
    assert.deepEqual(loadApiConfig({}, { RUNNER_CODES_POOL_BACKEND_SIZES: 'qemu=1,bwrap=4' }).poolBackendSizes, ['qemu=1', 'bwrap=4']);
  });
});
