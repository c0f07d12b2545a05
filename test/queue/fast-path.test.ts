import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { TestRedis } from '../helpers/redis-server.js';
import { QueueProcess } from '../helpers/queue-processes.js';
import { get, post } from '../helpers/server.js';
import { DirectReplies } from '../../src/queue/direct-reply.js';
import { QueueKeys } from '../../src/queue/queue-keys.js';
import { JobEvents, LAZY_READ_MS } from '../../src/queue/job-events.js';

/*
 * The queue's hot path (docs/queue.md, "The hot path"), watched from Redis itself with MONITOR and a
 * pub/sub subscriber: a real redis-server, a real worker and API process. On main the worker's
 * moveToActive goes over another connection than its blocking wait (two round trips), and no worker
 * publishes a result to an API: both tests of the path fail there.
 */
const redis = await TestRedis.start();
const worker = await QueueProcess.worker(redis.url, ['--concurrency', '1', '--pool-size', '1', '--languages', 'python', '--worker-id', 'fast-w1']);
const api = await QueueProcess.api(redis.url);

/** Redis's MONITOR feed while `run` runs: one entry per command, with the client's address. */
async function monitored(run: () => Promise<void>): Promise<{ client: string; args: string[] }[]> {
  const base = new Redis(redis.url);
  const monitor = await base.monitor();
  const seen: { client: string; args: string[] }[] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ client: source, args }));
  try {
    await run();
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    monitor.disconnect();
    base.disconnect();
  }
  return seen;
}

describe('the queue hot path', () => {
  it('an idle worker takes a job over one connection: moveToActive is queued right behind its blocking wait', async () => {
    // Idle first: the worker is blocked on the queue's marker when the job comes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const commands = await monitored(async () => {
      const reply = await post(api.base, '/api/v1/execute', { language: 'python', code: 'print("hot")' });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.equal(reply.body.stdout, 'hot\n');
    });
    const waits = commands.filter((c) => c.args[0]?.toLowerCase() === 'bzpopmin' && c.args[1] === `rc:${worker.queue}:marker`);
    // moveToActive: BullMQ's script with 11 keys, the first the queue's wait list.
    const takes = commands.filter((c) => c.args[0]?.toLowerCase() === 'evalsha' && c.args[2] === '11' && c.args[3] === `rc:${worker.queue}:wait`);
    assert.ok(waits.length > 0 && takes.length > 0, `saw ${waits.length} waits and ${takes.length} moveToActive`);
    const waiting = new Set(waits.map((c) => c.client));
    assert.ok(
      takes.some((c) => waiting.has(c.client)),
      `moveToActive from ${takes.map((c) => c.client).join(', ')}, the blocking wait from ${[...waiting].join(', ')}`,
    );
  });

  it('a synchronous job\'s result is published to the waiting API replica before BullMQ records it', async () => {
    const subscriber = new Redis(redis.url);
    const messages: { channel: string; message: string }[] = [];
    subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => messages.push({ channel, message }));
    await subscriber.psubscribe('rc:reply:*');
    try {
      const commands = await monitored(async () => {
        const reply = await post(api.base, '/api/v1/execute', { language: 'python', code: 'print(6*7)' });
        assert.equal(reply.status, 200, JSON.stringify(reply.body));
        assert.equal(reply.body.stdout, '42\n');
      });
      assert.equal(messages.length, 1, JSON.stringify(messages));
      const published = JSON.parse(messages[0]!.message) as { queue: string; jobId: string; state: string; value: { stdout: string } };
      assert.equal(published.state, 'completed');
      assert.equal(published.queue, worker.queue);
      assert.equal(published.value.stdout, '42\n');
      // The publish (in the lock-checked script) comes before BullMQ's moveToFinished (14 keys) of that job.
      const publish = commands.findIndex((c) => c.args[0]?.toUpperCase() === 'PUBLISH' && c.args[1] === messages[0]!.channel);
      const finish = commands.findIndex((c) => c.args[0]?.toLowerCase() === 'evalsha' && c.args[2] === '14' && c.args.includes(published.jobId));
      assert.ok(publish >= 0 && finish >= 0 && publish < finish, `publish at ${publish}, moveToFinished at ${finish}`);
    } finally {
      subscriber.disconnect();
    }
  });

  it('synchronous jobs, answered over pub/sub, do not wake the API\'s events reader for each of their events', async () => {
    await post(api.base, '/api/v1/execute', { language: 'python', code: 'print(0)' });
    const jobs = 12;
    let elapsed = 0;
    const commands = await monitored(async () => {
      const started = Date.now();
      for (let i = 0; i < jobs; i++) {
        const reply = await post(api.base, '/api/v1/execute', { language: 'python', code: `print(${i})` });
        assert.equal(reply.status, 200, JSON.stringify(reply.body));
        assert.equal(reply.body.stdout, `${i}\n`);
      }
      elapsed = Date.now() - started;
    });
    const reads = commands.filter((c) => c.args[0]?.toLowerCase() === 'xread' && c.args.includes(`rc:${worker.queue}:events`));
    // Each job appends added, waiting, active and completed events: read as they come (main), that is
    // two or three reads per job; read lazily, one per LAZY_READ_MS at most (and the monitor's tail).
    assert.ok(reads.length <= Math.ceil((elapsed + 200) / LAZY_READ_MS) + 1, `${reads.length} reads of the events stream for ${jobs} jobs in ${elapsed} ms`);
    assert.ok(reads.length < jobs, `${reads.length} reads of the events stream for ${jobs} jobs`);
  });

  it('a synchronous job whose direct reply never comes is still resolved from the events stream', async () => {
    const keys = new QueueKeys('rc');
    const client = new Redis(redis.url);
    const events = new JobEvents({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null }, client, keys);
    try {
      await events.ready('exec-lazy-test');
      const waiter = events.wait('exec-lazy-test', 'job-lazy');
      const sent = Date.now();
      // What BullMQ's moveToFinished appends for a completed job.
      await client.xadd(keys.events('exec-lazy-test'), '*', 'event', 'completed', 'jobId', 'job-lazy', 'returnvalue', JSON.stringify({ stdout: 'from the stream' }), 'prev', 'active');
      const outcome = await waiter.outcome;
      assert.deepEqual(outcome, { state: 'completed', value: { stdout: 'from the stream' } });
      assert.ok(Date.now() - sent < LAZY_READ_MS + 2000, `resolved after ${Date.now() - sent} ms`);
      // An eager waiter (a stream's progress, a submission's ?wait=true) cuts a rest short.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const eager = events.wait('exec-lazy-test', 'job-eager', { eager: true });
      await client.xadd(keys.events('exec-lazy-test'), '*', 'event', 'completed', 'jobId', 'job-eager', 'returnvalue', '{}', 'prev', 'active');
      assert.deepEqual(await eager.outcome, { state: 'completed', value: {} });
    } finally {
      await events.close();
      client.disconnect();
    }
  });

  it('a worker that lost its job (its lock is another token now) publishes nothing', async () => {
    const keys = new QueueKeys('rc');
    const client = new Redis(redis.url);
    const subscriber = new Redis(redis.url);
    const messages: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    await subscriber.subscribe(keys.reply('lock-test'));
    try {
      await client.set(keys.lock('exec-lock-test', 'job-1'), 'worker-b:0', 'PX', 10_000);
      const replies = new DirectReplies(client, keys);
      await replies.send('lock-test', 'worker-a:0', { queue: 'exec-lock-test', jobId: 'job-1', state: 'completed', value: { stdout: 'late' } });
      await replies.send('lock-test', 'worker-b:0', { queue: 'exec-lock-test', jobId: 'job-1', state: 'completed', value: { stdout: 'holder' } });
      const deadline = Date.now() + 5000;
      while (messages.length < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(messages.map((m) => (JSON.parse(m) as { value: { stdout: string } }).value.stdout), ['holder']);
    } finally {
      subscriber.disconnect();
      client.disconnect();
    }
  });

  it('a submission taken by an idle worker keeps its true start time (not when the worker began to wait)', async () => {
    // The worker has waited idle for over a second: its queued moveToActive was sent then.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const before = Date.now();
    const created = await post(api.base, '/api/v1/submissions', { language: 'python', code: 'print(1)' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const record = await get(api.base, `/api/v1/submissions/${created.body.token}?wait=true`);
    assert.equal(record.status, 200, JSON.stringify(record.body));
    assert.equal(record.body.status, 'done', JSON.stringify(record.body));
    const started = Date.parse(record.body.started_at);
    assert.ok(started >= before - 50, `started_at ${record.body.started_at} is before the submission was made (${new Date(before).toISOString()})`);
  });
});
