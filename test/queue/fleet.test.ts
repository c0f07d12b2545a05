import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { Redis } from 'ioredis';
import { TestRedis } from '../helpers/redis-server.js';
import { QueueProcess } from '../helpers/queue-processes.js';
import { get, post, type Reply } from '../helpers/server.js';

/*
 * The system test of queue mode (issue 16): a real redis-server, one API and two workers as separate
 * processes, 1,000 submissions of a fast program. Mid-run one worker is killed (kill -9: a replacement
 * joins, as a DaemonSet would start one) and Redis is
 * restarted; every token must still end `done` or `failed` with a reason, none lost, none run or
 * reported twice, every output its own input. Callbacks reach a receiver on 127.0.0.1 with valid
 * signatures; a batch with expected_output gets its verdicts; the last worker drains on SIGTERM. On
 * main there is no queue mode nor submissions API: nothing here can start.
 */

const TOTAL = 1000;
const BATCH = 100;
const WITH_CALLBACK = 100;
const SECRET = 'fleet-callback-secret';
/** Echoes its stdin: cheap (bash's cat), so that 1,000 of them fit in the time on a loaded 2-core host. */
const PROGRAM = 'cat';
const WORKER_ARGS = ['--concurrency', '2', '--pool-size', '2', '--languages', 'bash,python', '--lock-duration', '2000', '--stalled-interval', '1000'];

interface Delivery {
  token: string;
  body: string;
  signature: string;
  timestamp: string;
}

// Everything starts at the top: helpers register their stop with after(), which must be the file's.
const redis = await TestRedis.start();
const deliveries: Delivery[] = [];
const receiver = createServer((request: IncomingMessage, response) => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => (body += chunk));
  request.on('end', () => {
    deliveries.push({ token: String(request.headers['x-runner-codes-token']), body, signature: String(request.headers['x-runner-codes-signature']), timestamp: String(request.headers['x-runner-codes-timestamp']) });
    response.writeHead(200).end('ok');
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
after(() => receiver.close());
const receiverPort = (receiver.address() as { port: number }).port;
const workers: (QueueProcess & { id: string; queue: string })[] = await Promise.all(['fleet-a', 'fleet-b'].map((id) => QueueProcess.worker(redis.url, [...WORKER_ARGS, '--worker-id', id])));
const api = await QueueProcess.api(redis.url, ['--callback-allowlist', `127.0.0.1:${receiverPort}`, '--max-batch', String(BATCH)], { RUNNER_CODES_CALLBACK_SECRET: SECRET });
const queueName = workers[0]!.queue;

interface SubmissionRecord {
  token: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  result?: { stdout: string; verdict?: string; status: string };
  error?: { code: string; message: string };
  judge0_status: { id: number; description: string };
}

/** POSTs a batch, retrying while the API answers 503 (Redis restarting); every 503 must carry Retry-After. */
async function submit(batch: unknown[], unavailable: Reply[]): Promise<string[]> {
  for (;;) {
    const reply = await post(api.base, '/api/v1/submissions', batch);
    if (reply.status === 201) return (reply.body as { token: string }[]).map((t) => t.token);
    // On anything else, the API's own log line for that trace id says why.
    assert.equal(reply.status, 503, `${JSON.stringify(reply.body)}\n${api.log.split('\n').filter((line) => line.includes(String((reply.body as { trace_id?: string }).trace_id))).join('\n')}`);
    unavailable.push(reply);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Every record, read back BATCH tokens at a time (Judge0's batch GET), retrying 503s. */
async function records(tokens: readonly string[]): Promise<SubmissionRecord[]> {
  const all: SubmissionRecord[] = [];
  for (let i = 0; i < tokens.length; i += BATCH) {
    for (;;) {
      const reply = await get(api.base, `/api/v1/submissions?tokens=${tokens.slice(i, i + BATCH).join(',')}`);
      if (reply.status === 200) {
        all.push(...(reply.body as { submissions: SubmissionRecord[] }).submissions);
        break;
      }
      assert.equal(reply.status, 503, reply.text);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return all;
}

const finished = (r: SubmissionRecord | null): boolean => r !== null && (r.status === 'done' || r.status === 'failed');

async function untilFinished(tokens: readonly string[], timeoutMs: number): Promise<SubmissionRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await records(tokens);
    if (all.every(finished) || Date.now() > deadline) return all;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** How many `completed` / `failed` events each job has in its queue's events stream (what every waiter reads). */
async function finishEventCounts(): Promise<Map<string, number>> {
  const client = new Redis(redis.url);
  try {
    const counts = new Map<string, number>();
    for (const [, fields] of await client.xrange(`rc:${queueName}:events`, '-', '+')) {
      const f: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      if (f.event === 'completed' || f.event === 'failed') counts.set(f.jobId!, (counts.get(f.jobId!) ?? 0) + 1);
    }
    return counts;
  } finally {
    client.disconnect();
  }
}

/** The callback (parent) and execution (child) jobs of some tokens, as BullMQ keeps them: for a failure's message. */
async function jobStates(tokens: readonly string[]): Promise<string> {
  if (tokens.length === 0) return '';
  const client = new Redis(redis.url);
  try {
    const fields = ['processedOn', 'finishedOn', 'atm', 'ats', 'failedReason', 'stc', 'pb'];
    const states = await Promise.all(
      tokens.map(async (token) => ({
        token,
        callback: await client.hmget(`rc:callbacks:${token}`, ...fields),
        callbackIn: await Promise.all(['wait', 'active', 'waiting-children', 'completed', 'failed', 'delayed'].map(async (list) => [list, (await client.type(`rc:callbacks:${list}`)) === 'zset' ? await client.zscore(`rc:callbacks:${list}`, token) : (await client.lpos(`rc:callbacks:${list}`, token).catch(() => null))])),
        exec: await client.hmget(`rc:${queueName}:${token}`, ...fields),
      })),
    );
    return JSON.stringify(states);
  } finally {
    client.disconnect();
  }
}

describe('a fleet: 1 API, 2 workers, 1,000 submissions, a worker killed (and replaced) and Redis restarted mid-run', () => {
  const inputs = new Map<string, string>();
  const callbackTokens = new Set<string>();
  const unavailable: Reply[] = [];
  let all: SubmissionRecord[] = [];
  let elapsedMs = 0;

  it('every token ends done or failed with a reason: none lost, none duplicated, each output its own input', async () => {
    const started = Date.now();
    const tokens: string[] = [];
    let killed = false;
    let restarted: Promise<void> | undefined;
    for (let b = 0; b < TOTAL / BATCH; b++) {
      const batch = Array.from({ length: BATCH }, (_, j) => {
        const i = b * BATCH + j;
        return { language: 'bash', code: PROGRAM, stdin: `input-${i}-${Math.random().toString(36).slice(2)}`, ...(i < WITH_CALLBACK ? { callback_url: `http://127.0.0.1:${receiverPort}/hook` } : {}) };
      });
      const got = await submit(batch, unavailable);
      got.forEach((token, j) => {
        inputs.set(token, batch[j]!.stdin);
        if (b * BATCH + j < WITH_CALLBACK) callbackTokens.add(token);
      });
      tokens.push(...got);
      if (b === 2 && !killed) {
        // Mid-run: the first worker dies with jobs in hand.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        workers[0]!.child.kill('SIGKILL');
        killed = true;
      }
      if (b === 5 && !restarted) restarted = redis.restart(1500);
    }
    await restarted;
    // As a DaemonSet would: a replacement for the killed worker joins the same queue while the run goes on
    // (after the restart: a worker that cannot reach Redis at start refuses to start).
    workers.push(await QueueProcess.worker(redis.url, [...WORKER_ARGS, '--worker-id', 'fleet-c']));
    all = await untilFinished(tokens, 150_000);
    elapsedMs = Date.now() - started;

    assert.equal(new Set(tokens).size, TOTAL, 'tokens are distinct');
    assert.equal(all.length, TOTAL);
    const unfinished = all.filter((r) => !finished(r));
    assert.deepEqual(unfinished.map((r) => r?.status), [], 'none lost: every token finished');
    for (const record of all) {
      assert.ok(inputs.has(record.token), 'a record answers for its own token');
      if (record.status === 'done') assert.equal(record.result?.stdout, inputs.get(record.token), `${record.token}: its own input`);
      else assert.ok(record.error?.code && record.error.message, `${record.token}: failed with a reason: ${JSON.stringify(record)}`);
    }
    const done = all.filter((r) => r.status === 'done').length;
    // Only jobs caught by the kill or the restart may fail (lost twice), never most of them.
    assert.ok(done >= TOTAL * 0.95, `${done} of ${TOTAL} done`);
    const events = await finishEventCounts();
    const twice = tokens.filter((token) => (events.get(token) ?? 0) > 1);
    assert.deepEqual(twice, [], 'no job finished (was reported) twice');
    // The kill hit jobs in hand: BullMQ started them a second time (on the other worker).
    const client = new Redis(redis.url);
    const attempts = await Promise.all(tokens.map((token) => client.hget(`rc:${queueName}:${token}`, 'ats')));
    client.disconnect();
    const retried = attempts.filter((n) => Number(n) >= 2).length;
    assert.ok(retried >= 1, 'some job was running on the killed worker and was retried');
    const reasons = new Map<string, number>();
    for (const r of all) if (r.status === 'failed') reasons.set(r.error!.code, (reasons.get(r.error!.code) ?? 0) + 1);
    process.stderr.write(`# fleet: ${TOTAL} submissions in ${elapsedMs} ms, ${done} done, ${retried} started twice (a lost worker), failed: ${JSON.stringify(Object.fromEntries(reasons))}, 503s seen while Redis restarted: ${unavailable.length}\n`);
  });

  it('while Redis restarted, clients got 503 RC_ERR_QUEUE_UNAVAILABLE with Retry-After, and nothing was restarted', async () => {
    for (const reply of unavailable) {
      assert.equal(reply.body.error.code, 'RC_ERR_QUEUE_UNAVAILABLE', JSON.stringify(reply.body));
      assert.ok(Number(reply.headers.get('retry-after')) > 0);
    }
    assert.equal(api.child.exitCode, null, 'the API process is the one started at the beginning');
    assert.equal(workers[1]!.child.exitCode, null, 'the surviving worker too');
    assert.equal(workers[2]!.queue, queueName, 'the replacement served the same queue');
  });

  it('callbacks reach the allowlisted receiver, each signed over timestamp and body', async () => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && new Set(deliveries.map((d) => d.token)).size < callbackTokens.size) await new Promise((resolve) => setTimeout(resolve, 200));
    const received = new Set(deliveries.map((d) => d.token));
    const missing = [...callbackTokens].filter((t) => !received.has(t));
    assert.deepEqual(missing, [], `every callback arrived; the missing ones' jobs: ${await jobStates(missing)}`);
    for (const delivery of deliveries) {
      const expected = `sha256=${createHmac('sha256', SECRET).update(`${delivery.timestamp}.${delivery.body}`).digest('hex')}`;
      assert.equal(delivery.signature, expected, `${delivery.token}: signature`);
      const body = JSON.parse(delivery.body) as SubmissionRecord;
      assert.equal(body.token, delivery.token);
      assert.ok(body.status === 'done' || body.status === 'failed');
      assert.ok(callbackTokens.has(body.token), 'only submissions with a callback_url are called back');
    }
  });

  it('a batch with expected_output gets accepted and wrong_answer (Judge0 ids 3 and 4)', async () => {
    const tokens = await submit(
      [
        { language: 'python', code: 'print("hello")', expected_output: 'hello\n' },
        { language: 'python', code: 'print("hello")', expected_output: 'goodbye' },
      ],
      [],
    );
    const [accepted, wrong] = await untilFinished(tokens, 30_000);
    assert.equal(accepted!.result?.verdict, 'accepted', JSON.stringify(accepted));
    assert.equal(accepted!.judge0_status.id, 3);
    assert.equal(wrong!.result?.verdict, 'wrong_answer', JSON.stringify(wrong));
    assert.equal(wrong!.judge0_status.id, 4);
  });

  it('SIGTERM drains the workers: their running jobs finish done, then they exit 0', async () => {
    const tokens = await submit([0, 1].map((i) => ({ language: 'python', code: `import time\ntime.sleep(2)\nprint(${i})` })), []);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !(await records(tokens)).every((r) => r?.status === 'running')) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual((await records(tokens)).map((r) => r.status), ['running', 'running'], 'both jobs run when the workers are told to stop');
    // The replacement ended with the first test (QueueProcess ties its kill to the test that started it).
    const live = workers.filter((worker) => worker.child.exitCode === null && worker.child.signalCode === null);
    assert.ok(live.includes(workers[1]!));
    for (const worker of live) worker.child.kill('SIGTERM');
    const codes = await Promise.all(live.map((worker) => worker.exited));
    assert.deepEqual(codes, live.map(() => 0), live.map((w) => `${w.id}: ${w.child.signalCode ?? w.child.exitCode}\n${w.log.slice(-2000)}`).join('\n'));
    const drained = await records(tokens);
    assert.deepEqual(drained.map((r) => [r.status, r.result?.stdout]), [['done', '0\n'], ['done', '1\n']]);
    process.stderr.write(`# fleet: total ${elapsedMs} ms for the 1,000; drained ${tokens.length} running jobs\n`);
  });
});
