import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { after } from 'node:test';
import { TestRedis } from '../helpers/redis-server.js';
import { QueueProcess } from '../helpers/queue-processes.js';
import { get, post } from '../helpers/server.js';
import { verifyCallback } from '../../src/engine/submissions/callback-signature.js';

/*
 * Submissions in queue mode (RedisSubmissions): records read back from BullMQ jobs that real
 * workers ran, flows with a callback parent, retention and bounded outputs. On main there is
 * neither /api/v1/submissions nor `api --queue`.
 */
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
const receiver = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    received.push({ headers: request.headers, body });
    response.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
const receiverPort = (receiver.address() as { port: number }).port;

const SECRET = 'callback-secret-for-tests';
const redis = await TestRedis.start();
await QueueProcess.worker(redis.url, ['--concurrency', '2', '--pool-size', '1', '--languages', 'python', '--worker-id', 'subs-w1']);
const api = await QueueProcess.api(redis.url, [
  '--api-key', 'key-a', '--api-key', 'key-b',
  '--callback-allowlist', `127.0.0.1:${receiverPort}`, '--callback-secret', SECRET,
  '--submission-ttl', '3', '--submission-max-output', '100',
]);
const A = { authorization: 'Bearer key-a' };
const B = { authorization: 'Bearer key-b' };

describe('submissions in queue mode', () => {
  it('POST → 201 {token}; GET ?wait=true → done with the result and Judge0 status 3', async () => {
    const created = await post(api.base, '/api/v1/submissions', { language: 'python', code: 'print(input()[::-1])', stdin: 'abc' }, A);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const record = await get(api.base, `/api/v1/submissions/${created.body.token}?wait=true`, A);
    assert.equal(record.status, 200, record.text);
    assert.equal(record.body.status, 'done', record.text);
    assert.equal(record.body.result.stdout, 'cba\n');
    assert.equal(record.body.judge0_status.id, 3);
    assert.ok(record.body.started_at && record.body.finished_at);
    // Another key's token does not exist for it.
    assert.equal((await get(api.base, `/api/v1/submissions/${created.body.token}`, B)).status, 404);
  });

  it('a batch with expected_output: tokens in order, accepted and wrong_answer', async () => {
    const created = await post(api.base, '/api/v1/submissions', [
      { language: 'python', code: 'print(2+2)', expected_output: '4\n' },
      { language: 'python', code: 'print(2+2)', expected_output: '5' },
    ], A);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const [ok, wrong] = await Promise.all(created.body.map((t: { token: string }) => get(api.base, `/api/v1/submissions/${t.token}?wait=true`, A)));
    assert.equal(ok!.body.result.verdict, 'accepted', ok!.text);
    assert.equal(ok!.body.judge0_status.id, 3);
    assert.equal(wrong!.body.result.verdict, 'wrong_answer', wrong!.text);
    assert.equal(wrong!.body.judge0_status.id, 4);
  });

  it('stored outputs are bounded (--submission-max-output) with truncated set, and gone after --submission-ttl', async () => {
    const created = await post(api.base, '/api/v1/submissions', { language: 'python', code: 'print("x" * 5000)' }, A);
    const record = await get(api.base, `/api/v1/submissions/${created.body.token}?wait=true`, A);
    assert.equal(record.body.result.stdout.length, 100, record.text);
    assert.equal(record.body.result.truncated.stdout, true);
    await new Promise((resolve) => setTimeout(resolve, 3500));
    assert.equal((await get(api.base, `/api/v1/submissions/${created.body.token}`, A)).status, 404, 'expired');
  });

  it('DELETE of a running submission cancels it: the worker aborts it, the record is failed RC_ERR_CANCELLED', async () => {
    const created = await post(api.base, '/api/v1/submissions', { language: 'python', code: 'import time\nprint("started", flush=True)\ntime.sleep(30)', timeout: 60_000 }, A);
    const token = created.body.token as string;
    const deadline = Date.now() + 20_000;
    while ((await get(api.base, `/api/v1/submissions/${token}`, A)).body.status !== 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const cancelled = await fetch(`${api.base}/api/v1/submissions/${token}`, { method: 'DELETE', headers: A });
    assert.equal(cancelled.status, 200, await cancelled.text());
    const record = await get(api.base, `/api/v1/submissions/${token}`, A);
    assert.equal(record.body.status, 'failed');
    assert.equal(record.body.error.code, 'RC_ERR_CANCELLED');
    // The worker let go of it: a new submission runs at once (concurrency 2, one slot was the cancelled one).
    const next = await post(api.base, '/api/v1/submissions', { language: 'python', code: 'print(1)' }, A);
    const done = await get(api.base, `/api/v1/submissions/${next.body.token}?wait=true`, A);
    assert.equal(done.body.status, 'done');
    assert.ok(Date.now() - started < 15_000);
    assert.equal((await fetch(`${api.base}/api/v1/submissions/00000000-0000-4000-8000-000000000000`, { method: 'DELETE', headers: A })).status, 404);
  });

  it('callback_url: the record is POSTed once the job ended, signed with the callback secret', async () => {
    const created = await post(api.base, '/api/v1/submissions', { language: 'python', code: 'print("called back")', callback_url: `http://127.0.0.1:${receiverPort}/hook` }, A);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const token = created.body.token as string;
    const deadline = Date.now() + 30_000;
    while (!received.some((r) => r.headers['x-runner-codes-token'] === token) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const delivery = received.find((r) => r.headers['x-runner-codes-token'] === token);
    assert.ok(delivery, 'delivered');
    const body = JSON.parse(delivery.body);
    assert.equal(body.status, 'done');
    assert.equal(body.result.stdout, 'called back\n');
    assert.ok(verifyCallback(delivery.body, String(delivery.headers['x-runner-codes-timestamp']), String(delivery.headers['x-runner-codes-signature']), SECRET));
  });
});
