import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildJob } from '../../src/engine/job.js';
import { DEFAULT_LIMITS } from '../../src/engine/limits.js';
import { normalizeRequest, type ExecuteRequest } from '../../src/engine/request.js';
import { LANGUAGES } from '../../src/languages/catalog.js';
import { getLanguage } from '../../src/languages/lookup.js';
import { programForm } from '../../src/languages/unit-names.js';

/**
 * How submitted files are named after the units their code defines (no sandbox needed): the
 * matrix runs the same rules on the real toolchains (each language's namingCases).
 */
const normalize = (request: ExecuteRequest) => normalizeRequest(request, getLanguage(request.language));
const paths = (request: ExecuteRequest) => {
  const normalized = normalize(request);
  return { entry: normalized.entry, files: normalized.files.map((file) => file.path) };
};
const stages = (request: ExecuteRequest) =>
  buildJob(getLanguage(request.language), normalize(request), DEFAULT_LIMITS).stages.map((stage) => stage.argv);

describe('file names derived from the code', () => {
  it('names a Java entry after its public class, whatever the caller called it, and runs that class', () => {
    const request = { language: 'java', files: [{ name: 'test.java', content: 'public class Main {\n  public static void main(String[] a) {}\n}\n' }] };
    assert.deepEqual(paths(request), { entry: 'Main.java', files: ['Main.java'] });
    assert.deepEqual(stages(request)[1]!.slice(-2), ['.', 'Main']);
  });

  it('names every Java source after its public type, keeps directories, and leaves other files alone', () => {
    const request = {
      language: 'java',
      entry: 'app.java',
      files: [
        { name: 'lib/shapes.java', content: 'import java.util.*;\n\npublic sealed interface Shape permits Circle {}\nfinal class Circle implements Shape {}\n' },
        { name: 'app.java', content: 'class Helper {}\nclass Prog {\n  public static void main(String[] a) {}\n}\n' },
        { name: 'data.txt', content: 'public class Nope {}\n' },
        { name: 'util.java', content: 'class Util {}\n' },
      ],
    };
    assert.deepEqual(paths(request), { entry: 'Prog.java', files: ['lib/Shape.java', 'Prog.java', 'data.txt', 'util.java'] });
  });

  it('keeps the language default for bare code that names no unit, and derives it when it does', () => {
    assert.equal(normalize({ language: 'java', code: 'class Hidden {}' }).entry, 'Main.java');
    assert.equal(normalize({ language: 'java', code: 'import x;\n\npublic final class Greeter {\n}\n' }).entry, 'Greeter.java');
    assert.equal(normalize({ language: 'scala', code: 'object Sum { def f = 1 }\nobject Hi extends App { println(Sum.f) }\n' }).entry, 'Hi.scala');
    assert.equal(normalize({ language: 'haxe', code: 'class Util {}\nclass Game {\n  static function main() {}\n}\n' }).entry, 'Game.hx');
  });

  it("follows GNAT's file naming for Ada units, spec and body", () => {
    const request = {
      language: 'ada',
      files: [
        { name: 'test.adb', content: 'with Shapes.Circles;\nprocedure Hello is\nbegin\n   null;\nend Hello;\n' },
        { name: 'a.ads', content: '-- procedure Not_This is\npackage Shapes.Circles is\n   procedure Draw;\nend Shapes.Circles;\n' },
        { name: 'b.adb', content: 'package body Shapes.Circles is\n   procedure Draw is null;\nend Shapes.Circles;\n' },
      ],
    };
    assert.deepEqual(paths(request).files, ['hello.adb', 'shapes-circles.ads', 'shapes-circles.adb']);
  });

  it('makes an entry stem an identifier where the compiler names the module after the file', () => {
    assert.equal(normalize({ language: 'nim', files: [{ name: 'my-prog.nim', content: 'echo 1\n' }] }).entry, 'my_prog.nim');
    assert.equal(normalize({ language: 'd', files: [{ name: 'src/2nd try.d', content: 'void main() {}\n' }] }).entry, 'src/_2nd_try.d');
  });

  it("gives an entry without one of the language's extensions the first of them", () => {
    const request = { language: 'typescript', files: [{ name: 'prog', content: 'console.log(1);\n' }] };
    assert.equal(normalize(request).entry, 'prog.ts');
    assert.deepEqual(stages(request)[1], ['node', 'prog.js']);
    assert.equal(normalize({ language: 'python', files: [{ name: 'script.txt', content: 'print(1)\n' }] }).entry, 'script.txt.py');
  });

  it('refuses two files that must both take one name, naming the file', () => {
    const request = {
      language: 'java',
      files: [
        { name: 'Main.java', content: 'public class Main {}\n' },
        { name: 'test.java', content: 'public class Main {}\n' },
      ],
    };
    assert.throws(() => normalize(request), {
      name: 'InvalidRequestError',
      field: 'files[1].name',
      message: "files[1].name: 'test.java' must be named 'Main.java' for its code, but another file already has that name",
    });
    const both = { language: 'erlang', files: [{ name: 'a.erl', content: '-module(m).\n' }, { name: 'b.erl', content: '-module(m).\n' }] };
    assert.throws(() => normalize(both), { field: 'files[1].name', message: /'b\.erl' must be named 'm\.erl' for its code, and so must 'a\.erl'$/ });
  });

  it('refuses a derived name that is also a directory of another file', () => {
    const request = {
      language: 'java',
      files: [
        { name: 'Main.java/notes.txt', content: 'x' },
        { name: 'test.java', content: 'public class Main {}\n' },
      ],
    };
    assert.throws(() => normalize(request), { field: 'files[1].name', message: /'Main\.java' is also a directory of another file/ });
  });
});

describe('forms of program chosen by the entry', () => {
  const MODULE = '-module(hello).\n-export([main/0]).\nmain() -> ok.\n';
  const SCRIPT = 'main(Args) ->\n    io:format("~p~n", [Args]).\n';

  it('compiles an Erlang module with erlc, named after its -module, and starts it with erl', () => {
    const argv = stages({ language: 'erlang', files: [{ name: 'test.erl', content: MODULE }] });
    assert.deepEqual(argv[0], ['erlc', 'hello.erl']);
    assert.deepEqual(argv[1]!.slice(0, 4), ['erl', '-noshell', '-s', 'hello']);
  });

  it('runs an escript with a #! line through escript, without a compile stage', () => {
    const argv = stages({ language: 'erlang', files: [{ name: 'test.erl', content: `#!/usr/bin/env escript\n${MODULE.replace('main/0', 'main/1')}` }], args: ['x'] });
    assert.deepEqual(argv, [['escript', 'test.erl', 'x']]);
  });

  it('runs an escript without a #! line or -module through escript, its file as an argument', () => {
    const [run, ...rest] = stages({ language: 'erlang', code: SCRIPT, args: ['a b'] });
    assert.equal(rest.length, 0);
    assert.deepEqual([run![0], run![1], ...run!.slice(3)], ['sh', '-c', 'escript', 'main.erl', 'a b']);
  });

  it('refuses Scala 3 syntax with a message naming the missing compiler, on the field that holds it', () => {
    for (const content of ['@main def hello(): Unit = println("hi")\n', 'object Main:\n  def main(args: Array[String]): Unit = println("hi")\n']) {
      assert.throws(() => normalize({ language: 'scala', files: [{ name: 'a.scala', content: 'object A\n' }, { name: 'test.scala', content }], entry: 'test.scala' }), {
        field: 'files[1].content',
        message: /Scala 3 compiler.*Scala 2\.11 only.*object Main \{ def main/,
      });
    }
    assert.throws(() => normalize({ language: 'scala', code: '@main def hi() = ()\n' }), { field: 'code' });
  });
});

describe('the naming data in the catalog', () => {
  it('gives every language whose names matter naming cases for the matrix, and compiles every pattern', () => {
    for (const language of LANGUAGES) {
      const namings = [language.unitNaming, ...(language.forms ?? []).map((form) => form.unitNaming)];
      const patterns = [...namings.flatMap((n) => [...(n?.sources ?? []), ...(n?.entry ?? [])]), ...(language.forms ?? []).flatMap((f) => [f.matches, f.lacks])];
      for (const pattern of patterns) if (pattern !== undefined) assert.doesNotThrow(() => new RegExp(pattern, 'm'), `${language.id}: ${pattern}`);
      if (language.unitNaming || language.forms) assert.ok(language.namingCases?.length, `${language.id} has naming cases`);
      for (const form of language.forms ?? []) {
        const selects = (content: string): boolean => {
          const chosen = programForm(language, content);
          return chosen.run === (form.run ?? language.run) && chosen.unsupported === form.unsupported;
        };
        const covered = language.namingCases?.some((c) => selects(c.files[0]!.content ?? language.conformance.code));
        assert.ok(covered, `${language.id}: a naming case uses the ${form.name} form`);
      }
    }
  });
});

describe('naming cost on hostile sources', () => {
  it('stays fast on 16 MiB sources built to make the patterns backtrack', () => {
    const fill = (unit: string): string => unit.repeat(Math.floor((16 * 1024 * 1024) / unit.length));
    const sources = { java: fill('class A\n'), scala: fill('object A {\n'), haxe: fill('class A '), ada: fill(' \t'), erlang: fill('\n') };
    for (const [language, content] of Object.entries(sources)) {
      const started = performance.now();
      normalize({ language, files: [{ name: 'x', content }] });
      const ms = performance.now() - started;
      assert.ok(ms < 2_000, `${language}: ${ms.toFixed(0)} ms`);
    }
  });
});
