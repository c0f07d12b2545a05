import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getLanguage } from '../../src/languages/lookup.js';
import type { LanguageFamily } from '../../src/languages/types.js';
import { engine } from '../helpers/engine.js';
import { skipUnlessBuilt } from '../helpers/images.js';

/**
 * Behaviour every language of a family shares, checked on representatives of each family:
 * a runtime error comes back as a failed run with the runtime's message on stderr (what ran before
 * it kept on stdout), all of stdin is readable, unicode output arrives intact, and the program's
 * exit code is the execution's exit code.
 */
interface FamilyCases {
  family: LanguageFamily;
  runtimeError: { code: string; stderr: string; exitCode?: number; signal?: string };
  /** Reads every line of `1\n2\n3\n4\n` (numbers) and prints their count and sum. */
  stdin: { code: string; stdout: string };
  /** Prints UNICODE (and a newline) exactly. */
  unicode: { code: string; stdout: string };
  exit?: { code: string; exitCode: number };
}

const UNICODE = 'héllo wörld ✓ 日本語 🚀';
const NUMBERS = '1\n2\n3\n4\n';

const CASES: Record<string, FamilyCases> = {
  python: {
    family: 'interpreted',
    runtimeError: { code: 'print("before", flush=True)\n1 / 0\n', stderr: 'ZeroDivisionError', exitCode: 1 },
    stdin: { code: 'import sys\nnums = [int(x) for x in sys.stdin.read().split()]\nprint(len(nums), sum(nums))\n', stdout: '4 10\n' },
    unicode: { code: `print("${UNICODE}")\n`, stdout: `${UNICODE}\n` },
    exit: { code: 'import sys\nsys.exit(3)\n', exitCode: 3 },
  },
  javascript: {
    family: 'interpreted',
    runtimeError: { code: 'console.log("before");\nnull.property;\n', stderr: 'TypeError', exitCode: 1 },
    stdin: {
      code: "const n = require('fs').readFileSync(0, 'utf8').split(/\\s+/).filter(Boolean).map(Number);\nconsole.log(n.length, n.reduce((a, b) => a + b, 0));\n",
      stdout: '4 10\n',
    },
    unicode: { code: `console.log("${UNICODE}");\n`, stdout: `${UNICODE}\n` },
    exit: { code: 'process.exit(3);\n', exitCode: 3 },
  },
  c: {
    family: 'compiled',
    runtimeError: {
      code: '#include <stdio.h>\nint main(void) {\n  puts("before");\n  fflush(stdout);\n  volatile int *p = 0;\n  return *p;\n}\n',
      stderr: '',
      signal: 'SIGSEGV',
    },
    stdin: {
      code: '#include <stdio.h>\nint main(void) {\n  int x, n = 0, s = 0;\n  while (scanf("%d", &x) == 1) { n++; s += x; }\n  printf("%d %d\\n", n, s);\n  return 0;\n}\n',
      stdout: '4 10\n',
    },
    unicode: { code: `#include <stdio.h>\nint main(void) { puts("${UNICODE}"); return 0; }\n`, stdout: `${UNICODE}\n` },
    exit: { code: 'int main(void) { return 3; }\n', exitCode: 3 },
  },
  rust: {
    family: 'compiled',
    runtimeError: {
      code: 'fn main() {\n    println!("before");\n    let v: Vec<i32> = Vec::new();\n    let i = std::env::args().count();\n    println!("{}", v[i]);\n}\n',
      stderr: 'index out of bounds',
      exitCode: 101,
    },
    stdin: {
      code: 'use std::io::Read;\nfn main() {\n    let mut s = String::new();\n    std::io::stdin().read_to_string(&mut s).unwrap();\n' +
        '    let n: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n' +
        '    println!("{} {}", n.len(), n.iter().sum::<i64>());\n}\n',
      stdout: '4 10\n',
    },
    unicode: { code: `fn main() { println!("${UNICODE}"); }\n`, stdout: `${UNICODE}\n` },
    exit: { code: 'fn main() { std::process::exit(3); }\n', exitCode: 3 },
  },
  java: {
    family: 'jvm',
    runtimeError: {
      code: 'public class Main {\n  public static void main(String[] args) {\n    System.out.println("before");\n    throw new IllegalStateException("boom");\n  }\n}\n',
      stderr: 'java.lang.IllegalStateException: boom',
      exitCode: 1,
    },
    stdin: {
      code: 'import java.io.*;\npublic class Main {\n  public static void main(String[] args) throws IOException {\n' +
        '    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));\n    int n = 0, s = 0;\n' +
        '    for (String line; (line = in.readLine()) != null; ) { n++; s += Integer.parseInt(line.trim()); }\n' +
        '    System.out.println(n + " " + s);\n  }\n}\n',
      stdout: '4 10\n',
    },
    unicode: { code: `public class Main {\n  public static void main(String[] args) {\n    System.out.println("${UNICODE}");\n  }\n}\n`, stdout: `${UNICODE}\n` },
    exit: { code: 'public class Main {\n  public static void main(String[] args) {\n    System.exit(3);\n  }\n}\n', exitCode: 3 },
  },
  elixir: {
    family: 'beam',
    runtimeError: { code: 'IO.puts("before")\nraise "boom"\n', stderr: '** (RuntimeError) boom', exitCode: 1 },
    stdin: {
      code: 'nums = IO.read(:stdio, :eof) |> String.split() |> Enum.map(&String.to_integer/1)\nIO.puts("#{length(nums)} #{Enum.sum(nums)}")\n',
      stdout: '4 10\n',
    },
    unicode: { code: `IO.puts("${UNICODE}")\n`, stdout: `${UNICODE}\n` },
    exit: { code: 'System.halt(3)\n', exitCode: 3 },
  },
  postgresql: {
    family: 'database',
    runtimeError: { code: "SELECT 'before' AS step;\nSELECT 1 / 0;\n", stderr: 'division by zero', exitCode: 3 },
    stdin: {
      code: 'CREATE TABLE t (n int);\n\\copy t FROM pstdin\nSELECT count(*) AS n, sum(n) AS total FROM t;\n',
      stdout: ' n | total \n---+-------\n 4 |    10\n(1 row)\n\n',
    },
    unicode: { code: `SELECT '${UNICODE}' AS text;\n`, stdout: ` ${UNICODE}\n` },
  },
  mysql: {
    family: 'database',
    runtimeError: { code: "SELECT 'before' AS step;\nSELECT * FROM missing_table;\n", stderr: "Table 'sandbox.missing_table' doesn't exist", exitCode: 1 },
    stdin: {
      code: "CREATE TABLE t (n INT);\nLOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE t;\nSELECT COUNT(*) AS n, SUM(n) AS total FROM t;\n",
      stdout: '+---+-------+\n| n | total |\n+---+-------+\n| 4 |    10 |\n+---+-------+\n',
    },
    unicode: { code: `SELECT '${UNICODE}' AS text;\n`, stdout: UNICODE },
  },
};

const e = await engine();

for (const [id, cases] of Object.entries(CASES)) {
  const language = getLanguage(id);
  describe(`${cases.family} family: ${id}`, { skip: skipUnlessBuilt(e, id) }, () => {
    it('is catalogued in this family', () => assert.equal(language.family, cases.family));

    it('reports a runtime error as a failed run with the runtime message, keeping earlier output', async () => {
      const result = await e.execute({ language: id, code: cases.runtimeError.code });
      assert.equal(result.status, 'success', 'the sandbox worked; the program failed');
      assert.match(result.stdout, /before/);
      assert.ok(result.stderr.includes(cases.runtimeError.stderr), `expected '${cases.runtimeError.stderr}' in stderr: ${result.stderr}`);
      if (cases.runtimeError.signal) assert.equal(result.signal, cases.runtimeError.signal);
      else assert.equal(result.exit_code, cases.runtimeError.exitCode);
    });

    it('reads all of stdin', async () => {
      const result = await e.execute({ language: id, code: cases.stdin.code, stdin: NUMBERS });
      assert.equal(result.stdout, cases.stdin.stdout, result.stderr);
      assert.equal(result.exit_code, 0);
    });

    it('prints unicode intact', async () => {
      const result = await e.execute({ language: id, code: cases.unicode.code });
      assert.ok(result.stdout.includes(cases.unicode.stdout), `stdout: ${result.stdout} stderr: ${result.stderr}`);
      assert.equal(result.exit_code, 0);
    });

    if (cases.exit) {
      const exit = cases.exit;
      it('returns the program exit code', async () => {
        const result = await e.execute({ language: id, code: exit.code });
        assert.equal(result.exit_code, exit.exitCode, result.stderr);
        assert.equal(result.signal, null);
      });
    }
  });
}
