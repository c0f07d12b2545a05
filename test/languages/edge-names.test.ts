import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/config/paths.js';
import { engine } from '../helpers/engine.js';
import { skipUnlessBuilt } from '../helpers/images.js';
import { post, testServer } from '../helpers/server.js';

/**
 * Programs under names their code does not imply, through the edges: Piston's own per-language test
 * files as Piston's clients send them (every file named `test.<ext>`) to the real server's Piston
 * and v1 routes, and a local file given to the CLI with --file. The service names each file after
 * its unit, so they run unchanged; Scala 3 syntax gets a 400 naming the gap.
 */
const { base } = await testServer();
const e = await engine();

const PROGRAMS: { language: string; name: string; content: string }[] = [
  { language: 'java', name: 'test.java', content: 'public class HelloWorld {\n    public static void main(String[] args) {\n        System.out.println("OK");\n    }\n}\n' },
  { language: 'erlang', name: 'test.erl', content: '#!/usr/bin/env escript\n\nmain(_) ->\n    io:format("OK~n").\n' },
  { language: 'haxe', name: 'test.hx', content: 'class Test {\n    static function main() {\n        Sys.println("OK");\n    }\n}\n' },
];

describe('Piston test files under their Piston names', () => {
  for (const program of PROGRAMS) {
    it(`runs ${program.language}'s ${program.name} through /api/v2/execute`, { skip: skipUnlessBuilt(e, program.language) }, async () => {
      const r = await post(base, '/api/v2/execute', { language: program.language, version: '*', files: [{ name: program.name, content: program.content }] });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.run.stdout, 'OK\n', JSON.stringify(r.body));
      assert.equal(r.body.run.code, 0);
    });
  }

  it('answers Scala 3 syntax with a 400 naming the field and the missing compiler', { skip: skipUnlessBuilt(e, 'scala') }, async () => {
    const r = await post(base, '/api/v1/execute', { language: 'scala', files: [{ name: 'test.scala', content: '@main def hello() = println("OK")\n' }] });
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.body), /files\[0\]\.content: Scala 3 syntax .* needs a Scala 3 compiler/);
  });
});

describe('the CLI names --file sources after their units', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rc-names-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs `public class Main` given as --file hello.java', { skip: skipUnlessBuilt(e, 'java') }, async () => {
    const file = join(dir, 'hello.java');
    writeFileSync(file, 'public class Main {\n    public static void main(String[] args) {\n        System.out.println("OK");\n    }\n}\n');
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [join(packageRoot, 'dist', 'src', 'cli', 'index.js'), 'run', '--lang', 'java', '--file', file], (err, out, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out),
      );
    });
    assert.equal(stdout, 'OK\n');
  });
});
