import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { get, post, testServer, type Reply } from '../helpers/server.js';

const { base } = await testServer();

function expectError(r: Reply, status: number, code: string, message: RegExp): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error.code, code);
  assert.match(r.body.error.message, message);
  assert.match(r.body.trace_id, /\S/);
}

describe('malformed input gets a 4xx naming the problem, and the server keeps serving', () => {
  const ok = { language: 'python', code: 'print(1)' };

  it('invalid JSON', async () => expectError(await post(base, '/api/v1/execute', '{"language": "python",'), 400, 'RC_ERR_INVALID_REQUEST', /^body: is not valid JSON$/));
  it('empty body', async () => expectError(await post(base, '/api/v1/execute', ''), 400, 'RC_ERR_INVALID_REQUEST', /^body: must not be empty$/));
  it('a JSON array instead of an object', async () => expectError(await post(base, '/api/v1/execute', [1, 2]), 400, 'RC_ERR_INVALID_REQUEST', /^body: must be object$/));
  it('missing language', async () => expectError(await post(base, '/api/v1/execute', { code: 'x' }), 400, 'RC_ERR_INVALID_REQUEST', /^language: is required$/));
  it('wrong type', async () => expectError(await post(base, '/api/v1/execute', { ...ok, timeout: '100' }), 400, 'RC_ERR_INVALID_REQUEST', /^timeout: must be integer$/));
  it('wrong nested type', async () => expectError(await post(base, '/api/v1/execute', { language: 'python', files: [{ name: 'a.py', content: 5 }] }), 400, 'RC_ERR_INVALID_REQUEST', /^files\[0\]\.content: must be string$/));
  it('huge number', async () => expectError(await post(base, '/api/v1/execute', { ...ok, timeout: 1e308 }), 400, 'RC_ERR_INVALID_REQUEST', /^timeout: must be at most 60000 ms \(server maximum\)$/));
  it('negative limit', async () => expectError(await post(base, '/api/v1/execute', { ...ok, memory: -1 }), 400, 'RC_ERR_INVALID_REQUEST', /^memory: must be >= 1$/));
  it('limit above the maximum', async () => expectError(await post(base, '/api/v1/execute', { ...ok, memory: 99999 }), 400, 'RC_ERR_INVALID_REQUEST', /^memory: must be at most 2048 MB/));
  it('unknown field', async () => {
    const r = await post(base, '/api/v1/execute', { ...ok, timeout_ms: 5 });
    expectError(r, 400, 'RC_ERR_INVALID_REQUEST', /^timeout_ms: is not a known field$/);
    assert.equal(r.body.error.field, 'timeout_ms');
  });
  it('unknown nested field', async () => expectError(await post(base, '/api/v1/execute', { language: 'python', files: [{ name: 'a.py', content: 'x', mode: 7 }] }), 400, 'RC_ERR_INVALID_REQUEST', /^files\[0\]\.mode: is not a known field$/));
  it('neither code nor files', async () => expectError(await post(base, '/api/v1/execute', { language: 'python' }), 400, 'RC_ERR_INVALID_REQUEST', /^code: code or files is required$/));
  it('path traversal in a file name', async () => {
    const r = await post(base, '/api/v1/execute', { language: 'python', files: [{ name: '../../etc/cron.d/x', content: 'x' }] });
    expectError(r, 400, 'RC_ERR_INVALID_REQUEST', /^files\[0\]\.name: must not contain '\.\.' components$/);
    assert.equal(r.body.error.field, 'files[0].name');
  });
  it('unknown language', async () => {
    const r = await post(base, '/api/v1/execute', { language: 'klingon', code: 'x' });
    expectError(r, 400, 'RC_ERR_UNKNOWN_LANGUAGE', /^unsupported language 'klingon'$/);
    assert.equal(r.body.error.legacy_code, 'E006');
  });
  it('invalid UTF-8', async () => {
    const bytes = Buffer.concat([Buffer.from('{"language":"python","code":"print(\''), Buffer.from([0xff, 0xfe]), Buffer.from('\')"}')]);
    expectError(await post(base, '/api/v1/execute', bytes), 415, 'RC_ERR_UNSUPPORTED_MEDIA_TYPE', /^body: is not valid UTF-8$/);
  });
  it('not JSON', async () => expectError(await post(base, '/api/v1/execute', 'language=python', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'RC_ERR_UNSUPPORTED_MEDIA_TYPE', /application\/json/));
  it('a 10 MB body', async () => expectError(await post(base, '/api/v1/execute', { ...ok, stdin: 'x'.repeat(10 * 1024 * 1024) }), 413, 'RC_ERR_BODY_TOO_LARGE', /^body: is larger than the server accepts$/));
  it('stdin over 1 MiB', async () => {
    const r = await post(base, '/api/v1/execute', { ...ok, stdin: 'x'.repeat(2 * 1024 * 1024) });
    expectError(r, 413, 'RC_ERR_STDIN_TOO_LARGE', /^stdin: is 2097152 bytes, more than the 1048576-byte maximum$/);
    assert.equal(r.body.error.legacy_code, 'E005');
  });
  it('code over the maximum', async () => expectError(await post(base, '/api/v1/execute', { language: 'python', code: '#'.repeat(5 * 1024 * 1024) }), 413, 'RC_ERR_CODE_TOO_LARGE', /^code: is more than the 4194304-byte maximum$/));
  it('unknown route', async () => expectError(await post(base, '/api/v1/nope', ok), 404, 'RC_ERR_NOT_FOUND', /^no route POST \/api\/v1\/nope$/));

  it('still serves after all of that', async () => {
    assert.equal((await get(base, '/health')).status, 200);
    const r = await post(base, '/api/v1/execute', ok);
    assert.equal(r.body.stdout, '1\n');
  });
});
