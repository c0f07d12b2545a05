import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { TestRedis } from '../helpers/redis-server.js';
import { QueueProcess } from '../helpers/queue-processes.js';
import { post } from '../helpers/server.js';

/*
 * Workers killed mid-job (kill -9), for real: three worker processes serving one profile queue, an
 * API in front, a real redis-server. Short locks (--lock-duration 2000, --stalled-interval 1000) so
 * that BullMQ's stalled-job recovery notices a lost worker within a few seconds. On main there is no
 * `worker` command nor `api --queue`: nothing here can start.
 */
const redis = await TestRedis.start();
const FAST_STALL = ['--concurrency', '1', '--pool-size', '0', '--languages', 'python', '--lock-duration', '2000', '--stalled-interval', '1000'];
const workers: (QueueProcess & { id: string; queue: string })[] = await Promise.all(['fault-w1', 'fault-w2', 'fault-w3'].map((id) => QueueProcess.worker(redis.url, [...FAST_STALL, '--worker-id', id])));
const api = await QueueProcess.api(redis.url);
const queueName = workers[0]!.queue;
const client = new Redis(redis.url);
const queue = new Queue(queueName, { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'rc' });

/** The worker holding the (one) active job, once one does. */
async function holder(exclude: string[] = [], timeoutMs = 30_000): Promise<{ worker: (typeof workers)[number]; jobId: string }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const job of await queue.getActive()) {
      const worker = workers.find((w) => w.id === job.processedBy && !exclude.includes(w.id));
      if (worker) return { worker, jobId: job.id! };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no worker took the job');
}

/** The `completed` and `failed` events of a job in its queue's events stream (what every waiter sees). */
async function finishEvents(jobId: string): Promise<string[]> {
  const entries = await client.xrange(`rc:${queueName}:events`, '-', '+');
  return entries.flatMap(([, fields]) => {
    const f = Object.fromEntries(fields.flatMap((v, i) => (i % 2 === 0 ? [[v, fields[i + 1]]] : [])));
    return f.jobId === jobId && (f.event === 'completed' || f.event === 'failed') ? [f.event as string] : [];
  });
}

describe('a worker killed mid-job', () => {
  it('kill -9 → the job is retried once on another worker and completes there exactly once', async () => {
    assert.ok(workers.every((w) => w.queue === queueName), 'one profile, one queue');
    const reply = post(api.base, '/api/v1/execute', { language: 'python', code: 'import time\ntime.sleep(2.5)\nprint("slept")', timeout: 20_000 });
    const first = await holder();
    first.worker.child.kill('SIGKILL');
    const second = await holder([first.worker.id]);
    assert.notEqual(second.worker.id, first.worker.id);
    const result = await reply;
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.equal(result.body.stdout, 'slept\n');
    assert.deepEqual(await finishEvents(first.jobId), ['completed'], 'reported once');
  });

  it('lost a second time → failed with RC_ERR_WORKER_LOST (503), never run a third time', async () => {
    // Three live workers again: two to lose, one whose stalled check gives the job up.
    workers.push(await QueueProcess.worker(redis.url, [...FAST_STALL, '--worker-id', 'fault-w4']));
    const started = Date.now();
    const reply = post(api.base, '/api/v1/execute', { language: 'python', code: 'import time\ntime.sleep(30)', timeout: 60_000 });
    const first = await holder();
    first.worker.child.kill('SIGKILL');
    const second = await holder([first.worker.id]);
    second.worker.child.kill('SIGKILL');
    const result = await reply;
    assert.equal(result.status, 503, JSON.stringify(result.body));
    assert.equal(result.body.error.code, 'RC_ERR_WORKER_LOST');
    assert.match(result.body.error.message, /lost twice/);
    assert.ok(Date.now() - started < 25_000, `given up ${Date.now() - started} ms after the start`);
    assert.deepEqual(await finishEvents(first.jobId), ['failed'], 'reported once');
  });

  it('the last worker of a profile gone: a waiting job fails with RC_ERR_NO_WORKER after --queue-orphan, it never waits for ever', async () => {
    const orphanApi = await QueueProcess.api(redis.url, ['--queue-orphan', '2000']);
    // Every worker but the last was killed above: kill it with its job running.
    const alive = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    assert.equal(alive.length, 1);
    const last = alive[0]!;
    const reply = post(orphanApi.base, '/api/v1/execute', { language: 'python', code: 'import time\ntime.sleep(30)', timeout: 60_000 });
    const held = await holder();
    assert.equal(held.worker.id, last.id);
    const killedAt = Date.now();
    held.worker.child.kill('SIGKILL');
    const result = await reply;
    assert.equal(result.status, 503, JSON.stringify(result.body));
    assert.equal(result.body.error.code, 'RC_ERR_NO_WORKER');
    assert.ok(Date.now() - killedAt < 25_000, `failed ${Date.now() - killedAt} ms after the kill`);
    // A new request is refused at once: no live worker runs python any more.
    const next = await post(orphanApi.base, '/api/v1/execute', { language: 'python', code: 'print(1)' });
    assert.equal(next.status, 503);
    assert.equal(next.body.error.code, 'RC_ERR_NO_WORKER');
  });

  it('an orphaned profile queue left with no job is forgotten: its rc:profiles entry goes, by itself', async () => {
    // The test above left the queue orphaned and its one job failed (sync jobs keep no record).
    const deadline = Date.now() + 30_000;
    while ((await client.hexists('rc:profiles', queueName)) === 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(await client.hexists('rc:profiles', queueName), 0, `${queueName} is still in rc:profiles`);
    // A worker of the profile starting again writes it back and is routed to.
    workers.push(await QueueProcess.worker(redis.url, [...FAST_STALL, '--worker-id', 'fault-w5']));
    assert.equal(await client.hexists('rc:profiles', queueName), 1);
    const api2 = await QueueProcess.api(redis.url);
    const reply = await post(api2.base, '/api/v1/execute', { language: 'python', code: 'print("back")' });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.stdout, 'back\n');
    await queue.close();
    client.disconnect();
  });
});
