import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LANGUAGES } from '../../src/languages/catalog.js';
import { getLanguage } from '../../src/languages/lookup.js';
import { engine, run } from '../helpers/engine.js';
import { skipUnlessBuilt } from '../helpers/images.js';

/** Prints its arguments one per line and exits 7: the same program in each language. */
const ARGS_AND_EXIT: Record<string, string> = {
  python: 'import sys\nfor a in sys.argv[1:]: print(a)\nsys.exit(7)\n',
  javascript: 'for (const a of process.argv.slice(2)) console.log(a);\nprocess.exit(7);\n',
  bash: 'for a in "$@"; do echo "$a"; done\nexit 7\n',
  c: '#include <stdio.h>\nint main(int c, char **v) { for (int i = 1; i < c; i++) puts(v[i]); return 7; }\n',
  cpp: '#include <iostream>\nint main(int c, char **v) { for (int i = 1; i < c; i++) std::cout << v[i] << "\\n"; return 7; }\n',
};

for (const id of DEFAULT_LANGUAGES) {
  const language = getLanguage(id);
  describe(`language ${id}`, () => {
    it('runs the conformance program (stdin in, greeting and 5050 out)', async () => {
      const result = await run({ language: id, code: language.conformance.code, stdin: language.conformance.stdin });
      assert.equal(result.stdout, language.conformance.stdout, result.stderr);
      assert.equal(result.exit_code, 0);
      assert.equal(result.language, id);
      assert.match(result.version ?? '', /^\d+\.\d+/);
      assert.match(result.load_time, /^\d+ms$/);
    });

    it('passes arguments (with spaces and unicode) and returns a non-zero exit code', async () => {
      const args = ['one', 'two words', 'ünïcödé ✓', '--flag'];
      const result = await run({ language: id, code: ARGS_AND_EXIT[id]!, args });
      assert.equal(result.stdout, args.map((a) => `${a}\n`).join(''));
      assert.equal(result.exit_code, 7);
      assert.equal(result.signal, null);
      assert.equal(result.timed_out, false);
    });

    it('answers to its aliases', async () => {
      for (const alias of language.aliases) {
        const result = await run({ language: alias.toUpperCase(), code: language.conformance.code, stdin: 'alias' });
        assert.equal(result.language, id);
        assert.match(result.stdout, /^Hello, alias!/);
      }
    });

    if (language.compileError) {
      it('reports a compile error as a failed compile stage with the compiler message', async () => {
        const result = await run({ language: id, code: language.compileError!.code });
        assert.ok(result.compile, 'compile stage reported');
        assert.notEqual(result.compile.exit_code, 0);
        assert.match(result.compile.stderr, /error/);
        assert.equal(result.stderr, result.compile.stderr, 'top-level fields describe the last stage that ran');
        assert.equal(result.timings.exec_ms, 0, 'the run stage did not run');
      });
    }
  });
}

const sandboxes = await engine();

describe('multi-file programs', () => {
  it('compiles every C source and runs the entry', async () => {
    const result = await run({
      language: 'c',
      files: [
        { name: 'main.c', content: '#include "lib/add.h"\n#include <stdio.h>\nint main(void) { printf("%d\\n", add(2, 3)); return 0; }\n' },
        { name: 'lib/add.h', content: 'int add(int a, int b);\n' },
        { name: 'lib/add.c', content: '#include "add.h"\nint add(int a, int b) { return a + b; }\n' },
      ],
    });
    assert.equal(result.stdout, '5\n', result.stderr);
  });

  it('runs the named entry among several Python files', async () => {
    const result = await run({
      language: 'python',
      entry: 'app.py',
      files: [
        { name: 'helper.py', content: 'def greet(n):\n    return f"hi {n}"\n' },
        { name: 'app.py', content: 'from helper import greet\nprint(greet("there"))\n' },
      ],
    });
    assert.equal(result.stdout, 'hi there\n', result.stderr);
  });

  it('compiles TypeScript modules that import each other and runs the entry', { skip: skipUnlessBuilt(sandboxes, 'typescript') }, async () => {
    const result = await run({
      language: 'typescript',
      files: [
        { name: 'app/main.ts', content: "import { greet } from './greet.js';\nconsole.log(greet('modules'));\n" },
        { name: 'app/greet.ts', content: 'export function greet(name: string): string {\n  return `hi ${name}`;\n}\n' },
      ],
    });
    assert.equal(result.stdout, 'hi modules\n', JSON.stringify({ status: result.status, exit: result.exit_code, timed_out: result.timed_out, compile: result.compile, stderr: result.stderr }));
  });

  it('compiles TypeScript within a small pids limit (tsc single-threaded: one OS thread per blocked read otherwise)', { skip: skipUnlessBuilt(sandboxes, 'typescript') }, async () => {
    const result = await run({ language: 'typescript', code: "import { readFileSync } from 'node:fs';\nconsole.log(typeof readFileSync);\n", limits: { pids: 16 } });
    assert.equal(result.stdout, 'function\n', JSON.stringify({ status: result.status, compile: result.compile?.stderr?.slice(0, 300) }));
  });

  it('compiles every Java class and runs the named entry class', { skip: skipUnlessBuilt(sandboxes, 'java') }, async () => {
    const result = await run({
      language: 'java',
      entry: 'App.java',
      files: [
        { name: 'Greeter.java', content: 'public class Greeter {\n  static String greet(String n) { return "hi " + n; }\n}\n' },
        { name: 'App.java', content: 'public class App {\n  public static void main(String[] a) { System.out.println(Greeter.greet("java")); }\n}\n' },
      ],
    });
    assert.equal(result.stdout, 'hi java\n', result.compile?.stderr ?? result.stderr);
  });

  it('accepts base64 file content and can return base64 output', async () => {
    const code = Buffer.from('import sys\nsys.stdout.buffer.write(bytes([0, 255, 10]))\n').toString('base64');
    const result = await run({ language: 'python', files: [{ name: 'main.py', content: code, encoding: 'base64' }], outputEncoding: 'base64' });
    assert.deepEqual([...Buffer.from(result.stdout, 'base64')], [0, 255, 10]);
  });

  it('replaces invalid UTF-8 in text output', async () => {
    const result = await run({ language: 'python', code: 'import sys\nsys.stdout.buffer.write(b"ok \\xff\\xfe end")\n' });
    assert.equal(result.stdout, 'ok \uFFFD\uFFFD end');
  });
});
