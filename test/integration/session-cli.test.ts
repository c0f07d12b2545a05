import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/config/paths.js';
import { settled } from '../helpers/sandbox-procs.js';
import { testServer } from '../helpers/server.js';

/** `infra.operator session …` against a real server on loopback: a session outlives each CLI process. */
const CLI = join(packageRoot, 'dist', 'src', 'cli', 'index.js');
const server = await testServer({ apiKeys: ['cli-key'], poolSize: 0 });

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'session', ...args], { env: { ...process.env, RUNNER_CODES_URL: server.url, RUNNER_CODES_API_KEY: 'cli-key', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

it('create, put, exec (code and command), get, ls, rm: each a new CLI process, one session', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rc-session-cli-'));
  writeFileSync(join(dir, 'data.csv'), 'a,b\n1,2\n');
  const created = await cli(['create', '--lang', 'python', '--env', 'WHO=cli']);
  assert.equal(created.code, 0, created.stderr);
  const id = created.stdout.trim();
  assert.match(id, /^[0-9a-f-]{36}$/);

  assert.equal((await cli(['put', id, join(dir, 'data.csv')])).code, 0);
  const code = await cli(['exec', id, '--code', 'import os\nprint(os.environ["WHO"], open("data.csv").read().count("\\n"))']);
  assert.deepEqual([code.code, code.stdout], [0, 'cli 2\n'], code.stderr);
  const failing = await cli(['exec', id, '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
  assert.deepEqual([failing.code, failing.stdout, failing.stderr], [7, 'out\n', 'err\n'], "exits with the program's code");
  const json = await cli(['exec', id, '--json', '--', 'cat', 'data.csv']);
  assert.equal(JSON.parse(json.stdout).stdout, 'a,b\n1,2\n');

  await cli(['exec', id, '--code', 'open("out.bin", "wb").write(bytes(range(256)))']);
  assert.equal((await cli(['get', id, 'out.bin', join(dir, 'out.bin')])).code, 0);
  assert.deepEqual([...readFileSync(join(dir, 'out.bin'))], Array.from({ length: 256 }, (_, i) => i), 'binary-safe');
  assert.equal((await cli(['get', id, 'data.csv'])).stdout, 'a,b\n1,2\n', 'to stdout without [local]');

  const sessions = await cli(['ls', '--json']);
  assert.deepEqual(JSON.parse(sessions.stdout).map((s: { id: string }) => s.id), [id]);
  const files = await cli(['ls', id]);
  assert.match(files.stdout, /data\.csv/);
  assert.match(files.stdout, /out\.bin/);
  assert.equal((await cli(['rm', id, 'out.bin'])).code, 0);
  assert.doesNotMatch((await cli(['ls', id])).stdout, /out\.bin/);
  const kept = await cli(['keepalive', id, '--json']);
  assert.equal(JSON.parse(kept.stdout).id, id);

  assert.equal((await cli(['rm', id])).code, 0);
  const gone = await cli(['exec', id, '--code', 'print(1)']);
  assert.equal(gone.code, 2, 'a session that is gone is bad input');
  assert.match(gone.stderr, /^error: no such session/);
  assert.deepEqual(await settled(), []);
});

it('bad input names the flag or field, and a missing server names the fix', async () => {
  const id = (await cli(['create', '--lang', 'python'])).stdout.trim();
  const path = await cli(['get', id, '../etc/passwd']);
  assert.equal(path.code, 2);
  assert.match(path.stderr, /^error: path: must not contain '\.\.' components/);
  const neither = await cli(['exec', id]);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /give exactly one of --code, --file or a command/);
  const key = await cli(['ls'], { RUNNER_CODES_API_KEY: 'wrong' });
  assert.notEqual(key.code, 0);
  assert.match(key.stderr, /invalid access_token/);
  const lang = await cli(['create', '--lang', 'klingon']);
  assert.equal(lang.code, 2);
  assert.match(lang.stderr, /klingon/);
  const down = await cli(['ls', '--url', 'http://127.0.0.1:1']);
  assert.equal(down.code, 2);
  assert.match(down.stderr, /cannot reach the server/);
  assert.match(down.stderr, /hint: .*infra\.operator api/);
  assert.doesNotMatch(down.stderr + path.stderr, /\n\s+at /, 'never a stack trace');
  for (const sub of ['create', 'exec', 'put', 'get', 'ls', 'rm', 'keepalive']) {
    const help = await cli([sub, '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--json/, `${sub} --help`);
  }
  await cli(['rm', id]);
});
