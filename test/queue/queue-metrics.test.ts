import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { TestRedis } from '../helpers/redis-server.js';
import { QueueProcess } from '../helpers/queue-processes.js';
import { get, post } from '../helpers/server.js';

/*
 * The queue's metrics on the API's /metrics in queue mode: jobs per queue and state, live workers,
 * the wait histogram; a real redis-server, a real worker process and a real API process. On main
 * there is no queue mode and none of these series: every test here fails.
 */

// Started at the top: TestRedis.start() registers its own stop with after(), which must be the file's.
const redis = await TestRedis.start();

/** The value of one series of a Prometheus text exposition (undefined: absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = Object.fromEntries((match[2] ?? '').split(',').filter(Boolean).map((pair) => pair.split('=') as [string, string]).map(([k, v]) => [k, JSON.parse(v!)]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(match[3]);
  }
  return undefined;
}

// The processes too (each registers its kill with after()).
const worker = await QueueProcess.worker(redis.url, ['--concurrency', '2', '--pool-size', '1', '--languages', 'python', '--worker-id', 'metrics-w1']);
const api = await QueueProcess.api(redis.url);

describe('queue metrics on the API in queue mode', () => {
  let queue: Queue;

  before(() => {
    queue = new Queue(worker.queue, { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'rc' });
  });
  after(async () => {
    const bounded = (what: Promise<unknown>, ms: number): Promise<unknown> => Promise.race([what, new Promise((resolve) => setTimeout(() => resolve('timeout'), ms))]);
    await bounded(queue.close(), 5_000);
    worker.child.kill('SIGTERM');
    api.child.kill('SIGTERM');
    // Bounded: what is left is SIGKILLed by the helper (shutdown after a Redis restart is test/queue/recovery's).
    await Promise.all([bounded(worker.exited, 10_000), bounded(api.exited, 10_000)]);
  });

  const metrics = async (): Promise<string> => (await get(api.base, '/metrics')).text;

  it('runner_codes_workers counts the live workers of each profile queue, from their registrations', async () => {
    const text = await metrics();
    assert.equal(sample(text, 'runner_codes_workers', { queue: worker.queue }), 1, text);
    assert.equal(sample(text, 'runner_codes_worker_slots', { queue: worker.queue, kind: 'total' }), 2);
  });

  it('runner_codes_queue_wait_seconds observes each job this replica waited for', async () => {
    const before = sample(await metrics(), 'runner_codes_queue_wait_seconds_count') ?? 0;
    for (let i = 0; i < 3; i++) {
      const reply = await post(api.base, '/api/v1/execute', { language: 'python', code: `print(${i})` });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
    }
    const text = await metrics();
    assert.equal(sample(text, 'runner_codes_queue_wait_seconds_count'), before + 3, text);
    assert.ok((sample(text, 'runner_codes_queue_wait_seconds_bucket', { le: '+Inf' }) ?? 0) >= 3);
  });

  it('runner_codes_queue_jobs shows the jobs of each queue by state: waiting while the queue is paused, completed after', async () => {
    await queue.pause();
    const data = { request: { language: 'python', files: [{ name: 'main.py', content: 'print(42)' }] }, backend: 'bwrap', traceId: 'metrics-job', token: 'metrics-job' };
    await queue.add('exec', data, { jobId: 'metrics-job' });
    const paused = await metrics();
    assert.equal(sample(paused, 'runner_codes_queue_jobs', { queue: worker.queue, state: 'waiting' }), 1, paused);
    await queue.resume();
    const deadline = Date.now() + 20_000;
    let completed = 0;
    while (Date.now() < deadline && completed < 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      completed = sample(await metrics(), 'runner_codes_queue_jobs', { queue: worker.queue, state: 'completed' }) ?? 0;
    }
    assert.equal(completed, 1, 'the job ran once the queue was resumed');
  });

  it('runner_codes_queue_wait_seconds observes submissions too, once each', async () => {
    const before = sample(await metrics(), 'runner_codes_queue_wait_seconds_count') ?? 0;
    const created = await post(api.base, '/api/v1/submissions', [{ language: 'python', code: 'print(1)' }, { language: 'python', code: 'print(2)' }]);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    for (const { token } of created.body as { token: string }[]) {
      const record = await get(api.base, `/api/v1/submissions/${token}?wait=true`);
      assert.equal(record.body.status, 'done', JSON.stringify(record.body));
    }
    const text = await metrics();
    assert.equal(sample(text, 'runner_codes_queue_wait_seconds_count'), before + 2, text);
  });

  it('with Redis down the scrape still answers (the queue series are absent, not a 500)', async () => {
    await redis.stop();
    try {
      const reply = await get(api.base, '/metrics');
      assert.equal(reply.status, 200);
      assert.equal(sample(reply.text, 'runner_codes_queue_jobs', { queue: worker.queue, state: 'completed' }), undefined);
    } finally {
      await redis.restart();
    }
  });
});
