import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError, RunnerCodes } from '../../src/client/index.js';
import { get, post, testServer } from '../helpers/server.js';

const { base } = await testServer();
/** The package's own client, where a test needs no raw HTTP (headers, non-JSON bodies). */
const rc = new RunnerCodes({ baseUrl: base });

describe('POST /api/v1/execute', () => {
  it('runs code and returns the result object with the trace id as header and field', async () => {
    const r = await post(base, '/api/v1/execute', { language: 'python', code: 'print(input() * 2)', stdin: 'ab' });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'success');
    assert.equal(r.body.stdout, 'abab\n');
    assert.equal(r.body.exit_code, 0);
    assert.match(r.body.load_time, /^\d+ms$/);
    assert.match(r.body.exec_time, /^\d+ms$/);
    assert.equal(r.headers.get('x-trace-id'), r.body.trace_id);
  });

  it('keeps a plain client trace id and replaces an unsafe one', async () => {
    const mine = await post(base, '/api/v1/execute', { language: 'bash', code: 'true' }, { 'x-trace-id': 'my-trace.1' });
    assert.equal(mine.body.trace_id, 'my-trace.1');
    const unsafe = await post(base, '/api/v1/execute', { language: 'bash', code: 'true' }, { 'x-trace-id': 'a b<script>/../x' });
    assert.match(unsafe.body.trace_id, /^[0-9a-f-]{36}$/);
  });

  it('runs multi-file, args, env and limits, and reports compile errors', async () => {
    // The client returns the result of a 200 and throws on any other status.
    const r = await rc.execute({
      language: 'c',
      files: [{ name: 'main.c', content: '#include <stdio.h>\n#include <stdlib.h>\nint main(int c, char **v){printf("%s %s\\n", v[1], getenv("GREETING"));return 4;}' }],
      args: ['arg1'],
      env: { GREETING: 'hey' },
      timeout: 2000,
      memory: 128,
    });
    assert.equal(r.stdout, 'arg1 hey\n');
    assert.equal(r.exit_code, 4);
    assert.equal(r.compile?.exit_code, 0);
    const broken = await rc.execute({ language: 'cpp', code: 'int main() { return nope; }' });
    assert.notEqual(broken.compile?.exit_code, 0);
    assert.match(broken.stderr, /nope/);
  });

  it('reports a timeout as a successful execution with timed_out', async () => {
    const r = await rc.execute({ language: 'bash', code: 'sleep 5', timeout: 200 });
    assert.equal(r.timed_out, true);
    assert.equal(r.signal, 'SIGKILL');
  });
});

describe("POST /api/v1/run (the original project's shape)", () => {
  const files = [{ name: 'main.py', content: 'import sys\nline = input()\nprint(line.upper())\nsys.exit(1 if line == "fail" else 0)\n' }];

  it('runs once for a string stdin', async () => {
    const r = await post(base, '/api/v1/run', { language: 'python', files, stdin: 'hello' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'success', stdout: 'HELLO\n', stderr: null, exception: null, executionTime: r.body.executionTime });
    assert.equal(typeof r.body.executionTime, 'number');
  });

  it('runs once per element of an array stdin, in order, each echoing its stdin', async () => {
    const inputs = ['a', 'fail', 'c', 'd'];
    const r = await post(base, '/api/v1/run', { language: 'python', files, stdin: inputs });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.map((x: { stdin: string }) => x.stdin), inputs);
    assert.deepEqual(r.body.map((x: { stdout: string }) => x.stdout), ['A\n', 'FAIL\n', 'C\n', 'D\n']);
    assert.deepEqual(r.body.map((x: { status: string }) => x.status), ['success', 'failed', 'success', 'success']);
    assert.equal(r.body[1].exception, 'exited with code 1');
  });

  it('says E001 for a program that times out', async () => {
    const r = await post(base, '/api/v1/run', { language: 'bash', files: [{ name: 'a.sh', content: 'sleep 30' }] });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'failed');
    assert.equal(r.body.exception, 'E001 operation timed out');
  });

  it('uses the original error codes with real HTTP statuses', async () => {
    const unknown = await post(base, '/api/v1/run', { language: 'klingon', files });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.code, 'E006');
    assert.equal(unknown.body.message, "unsupported language 'klingon'");
    const big = await post(base, '/api/v1/run', { language: 'python', files, stdin: 'x'.repeat(1024 * 1024 + 1) });
    assert.equal(big.status, 413);
    assert.equal(big.body.code, 'E005');
    assert.match(big.body.message, /^stdin: /);
  });
});

describe('languages, health, readiness, metrics, docs', () => {
  it('lists languages with version, installed and default limits', async () => {
    const python = (await rc.languages()).find((l) => l.id === 'python');
    assert.equal(python?.installed, true);
    assert.match(python.version ?? '', /^3\./);
    assert.deepEqual(python.limits, { timeout: 10000, compile_timeout: 30000, memory: 256, pids: 64, output_limit: 1048576 });
    assert.equal((await rc.language('py')).id, 'python');
    const missing = await rc.language('klingon').catch((err: unknown) => err);
    assert.ok(missing instanceof NotFoundError, String(missing));
    assert.equal(missing.status, 404);
    assert.equal(missing.code, 'RC_ERR_NOT_FOUND');
  });

  it('shows the warm pool: python became active and served from it', async () => {
    for (let i = 0; i < 3; i++) await rc.execute({ language: 'python', code: 'print(1)' });
    const pool = (await get(base, '/api/v1/pool')).body;
    assert.equal(pool.enabled, true);
    const python = pool.images.find((p: { image: string }) => p.image === 'python');
    assert.equal(python.target, 2);
    assert.ok(python.hits >= 1, JSON.stringify(python));
    assert.ok(pool.idle_memory_bytes > 0);
    // What the memory cap expects one more python sandbox to take: the most one was seen charged idle.
    assert.ok(python.expected_memory_bytes > 0 && python.expected_memory_bytes * python.idle >= python.idle_memory_bytes, JSON.stringify(python));
  });

  it('reports the pool per backend, in /api/v1/pool and in /metrics', async () => {
    const pool = (await get(base, '/api/v1/pool')).body;
    const python = pool.images.find((p: { image: string }) => p.image === 'python');
    assert.equal(python.backend, 'bwrap');
    assert.deepEqual(pool.backends.map((b: { backend: string }) => b.backend), ['bwrap']);
    const metrics = (await get(base, '/metrics')).text;
    assert.match(metrics, /^runner_codes_pool_hits_total\{backend="bwrap",image="python"\} [1-9]/m);
    assert.match(metrics, /^runner_codes_pool_idle_sandboxes\{backend="bwrap",image="python"\} \d+$/m);
    assert.match(metrics, /^runner_codes_pool_idle_memory_bytes\{backend="bwrap"\} \d+$/m);
  });

  it('answers health and readiness', async () => {
    assert.deepEqual((await get(base, '/health')).body, { status: 'ok' });
    const ready = await get(base, '/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.backend, 'bwrap');
    assert.ok(ready.body.languages.includes('python'));
  });

  it('exports Prometheus metrics for executions, latency, sandboxes and queue', async () => {
    const r = await get(base, '/metrics');
    assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(r.text, /^runner_codes_executions_total\{language="python",outcome="ok"\} [1-9]/m);
    assert.match(r.text, /^runner_codes_executions_total\{language="bash",outcome="timeout"\} [1-9]/m);
    for (const name of ['runner_codes_queue_seconds_bucket', 'runner_codes_load_seconds_bucket', 'runner_codes_exec_seconds_bucket', 'runner_codes_sandboxes_in_use', 'runner_codes_queue_length']) {
      assert.match(r.text, new RegExp(`^${name}`, 'm'), name);
    }
  });

  it('serves an OpenAPI 3 document of every route and a docs page', async () => {
    const doc = (await get(base, '/openapi.json')).body;
    assert.match(doc.openapi, /^3\./);
    for (const path of ['/api/v1/execute', '/api/v1/run', '/api/v1/languages', '/api/v1/languages/{id}', '/api/v2/execute', '/api/v2/runtimes', '/health', '/ready', '/metrics']) {
      assert.ok(doc.paths[path], path);
    }
    const execute = doc.paths['/api/v1/execute'].post;
    assert.equal(execute.requestBody.content['application/json'].schema.additionalProperties, false);
    const docs = await get(base, '/docs/');
    assert.equal(docs.status, 200);
    assert.match(docs.text, /swagger/i);
  });
});
