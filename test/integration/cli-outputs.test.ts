import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/config/paths.js';

/* `infra.operator run --outputs-dir DIR` saves what the program left under outputs/ (a real bwrap
 * sandbox); without it the CLI says the files exist. Fails on main: no such flag. */

const CLI = join(packageRoot, 'dist', 'src', 'cli', 'index.js');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'rc-cli-outputs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PROGRAM = 'import os\nos.makedirs("outputs/sub")\nopen("outputs/sub/a.txt", "w").write("hi")\nopen("outputs/b.csv", "w").write("1,2")\nos.symlink("/etc/passwd", "outputs/passwd")\nprint("done")\n';

it('run --outputs-dir writes the output files there, and only those', async () => {
  const out = join(dir, 'out');
  const { stdout, stderr } = await run(process.execPath, [CLI, 'run', '--lang', 'python', '--code', PROGRAM, '--outputs-dir', out]);
  assert.equal(stdout, 'done\n');
  assert.match(stderr, /wrote .*b\.csv, wrote .*sub\/a\.txt/);
  assert.deepEqual(readdirSync(out, { recursive: true }).map(String).sort(), ['b.csv', 'sub', 'sub/a.txt']);
  assert.equal(readFileSync(join(out, 'sub', 'a.txt'), 'utf8'), 'hi');
});

it('run without --outputs-dir says how many files it did not save', async () => {
  const { stderr } = await run(process.execPath, [CLI, 'run', '--lang', 'python', '--code', PROGRAM]);
  assert.match(stderr, /2 file\(s\) under outputs\/ not saved \(--outputs-dir DIR saves them\)/);
});
