import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/config/paths.js';
import { defaultApiConfig } from '../../src/api/config.js';
import { startQueueServer, type RunningServer } from '../../src/api/server.js';
import type { QueueService } from '../../src/queue/queue-service.js';
import { TestRedis } from '../helpers/redis-server.js';
import { get, type Reply } from '../helpers/server.js';

/*
 * API keys and rate limits shared by two API replicas through a real redis-server (queue mode), and
 * managed with `infra.operator keys`. On main there is no `keys` command, no `--queue`, and each
 * replica counts a key's requests in its own memory: every test here fails there.
 */

const CLI = join(packageRoot, 'dist', 'src', 'cli', 'index.js');
const RATE = 20;
const CONFIG_KEY = 'config-key-of-both-replicas';

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const asKey = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

/** Polls until `check` holds (every 50 ms), returning how long it took; fails past `withinMs`. */
async function within(withinMs: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > withinMs) assert.fail(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Started at the top: TestRedis.start() registers its own stop with after(), which must be the file's.
const redis = await TestRedis.start();

describe('two API replicas share API keys and rate limits through Redis', () => {
  let replicas: RunningServer<QueueService>[];
  const keys = (args: string[]): ReturnType<typeof cli> => cli(['keys', ...args, '--queue', redis.url]);

  before(async () => {
    const config = { ...defaultApiConfig(), port: 0, host: '127.0.0.1', logLevel: 'silent', queue: redis.url, rateLimit: RATE, apiKeys: [CONFIG_KEY] };
    replicas = [await startQueueServer(config, { logger: false }), await startQueueServer(config, { logger: false })];
  });
  after(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
  });

  const call = (replica: number, key: string): Promise<Reply> => get(replicas[replica]!.url, '/api/v1/languages', asKey(key));

  it('a key made with `keys add` works on both replicas at once, is listed without its secret, and is refused by both once removed', async () => {
    const added = await keys(['add', 'ci-bot', '--label', 'the CI pipeline', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const created = JSON.parse(added.stdout) as { key: string; id: string; name: string; label: string };
    assert.match(created.key, /^rc_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.name, 'ci-bot');
    const accepted = await within(1000, 'accepted by both replicas', async () => (await call(0, created.key)).status === 200 && (await call(1, created.key)).status === 200);

    const listed = await keys(['ls', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const records = JSON.parse(listed.stdout) as Record<string, unknown>[];
    assert.deepEqual(records.map((r) => [r.name, r.id, r.label]), [['ci-bot', created.id, 'the CI pipeline']]);
    assert.ok(!listed.stdout.includes(created.key), 'the key itself is never listed');
    // Redis holds the digest only.
    const stored = await redisCli(redis, ['HKEYS', 'rc:api-keys']);
    assert.ok(!stored.includes(created.key) && stored.trim().length === 64, stored);

    const removed = await keys(['rm', 'ci-bot']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /key 'ci-bot' \(id [0-9a-f]{12}\) removed/);
    const refused = await within(1000, 'refused by both replicas', async () => (await call(0, created.key)).status === 401 && (await call(1, created.key)).status === 401);
    assert.equal((await call(1, created.key)).body.error.code, 'RC_ERR_API_KEY_INVALID');
    // The key of the configuration works throughout, next to the shared ones.
    assert.equal((await call(0, CONFIG_KEY)).status, 200);
    process.stderr.write(`# key accepted by both replicas after ${accepted} ms, refused after ${refused} ms\n`);
  });

  it(`a key's ${RATE} requests per minute are one budget over both replicas, not one each`, async () => {
    const added = JSON.parse((await keys(['add', 'budget', '--json'])).stdout) as { key: string };
    await within(1000, 'key live', async () => (await call(0, added.key)).status === 200);
    const statuses: number[] = [];
    // One request made above; 12 more on each replica: one budget of 20 lets 19 of these 24 through.
    for (let i = 0; i < 12; i++) statuses.push((await call(0, added.key)).status, (await call(1, added.key)).status);
    assert.equal(statuses.filter((s) => s === 200).length, RATE - 1, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 24 - (RATE - 1), statuses.join(','));
    const limited = await call(1, added.key);
    assert.equal(limited.body.error.code, 'RC_ERR_RATE_LIMITED');
    assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal((await call(1, CONFIG_KEY)).status, 200, 'another key keeps its own budget');
  });

  it('with Redis down both the key check and the rate limit fail closed (503 + Retry-After, no crash), and recover by themselves', async () => {
    const shared = JSON.parse((await keys(['add', 'outage', '--json'])).stdout) as { key: string };
    await within(1000, 'key live', async () => (await call(0, shared.key)).status === 200);
    await redis.stop();
    for (const replica of [0, 1]) {
      for (const key of [shared.key, CONFIG_KEY, 'not-a-key']) {
        const started = Date.now();
        const reply = await call(replica, key);
        assert.ok(Date.now() - started < 3000, `answered within ${Date.now() - started} ms`);
        assert.equal(reply.status, 503, `${key}: ${JSON.stringify(reply.body)}`);
        assert.equal(reply.body.error.code, 'RC_ERR_QUEUE_UNAVAILABLE');
        assert.ok(Number(reply.headers.get('retry-after')) > 0);
      }
      assert.equal((await get(replicas[replica]!.url, '/health')).status, 200, 'the replica is up');
    }
    await redis.restart();
    // The keys (and their counters) were on Redis's append-only file: nothing is re-added.
    await within(10_000, 'both replicas serve again', async () => (await call(0, shared.key)).status === 200 && (await call(1, shared.key)).status === 200);
    assert.equal((await call(1, 'not-a-key')).status, 401);
  });

  it('`keys` refuses bad input with a message naming the fix, and changes nothing', async () => {
    assert.equal((await keys(['add', 'twice'])).code, 0);
    const again = await keys(['add', 'twice']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /a key named 'twice' exists already/);
    const badName = await keys(['add', 'no spaces/here']);
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /name: must be 1-64 letters/);
    const badLabel = await keys(['add', 'ok-name', '--label', 'bell\u0007']);
    assert.equal(badLabel.code, 2);
    assert.match(badLabel.stderr, /label: must be at most 200 printable characters/);
    const unknown = await keys(['rm', 'nobody']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no key named or with id 'nobody'/);
    const names = (JSON.parse((await keys(['ls', '--json'])).stdout) as { name: string }[]).map((r) => r.name);
    assert.ok(!names.includes('ok-name') && names.filter((n) => n === 'twice').length === 1, names.join(','));

    const noQueue = await cli(['keys', 'ls'], { RUNNER_CODES_QUEUE: '' });
    assert.equal(noQueue.code, 2);
    assert.match(noQueue.stderr, /--queue/);
    const unreachable = await cli(['keys', 'ls', '--queue', 'redis://:s3cret@127.0.0.1:1']);
    assert.notEqual(unreachable.code, 0);
    assert.match(unreachable.stderr, /cannot reach Redis at 127\.0\.0\.1:1/);
    assert.ok(!unreachable.stderr.includes('s3cret'), 'the password is never printed');
  });
});

function redisCli(server: TestRedis, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-p', String(server.port), ...args], (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}
