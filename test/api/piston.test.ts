import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { piston } from 'piston-client';
import { DEFAULT_LANGUAGES } from '../../src/languages/catalog.js';
import { getLanguage } from '../../src/languages/lookup.js';
import { post, testServer } from '../helpers/server.js';

const { base } = await testServer();
// The npm package piston-client, unchanged, pointed at our server.
const client = piston({ server: base });

describe('Piston v2 compatibility, proven with piston-client', () => {
  it('lists runtimes with language, version and aliases', async () => {
    const runtimes = (await client.runtimes()) as { language: string; version: string; aliases: string[] }[];
    for (const id of DEFAULT_LANGUAGES) {
      const runtime = runtimes.find((r) => r.language === id);
      assert.ok(runtime, id);
      assert.match(runtime.version, /^\d+\.\d+/);
      assert.ok(Array.isArray(runtime.aliases));
    }
  });

  for (const id of DEFAULT_LANGUAGES) {
    it(`executes ${id}`, async () => {
      const conformance = getLanguage(id).conformance;
      const result = await client.execute(id, conformance.code, { stdin: conformance.stdin, args: [] });
      assert.equal(result.language, id);
      assert.match(result.version, /^\d+\.\d+/);
      assert.equal(result.run.stdout, conformance.stdout);
      assert.equal(result.run.output, conformance.stdout);
      assert.equal(result.run.code, 0);
      assert.equal(result.run.signal, null);
      assert.equal(result.run.status, null);
      for (const key of ['stdout', 'stderr', 'output', 'code', 'signal', 'message', 'status', 'cpu_time', 'wall_time', 'memory']) assert.ok(key in result.run, key);
      assert.equal('compile' in result, Boolean(getLanguage(id).compile));
    });
  }

  it('reports Piston statuses: RE, TO, OL, and a compile stage', async () => {
    const re = await client.execute('python', 'import sys; sys.exit(3)');
    assert.deepEqual([re.run.code, re.run.status], [3, 'RE']);
    const to = await client.execute('bash', 'sleep 5', { runTimeout: 200 });
    assert.deepEqual([to.run.status, to.run.signal, to.run.code], ['TO', 'SIGKILL', null]);
    const broken = await client.execute('c++', 'int main() { return nope; }');
    assert.equal(broken.compile.code, 1);
    assert.equal(broken.compile.status, 'RE');
    assert.match(broken.compile.stderr, /nope/);
  });

  it('accepts named, base64 and hex files and memory limits in bytes', async () => {
    const r = await post(base, '/api/v2/execute', {
      language: 'python',
      version: '3',
      files: [
        { name: 'main.py', content: Buffer.from('import util\nutil.hi()\n').toString('hex'), encoding: 'hex' },
        { name: 'util.py', content: Buffer.from('def hi(): print("hi")\n').toString('base64'), encoding: 'base64' },
      ],
      run_memory_limit: 64 * 1024 * 1024,
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.run.stdout, 'hi\n');
  });

  it("answers an unknown runtime like Piston: 400 {message}", async () => {
    const r = await post(base, '/api/v2/execute', { language: 'python', version: '2.7', files: [{ content: 'print 1' }] });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { message: 'language: python-2.7 runtime is unknown' });
  });
});
