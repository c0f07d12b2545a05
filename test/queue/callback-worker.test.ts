import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlowProducer, Job, Queue, Worker } from 'bullmq';
import type { SubmissionRecord } from '../../src/engine/submissions/types.js';
import { DEFAULT_CALLBACK_SETTINGS } from '../../src/engine/submissions/submission-settings.js';
import { CALLBACK_LOCK_MS, CALLBACK_STALLED_INTERVAL_MS, CALLBACKS_QUEUE, callbackJobOptions, startCallbackWorker } from '../../src/queue/callback-worker.js';
import { CallbackReceiver } from '../helpers/callback-receiver.js';
import { TestRedis } from '../helpers/redis-server.js';

/**
 * The queue mode's callback consumer on a real redis-server with real BullMQ flows: a parent job in
 * `callbacks` whose child is the exec job (ignoreDependencyOnFailure), delivered to a real receiver
 * on 127.0.0.1 once the child ended — done or failed — signed, retried by BullMQ with backoff.
 * The exec side is a plain BullMQ worker here (the sandbox workers are test/queue's other files).
 */
const redis = await TestRedis.start();
const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
const prefix = 'rc-test';
const EXEC = 'exec-callbacks-test';
const hook = await CallbackReceiver.start();
const settings = { ...DEFAULT_CALLBACK_SETTINGS, allowlist: [`127.0.0.1:${hook.port}`], secret: 'queue-secret', attempts: 3 };

// The exec jobs: "fail" in the data fails the job, anything else returns a result.
const exec = new Worker(
  EXEC,
  async (job) => {
    if (job.data.fail) throw new Error('RC_ERR_WORKER_LOST the worker was lost twice');
    return { status: 'success', stdout: job.data.stdout, exit_code: 0 };
  },
  { connection, prefix },
);
const execQueue = new Queue(EXEC, { connection, prefix });

/** What RedisSubmissions.get does, reduced to what this test needs: the record from the exec job. */
const records = {
  async get(token: string): Promise<SubmissionRecord | undefined> {
    const job = await Job.fromId(execQueue, token);
    if (!job) return undefined;
    const state = await job.getState();
    const base = { token, created_at: new Date(job.timestamp).toISOString() };
    if (state === 'completed') return { ...base, status: 'done', judge0_status: { id: 3, description: 'Accepted' }, result: job.returnvalue };
    if (state === 'failed') return { ...base, status: 'failed', judge0_status: { id: 13, description: 'Internal Error' }, error: { code: 'RC_ERR_WORKER_LOST', message: job.failedReason } };
    return { ...base, status: 'running', judge0_status: { id: 2, description: 'Processing' } };
  },
};
const worker = startCallbackWorker({ connection, prefix, settings, records });
const flows = new FlowProducer({ connection, prefix });
const parentQueue = new Queue(CALLBACKS_QUEUE, { connection, prefix });

async function submitFlow(token: string, data: object, url = `http://127.0.0.1:${hook.port}/cb`): Promise<void> {
  await flows.add({
    name: 'callback',
    queueName: CALLBACKS_QUEUE,
    data: { token, url },
    opts: { jobId: token, ...callbackJobOptions(settings) },
    children: [{ name: 'exec', queueName: EXEC, data, opts: { jobId: token, ignoreDependencyOnFailure: true } }],
  });
}

describe('the callbacks consumer', () => {
  // In the suite, so that the clients close before the file's hooks stop redis-server.
  after(async () => {
    await Promise.all([worker.close(), exec.close(), flows.close(), execQueue.close(), parentQueue.close()]);
  });

  it('delivers the record once the exec child completed, signed with the callback secret', async () => {
    await submitFlow('tok-done', { stdout: 'hello\n' });
    const [delivery] = await hook.deliveriesOf('tok-done', 1);
    const timestamp = String(delivery!.headers['x-runner-codes-timestamp']);
    assert.equal(delivery!.headers['x-runner-codes-signature'], `sha256=${createHmac('sha256', 'queue-secret').update(`${timestamp}.${delivery!.body}`).digest('hex')}`);
    const record = JSON.parse(delivery!.body);
    assert.equal(record.status, 'done');
    assert.equal(record.result.stdout, 'hello\n');
  });

  it('delivers a failed child too (the parent runs either way)', async () => {
    await submitFlow('tok-failed', { fail: true });
    const [delivery] = await hook.deliveriesOf('tok-failed', 1);
    const record = JSON.parse(delivery!.body);
    assert.equal(record.status, 'failed');
    assert.equal(record.error.code, 'RC_ERR_WORKER_LOST');
  });

  it('throws on a 500 so that BullMQ retries with exponential backoff, and gives up after the attempts', async () => {
    hook.script.set('tok-retry', [500]);
    await submitFlow('tok-retry', { stdout: 'x' });
    const retried = await hook.deliveriesOf('tok-retry', 2);
    const gap = retried[1]!.at - retried[0]!.at;
    assert.ok(gap >= 900 && gap < 2500, `backoff ~1 s: ${gap} ms`);
    hook.script.set('tok-never', [500, 500, 500, 500, 500]);
    await submitFlow('tok-never', { stdout: 'y' });
    await hook.deliveriesOf('tok-never', 3);
    await sleep(5000);
    assert.equal(hook.deliveries.get('tok-never')!.length, 3, 'attempts: 3');
    const parent = await Job.fromId(parentQueue, 'tok-never');
    assert.equal(await parent!.getState(), 'failed');
  });

  it('a delivery left active by a lost replica is taken up by another within 15 s', async () => {
    // Its own prefix: no other consumer races the "lost" replica for the job.
    const lostPrefix = 'rc-test-lost';
    const queue = new Queue(CALLBACKS_QUEUE, { connection, prefix: lostPrefix });
    // As a replica killed mid-delivery, or a fetch whose reply a Redis restart swallowed, leaves it:
    // active, locked for CALLBACK_LOCK_MS, nobody working on it.
    const lost = new Worker(CALLBACKS_QUEUE, null, { connection, prefix: lostPrefix, lockDuration: CALLBACK_LOCK_MS });
    await queue.add('callback', { token: 'tok-lost', url: `http://127.0.0.1:${hook.port}/cb` }, { jobId: 'tok-lost', ...callbackJobOptions(settings) });
    const taken = await lost.getNextJob('lost-replica');
    assert.equal(taken?.id, 'tok-lost', 'the lost replica holds the delivery');
    await lost.close();
    const lostAt = Date.now();
    const record: SubmissionRecord = { token: 'tok-lost', created_at: new Date().toISOString(), status: 'done', judge0_status: { id: 3, description: 'Accepted' }, result: { status: 'success', stdout: 'again\n', exit_code: 0 } as SubmissionRecord['result'] };
    const replica = startCallbackWorker({ connection, prefix: lostPrefix, settings, records: { get: async () => record } });
    try {
      // docs/api.md: within 15 s (the lock lapses, then the next stalled check); BullMQ's defaults took up to 60 s.
      assert.ok(CALLBACK_LOCK_MS + CALLBACK_STALLED_INTERVAL_MS <= 15_000);
      const [delivery] = await hook.deliveriesOf('tok-lost', 1, 15_000 + 1000);
      assert.equal(JSON.parse(delivery!.body).result.stdout, 'again\n');
      process.stderr.write(`# callbacks: a lost replica's delivery taken up after ${Date.now() - lostAt} ms\n`);
    } finally {
      await replica.close();
      await queue.close();
    }
  });

  it('refuses a URL off the allowlist for good: no retry, no connection', async () => {
    const before = hook.all.length;
    await submitFlow('tok-off', { stdout: 'z' }, `http://localhost:${hook.port}/cb`);
    for (let i = 0; i < 100 && (await (await Job.fromId(parentQueue, 'tok-off'))?.getState()) !== 'failed'; i++) await sleep(50);
    const parent = await Job.fromId(parentQueue, 'tok-off');
    assert.equal(await parent!.getState(), 'failed');
    assert.equal(parent!.attemptsMade, 1, 'not retried');
    assert.equal(hook.all.length, before);
  });
});
