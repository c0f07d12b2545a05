import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { TestRedis, freePort } from '../helpers/redis-server.js';
import { call, ok } from '../helpers/mcp.js';
import { QueueProcess } from '../helpers/queue-processes.js';
import { get, post } from '../helpers/server.js';

/*
 * Queue mode end to end: a real redis-server, a real worker process running real bwrap sandboxes,
 * a real API process in front (`api --queue`). On main there is no `--queue` option nor `worker`
 * command: the processes fail to start and every test here fails.
 */
// Started at the top level: their after() hooks then run at the end of the file.
const redis = await TestRedis.start();
const metricsPort = await freePort();
const worker = await QueueProcess.worker(redis.url, ['--concurrency', '2', '--pool-size', '1', '--languages', 'python,bash', '--worker-id', 'exec-w1', '--metrics-port', String(metricsPort)]);
const api = await QueueProcess.api(redis.url);

describe('api --queue + worker: executions go through BullMQ', () => {
  it('POST /api/v1/execute runs on the worker and answers with the result', async () => {
    const reply = await post(api.base, '/api/v1/execute', { language: 'python', code: 'import sys; print(sys.stdin.read()[::-1])', stdin: 'olleh' });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.status, 'success');
    assert.equal(reply.body.stdout, 'hello\n');
    assert.equal(reply.body.trace_id, reply.headers.get('x-trace-id'), 'the API request id reaches the worker as the trace id');
  });

  it('Piston /api/v2/execute and /api/v1/run keep working in queue mode', async () => {
    const piston = await post(api.base, '/api/v2/execute', { language: 'python', version: '*', files: [{ content: 'print(6*7)' }] });
    assert.equal(piston.status, 200, JSON.stringify(piston.body));
    assert.equal(piston.body.run.stdout, '42\n');
    const run = await post(api.base, '/api/v1/run', { language: 'bash', files: [{ name: 'main.sh', content: 'read x; echo "got $x"' }], stdin: ['a', 'b'] });
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.deepEqual(run.body.map((r: { stdout: string }) => r.stdout), ['got a\n', 'got b\n']);
  });

  it('languages and runtimes list what the live workers offer, with their versions', async () => {
    const runtimes = await get(api.base, '/api/v2/runtimes');
    const names = (runtimes.body as { language: string; version: string }[]).map((r) => r.language).sort();
    assert.ok(names.includes('python') && names.includes('bash'), JSON.stringify(runtimes.body));
    assert.ok(!names.includes('ruby'), 'ruby is not offered by the worker (--languages)');
  });

  it('Accept: text/event-stream streams the output through job progress, then the result', async () => {
    const res = await fetch(`${api.base}/api/v1/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ language: 'python', code: 'import time\nprint("one", flush=True)\ntime.sleep(0.3)\nprint("two", flush=True)' }),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /event: stdout\ndata: .*one/);
    assert.match(text, /event: stdout\ndata: .*two/);
    assert.match(text, /event: result\ndata: .*"stdout":"one\\ntwo\\n"/);
  });

  it('a bad request is a 400 naming the field, checked by the API before anything is queued', async () => {
    const reply = await post(api.base, '/api/v1/execute', { language: 'python', code: 'print(1)', timeout: 10_000_000 });
    assert.equal(reply.status, 400, JSON.stringify(reply.body));
    assert.match(reply.body.error.field, /timeout/);
    const unknown = await post(api.base, '/api/v1/execute', { language: 'no-such-language', code: 'x' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.code, 'RC_ERR_UNKNOWN_LANGUAGE');
  });

  it('a language no live worker runs fails fast: 503 RC_ERR_NO_WORKER with Retry-After, naming what workers offer', async () => {
    const started = Date.now();
    const reply = await post(api.base, '/api/v1/execute', { language: 'ruby', code: 'puts 1' });
    assert.ok(Date.now() - started < 3000, `answered in ${Date.now() - started} ms`);
    assert.equal(reply.status, 503);
    assert.equal(reply.body.error.code, 'RC_ERR_NO_WORKER');
    assert.ok(Number(reply.headers.get('retry-after')) > 0);
    assert.match(reply.body.error.message, /'ruby'/);
    assert.match(reply.body.error.message, /bwrap: .*python/);
    const backend = await post(api.base, '/api/v1/execute', { language: 'python', code: 'print(1)', backend: 'qemu' });
    assert.equal(backend.status, 503, JSON.stringify(backend.body));
    assert.match(backend.body.error.message, /on backend 'qemu'/);
  });

  it('sessions are refused with 501 RC_ERR_NOT_IN_QUEUE_MODE, naming what to do', async () => {
    const reply = await post(api.base, '/api/v1/sessions', { language: 'python' });
    assert.equal(reply.status, 501, JSON.stringify(reply.body));
    assert.equal(reply.body.error.code, 'RC_ERR_NOT_IN_QUEUE_MODE');
    assert.match(reply.body.error.message, /without --queue/);
    const list = await get(api.base, '/api/v1/sessions');
    assert.equal(list.status, 501);
  });

  it('the worker registered itself in Redis with its profile queue and a TTL', async () => {
    const { Redis } = await import('ioredis');
    const client = new Redis(redis.url);
    try {
      const record = JSON.parse((await client.get(`rc:worker:${worker.id}`))!);
      assert.equal(record.queue, worker.queue);
      assert.equal(record.concurrency, 2);
      const ttl = await client.pttl(`rc:worker:${worker.id}`);
      assert.ok(ttl > 0 && ttl <= 6000, `ttl ${ttl}`);
      const profile = JSON.parse((await client.hget('rc:profiles', worker.queue))!);
      assert.deepEqual(profile.capabilities, ['bwrap:bash', 'bwrap:python']);
      assert.match(worker.queue, /^exec-[0-9a-f]{12}$/);
    } finally {
      client.disconnect();
    }
  });

  it('MCP run_code works over the queue; session tools answer NOT_IN_QUEUE_MODE', async () => {
    const client = new Client({ name: 'runner-codes-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${api.base}/mcp`)));
    try {
      const answer = await ok(client, 'run_code', { language: 'python', code: 'print("via mcp")' });
      assert.match(answer.text, /via mcp/);
      const session = await call(client, 'create_session', { language: 'python' });
      assert.equal(session.isError, true);
      assert.match(session.text, /queue mode/);
    } finally {
      await client.close();
    }
  });

  it('the worker serves Prometheus /metrics labelled with its id', async () => {
    const metrics = await get(`http://127.0.0.1:${metricsPort}`, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /runner_codes_worker_executions_total\{[^}]*language="python"[^}]*status="success"[^}]*worker="exec-w1"[^}]*\} [1-9]/);
    assert.match(metrics.text, /runner_codes_worker_running\{worker="exec-w1"\} 0/);
  });
});
