import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { get, post, testServer, type Reply } from '../helpers/server.js';

/**
 * Submissions over HTTP on a real server on loopback with real sandboxes (bwrap): single and batch
 * submissions with verdicts and Judge0 status ids, wait, fields, batch GET, cancel of queued and
 * running submissions, isolation between API keys, retention, bounded outputs, and bad input that
 * queues nothing.
 */
const server = await testServer({ apiKeys: ['key-a', 'key-b'], concurrency: 2, queueLimit: 16, poolSize: 0, maxBatch: 8, callbackAllowlist: ['127.0.0.1:9'], callbackSecret: 'not-used' });
// Retention and storage bounds, on a server of their own so that its short TTL touches no other test.
const small = await testServer({ poolSize: 0, submissionTtlS: 1, submissionMaxOutputBytes: 1000 });
// Closed by a test of its own.
const closing = await testServer({ poolSize: 0, shutdownGraceMs: 1000 });

const A: Record<string, string> = { authorization: 'Bearer key-a' };
const B: Record<string, string> = { authorization: 'Bearer key-b' };
let executions = 0;
server.service.onExecuted(() => executions++);

async function request(method: string, path: string, headers: Record<string, string> = A, base = server.base): Promise<Reply> {
  const res = await fetch(`${base}${path}`, { method, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}
const submit = (body: unknown, headers = A, base = server.base, query = ''): Promise<Reply> => post(base, `/api/v1/submissions${query}`, body, headers);
const waitFor = async (token: string, headers = A, base = server.base): Promise<any> => {
  const reply = await get(base, `/api/v1/submissions/${token}?wait=true`, headers);
  assert.equal(reply.status, 200, reply.text);
  return reply.body;
};
async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('a single submission', () => {
  it('answers 201 with a token at once, then GET ?wait=true gives the done record with the result', async () => {
    const created = await submit({ language: 'python', code: 'print(input()[::-1])', stdin: 'stressed' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.token, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.deepEqual(Object.keys(created.body), ['token']);
    const record = await waitFor(created.body.token);
    assert.equal(record.token, created.body.token);
    assert.equal(record.status, 'done');
    assert.deepEqual(record.judge0_status, { id: 3, description: 'Accepted' });
    assert.equal(record.result.stdout, 'desserts\n');
    assert.equal(record.result.exit_code, 0);
    assert.equal(record.result.verdict, undefined, 'no expected_output: no verdict');
    for (const at of ['created_at', 'started_at', 'finished_at']) assert.ok(!Number.isNaN(Date.parse(record[at])), at);
    assert.ok(Date.parse(record.finished_at) >= Date.parse(record.started_at));
  });

  it('takes Judge0\'s base64_encoded: code, stdin and expected_output in, stdout out as base64', async () => {
    const b64 = (text: string): string => Buffer.from(text).toString('base64');
    const created = await submit({ language: 'python', code: b64('import sys\nsys.stdout.write(sys.stdin.read().upper())'), stdin: b64('abc'), expected_output: b64('ABC') }, A, server.base, '?base64_encoded=true');
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const record = await waitFor(created.body.token);
    assert.equal(record.result.stdout, b64('ABC'));
    assert.equal(record.result.verdict, 'accepted');
    const bad = await submit({ language: 'python', code: 'not base64!', base64_encoded: true });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'code');
  });
});

describe('a batch', () => {
  it('queues every submission, tokens in order, and judges each: verdicts and Judge0 status ids', async () => {
    const batch = [
      { language: 'python', code: 'print(6 * 7)', expected_output: '42' },
      { language: 'python', code: 'print(6 * 7)   \n\n', expected_output: '42  \n\n\n' },
      { language: 'python', code: 'print(41)', expected_output: '42' },
      { language: 'c', code: 'int main(void) { return }', expected_output: '42' },
      { language: 'python', code: 'import time\ntime.sleep(5)', timeout: 300, expected_output: '42' },
      { language: 'python', code: 'import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)' },
      { language: 'python', code: 'raise SystemExit(3)', expected_output: '42' },
    ];
    const created = await submit(batch);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.length, batch.length);
    assert.equal(new Set(created.body.map((t: { token: string }) => t.token)).size, batch.length, 'distinct tokens');
    const records = await Promise.all(created.body.map(({ token }: { token: string }) => waitFor(token)));
    const summary = records.map((r) => [r.status, r.judge0_status.id, r.judge0_status.description, r.result?.verdict]);
    assert.deepEqual(summary, [
      ['done', 3, 'Accepted', 'accepted'],
      ['done', 3, 'Accepted', 'accepted'],
      ['done', 4, 'Wrong Answer', 'wrong_answer'],
      ['done', 6, 'Compilation Error', undefined],
      ['done', 5, 'Time Limit Exceeded', undefined],
      ['done', 7, 'Runtime Error (SIGSEGV)', undefined],
      ['done', 11, 'Runtime Error (NZEC)', undefined],
    ]);
    assert.equal(records[4].result.timed_out, true);
    assert.equal(records[5].result.signal, 'SIGSEGV');
  });

  it('GET ?tokens= returns several records in order, null for a token it does not know', async () => {
    const created = await submit([{ language: 'python', code: 'print(1)' }, { language: 'python', code: 'print(2)' }]);
    const [one, two] = created.body.map((t: { token: string }) => t.token);
    await waitFor(one);
    await waitFor(two);
    const listed = await get(server.base, `/api/v1/submissions?tokens=${two},00000000-0000-0000-0000-000000000000,${one}&fields=token,result.stdout`, A);
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.body, { submissions: [{ token: two, result: { stdout: '2\n' } }, null, { token: one, result: { stdout: '1\n' } }] });
  });
});

describe('?fields=', () => {
  it('selects top-level and result.* fields; an unknown one is a 400 naming fields', async () => {
    const { body } = await submit({ language: 'python', code: 'print("hi")' });
    await waitFor(body.token);
    const picked = await get(server.base, `/api/v1/submissions/${body.token}?fields=status,judge0_status,result.stdout,result.exit_code`, A);
    assert.equal(picked.status, 200, picked.text);
    assert.deepEqual(picked.body, { status: 'done', judge0_status: { id: 3, description: 'Accepted' }, result: { stdout: 'hi\n', exit_code: 0 } });
    const all = await get(server.base, `/api/v1/submissions/${body.token}?fields=*`, A);
    assert.ok('created_at' in all.body && 'trace_id' in all.body.result);
    for (const wrong of ['status,nope', 'result.nope', 'stdout']) {
      const refused = await get(server.base, `/api/v1/submissions/${body.token}?fields=${wrong}`, A);
      assert.equal(refused.status, 400, wrong);
      assert.equal(refused.body.error.field, 'fields');
    }
  });
});

describe('DELETE', () => {
  it('cancels a queued and a running submission: both end failed with RC_ERR_CANCELLED and their sandboxes are gone', async () => {
    const sleeper = { language: 'python', code: 'import time\nprint("started", flush=True)\ntime.sleep(50)', timeout: 60_000 };
    // Two run (concurrency 2), the third waits for a slot.
    const created = await submit([sleeper, sleeper, sleeper]);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const [first, second, third] = created.body.map((t: { token: string }) => t.token);
    await until('two running', async () => (await server.service.load()).running === 2);
    await until('the first running', async () => (await get(server.base, `/api/v1/submissions/${first}`, A)).body.status === 'running');
    const queued = await get(server.base, `/api/v1/submissions/${third}`, A);
    assert.equal(queued.body.status, 'queued');
    assert.deepEqual(queued.body.judge0_status, { id: 1, description: 'In Queue' });
    assert.equal((await get(server.base, `/api/v1/submissions/${first}`, A)).body.judge0_status.id, 2);

    const cancelledQueued = await request('DELETE', `/api/v1/submissions/${third}`);
    assert.equal(cancelledQueued.status, 200, JSON.stringify(cancelledQueued.body));
    assert.equal(cancelledQueued.body.status, 'failed');
    assert.equal(cancelledQueued.body.error.code, 'RC_ERR_CANCELLED');
    assert.equal(cancelledQueued.body.result, undefined);
    const started = Date.now();
    for (const token of [first, second]) {
      const cancelled = await request('DELETE', `/api/v1/submissions/${token}`);
      assert.equal(cancelled.status, 200);
      assert.equal(cancelled.body.status, 'failed');
      assert.equal(cancelled.body.error.code, 'RC_ERR_CANCELLED');
      assert.deepEqual(cancelled.body.judge0_status, { id: 13, description: 'Internal Error' });
    }
    await until('nothing running', async () => { const load = await server.service.load(); return load.running === 0 && load.queued === 0; }, 15_000);
    assert.ok(Date.now() - started < 15_000, 'the running sandboxes were destroyed, not left to sleep');
    // Still failed (the late results of the destroyed runs do not overwrite the cancel), and a finished one is left as it is.
    assert.equal((await get(server.base, `/api/v1/submissions/${first}`, A)).body.status, 'failed');
    const again = await request('DELETE', `/api/v1/submissions/${first}`);
    assert.equal(again.status, 200);
    assert.equal(again.body.error.code, 'RC_ERR_CANCELLED');
  });
});

describe('owner isolation', () => {
  it("another API key's token does not exist: GET, batch GET and DELETE are 404/null", async () => {
    const { body } = await submit({ language: 'python', code: 'print("mine")' });
    await waitFor(body.token);
    const seen = await get(server.base, `/api/v1/submissions/${body.token}`, B);
    assert.equal(seen.status, 404);
    assert.equal(seen.body.error.code, 'RC_ERR_NOT_FOUND');
    assert.equal((await get(server.base, `/api/v1/submissions?tokens=${body.token}`, B)).body.submissions[0], null);
    assert.equal((await request('DELETE', `/api/v1/submissions/${body.token}`, B)).status, 404);
    assert.equal((await get(server.base, `/api/v1/submissions/${body.token}`, {})).status, 401, 'no key at all');
    assert.equal((await get(server.base, `/api/v1/submissions/${body.token}`, A)).body.result.stdout, 'mine\n', 'still there for its owner');
  });
});

describe('retention and bounds', () => {
  it('a finished submission is gone after submission_ttl_s', async () => {
    const { body } = await submit({ language: 'python', code: 'print(1)' }, {}, small.base);
    assert.equal((await waitFor(body.token, {}, small.base)).status, 'done');
    assert.equal((await get(small.base, `/api/v1/submissions/${body.token}`)).status, 200, 'kept right after it finished');
    await sleep(1500);
    const gone = await get(small.base, `/api/v1/submissions/${body.token}`);
    assert.equal(gone.status, 404);
  });

  it('stored outputs are cut at submission_max_output_bytes per stream, with truncated set; the verdict saw the whole output', async () => {
    const { body } = await submit({ language: 'python', code: 'import sys\nprint("é" * 3000)\nsys.stderr.write("e" * 5000)', expected_output: 'é'.repeat(3000) }, {}, small.base);
    const record = await waitFor(body.token, {}, small.base);
    assert.equal(record.status, 'done');
    assert.ok(Buffer.byteLength(record.result.stdout) <= 1000, `stdout ${Buffer.byteLength(record.result.stdout)} bytes`);
    assert.ok(Buffer.byteLength(record.result.stdout) >= 998, 'cut on a whole character');
    assert.match(record.result.stdout, /^é+$/);
    assert.equal(record.result.stderr.length, 1000);
    assert.deepEqual(record.result.truncated, { stdout: true, stderr: true });
    assert.equal(record.result.verdict, 'accepted');
  });
});

describe('bad input', () => {
  const before = async (): Promise<number> => {
    await sleep(300);
    return executions;
  };
  const refused = async (body: unknown, field: string, status = 400): Promise<void> => {
    const reply = await submit(body);
    assert.equal(reply.status, status, JSON.stringify(reply.body));
    assert.equal(reply.body.error.field, field, JSON.stringify(reply.body));
  };
  const good = { language: 'python', code: 'print(1)' };

  it('a bad batch item is a 400 naming [i].field, and nothing of the batch runs', async () => {
    const count = await before();
    await refused([good, { ...good, language: 'klingon' }], '[1].language');
    await refused([good, good, { ...good, timeout: 0 }], '[2].timeout');
    await refused([good, { ...good, nope: 1 }], '[1].nope');
    await refused([good, { language: 'python' }], '[1].code');
    await refused([good, { ...good, memory: 999_999 }], '[1].memory');
    await refused([good, { ...good, backend: 'qemu' }], '[1].backend');
    await refused(Array.from({ length: 9 }, () => good), 'body');
    await refused([], 'body');
    await refused({ ...good, language: 'klingon' }, 'language');
    await sleep(500);
    assert.equal(executions, count, 'no execution ran');
    assert.deepEqual(await server.service.load(), { running: 0, queued: 0 });
  });

  it('callback_url: not allowlisted, a metadata address or not http(s) is a 400 naming callback_url', async () => {
    const count = await before();
    await refused({ ...good, callback_url: 'http://127.0.0.1:8080/hook' }, 'callback_url');
    await refused({ ...good, callback_url: 'http://localhost:9/hook' }, 'callback_url');
    await refused({ ...good, callback_url: 'http://169.254.169.254/latest/meta-data' }, 'callback_url');
    await refused({ ...good, callback_url: 'http://[fd00:ec2::254]/' }, 'callback_url');
    await refused({ ...good, callback_url: 'http://0.0.0.0:9/' }, 'callback_url');
    await refused({ ...good, callback_url: 'file:///etc/passwd' }, 'callback_url');
    await refused({ ...good, callback_url: 'ftp://127.0.0.1:9/' }, 'callback_url');
    await refused({ ...good, callback_url: 'http://user:pw@127.0.0.1:9/' }, 'callback_url');
    await refused([good, { ...good, callback_url: 'gopher://127.0.0.1:9/' }], '[1].callback_url');
    await sleep(500);
    assert.equal(executions, count, 'no execution ran');
  });

  it('an unknown token is a 404; tokens= over max_batch or empty is a 400 naming tokens', async () => {
    assert.equal((await get(server.base, '/api/v1/submissions/nope', A)).status, 404);
    assert.equal((await request('DELETE', '/api/v1/submissions/nope')).status, 404);
    const many = Array.from({ length: 9 }, (_, i) => `t${i}`).join(',');
    for (const tokens of [many, ',']) {
      const reply = await get(server.base, `/api/v1/submissions?tokens=${tokens}`, A);
      assert.equal(reply.status, 400, tokens);
      assert.equal(reply.body.error.field, 'tokens');
    }
    const wait = await get(server.base, '/api/v1/submissions/nope?wait=yes', A);
    assert.equal(wait.status, 400);
    assert.equal(wait.body.error.field, 'wait');
  });
});

describe('shutdown', () => {
  it('answers a waiting GET at once instead of holding the server open, then cancels what runs after the grace period', async () => {
    const { body } = await submit({ language: 'python', code: 'import time\ntime.sleep(50)', timeout: 60_000 }, {}, closing.base);
    await until('running', async () => (await get(closing.base, `/api/v1/submissions/${body.token}`)).body.status === 'running');
    const waiting = get(closing.base, `/api/v1/submissions/${body.token}?wait=true`);
    await sleep(300);
    const started = Date.now();
    const closed = closing.close();
    const answer = await waiting;
    assert.ok(Date.now() - started < 3000, `answered ${Date.now() - started} ms after close()`);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.status, 'running');
    await closed;
    assert.ok(Date.now() - started < 15_000, 'closed after the grace period, not after the program');
  });
});
