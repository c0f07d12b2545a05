import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RunnerError } from '../../src/errors.js';
import type { ExecuteRequest } from '../../src/engine/request.js';
import { engine } from '../helpers/engine.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';

async function rejects(request: ExecuteRequest, code: string, message: RegExp): Promise<void> {
  const e = await engine();
  await assert.rejects(e.execute(request), (err: unknown) => {
    assert.ok(err instanceof RunnerError, `expected a RunnerError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('bad input gets a clear error and starts nothing', () => {
  it('unknown language', () => rejects({ language: 'cobol-9000', code: 'x' }, 'RC_ERR_UNKNOWN_LANGUAGE', /unsupported language 'cobol-9000'/));
  it('empty code', () => rejects({ language: 'python', code: '   ' }, 'RC_ERR_INVALID_REQUEST', /^code: must not be empty/));
  it('neither code nor files', () => rejects({ language: 'python' }, 'RC_ERR_INVALID_REQUEST', /^code: code or files is required/));
  it('../ in a file name', () => rejects({ language: 'python', files: [{ name: '../evil.py', content: 'x' }] }, 'RC_ERR_INVALID_REQUEST', /^files\[0\]\.name: must not contain '\.\.'/));
  it('nested .. in a file name', () => rejects({ language: 'python', files: [{ name: 'a/../../b.py', content: 'x' }] }, 'RC_ERR_INVALID_REQUEST', /files\[0\]\.name/));
  it('absolute file name', () => rejects({ language: 'python', files: [{ name: '/etc/passwd', content: 'x' }] }, 'RC_ERR_INVALID_REQUEST', /^files\[0\]\.name: must be a relative path/));
  it('NUL in a file name', () => rejects({ language: 'python', files: [{ name: 'a\0b', content: 'x' }] }, 'RC_ERR_INVALID_REQUEST', /NUL/));
  it('duplicate file names', () => rejects({ language: 'python', files: [{ name: 'a.py', content: 'x' }, { name: 'a.py', content: 'y' }] }, 'RC_ERR_INVALID_REQUEST', /given twice/));
  it('unknown entry', () => rejects({ language: 'python', files: [{ name: 'a.py', content: 'x' }], entry: 'b.py' }, 'RC_ERR_INVALID_REQUEST', /^entry:/));
  it('2 MB of stdin', () => rejects({ language: 'python', code: 'print(1)', stdin: 'x'.repeat(2 * 1024 * 1024) }, 'RC_ERR_STDIN_TOO_LARGE', /^stdin: is 2097152 bytes, more than the 1048576-byte maximum/));
  it('timeout above the server maximum', () => rejects({ language: 'python', code: 'print(1)', limits: { timeoutMs: 10_000_000 } }, 'RC_ERR_INVALID_REQUEST', /^timeout: must be at most 60000 ms/));
  it('negative memory', () => rejects({ language: 'python', code: 'print(1)', limits: { memoryMb: -5 } }, 'RC_ERR_INVALID_REQUEST', /^memory: must be at least 16 MB/));
  it('non-integer pids', () => rejects({ language: 'python', code: 'print(1)', limits: { pids: 1.5 } }, 'RC_ERR_INVALID_REQUEST', /^pids: must be an integer/));
  it('invalid base64 content', () => rejects({ language: 'python', files: [{ name: 'a.py', content: '!!!', encoding: 'base64' }] }, 'RC_ERR_INVALID_REQUEST', /is not valid base64/));
  it('bad env name', () => rejects({ language: 'python', code: 'print(1)', env: { 'A=B': 'x' } }, 'RC_ERR_INVALID_REQUEST', /env\.A=B/));

  it('left nothing behind', () => {
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });
});
