import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LANGUAGES } from '../../src/languages/catalog.js';
import { engine } from '../helpers/engine.js';

/**
 * The conformance matrix: every language whose image is built here runs its conformance program
 * (reads a line, prints a greeting and 5050) and, for compiled languages, a program that must fail
 * to compile, and each of its naming cases: programs under file names their code does not imply
 * (`public class Main` in test.java), which must run as if named right. `npm run test:languages` runs
 * only this file; it prints a table at the end.
 */
interface Row {
  language: string;
  version: string;
  compile_ms: string;
  run_ms: string;
  result: string;
}

const rows: Row[] = [];
const e = await engine();

describe('conformance matrix', () => {
  for (const lang of LANGUAGES) {
    const manifest = e.images.manifest(lang.image);
    const skip = manifest ? false : `image '${lang.image}' is not built (infra.operator rootfs build --lang ${lang.id})`;
    it(`${lang.id}: conformance program`, { skip }, async () => {
      const row: Row = { language: lang.id, version: manifest?.versions[lang.id] ?? '-', compile_ms: '-', run_ms: '-', result: 'FAIL' };
      rows.push(row);
      const result = await e.execute({ language: lang.id, code: lang.conformance.code, stdin: lang.conformance.stdin });
      if (result.compile) row.compile_ms = result.compile.wall_time_ms.toFixed(0);
      row.run_ms = result.timings.exec_ms.toFixed(0);
      assert.equal(result.status, 'success', JSON.stringify(result.error));
      assert.equal(result.stdout, lang.conformance.stdout, `stderr: ${result.stderr}`);
      assert.equal(result.exit_code, 0);
      row.result = 'pass';
    });
    for (const naming of lang.namingCases ?? []) {
      it(`${lang.id}: ${naming.title}`, { skip }, async () => {
        const request = {
          language: lang.id,
          files: naming.files.map((file) => ({ name: file.name, content: file.content ?? lang.conformance.code })),
          stdin: naming.stdin,
        };
        if (naming.error !== undefined) {
          await assert.rejects(e.execute(request), (err: Error) => err.message.includes(naming.error!));
          return;
        }
        const result = await e.execute(request);
        assert.equal(result.status, 'success', JSON.stringify(result.error));
        assert.equal(result.stdout, naming.stdout, `compile: ${result.compile?.stdout}${result.compile?.stderr} stderr: ${result.stderr}`);
        assert.equal(result.exit_code, 0);
      });
    }
    if (lang.compileError) {
      it(`${lang.id}: compile error comes back as a failed compile stage`, { skip }, async () => {
        const result = await e.execute({ language: lang.id, code: lang.compileError!.code });
        assert.ok(result.compile);
        assert.notEqual(result.compile.exit_code, 0);
        // Some compilers (fpc, erlc) write their diagnostics on stdout.
        const diagnostic = result.compile.stdout + result.compile.stderr;
        assert.ok(diagnostic.includes(lang.compileError!.message), `expected '${lang.compileError!.message}' in: ${diagnostic}`);
      });
    }
  }
});

after(() => {
  const header: Row = { language: 'language', version: 'version', compile_ms: 'compile ms', run_ms: 'run ms', result: 'result' };
  const line = (r: Row): string => `| ${r.language} | ${r.version} | ${r.compile_ms} | ${r.run_ms} | ${r.result} |`;
  console.log(['', line(header), '|---|---|---:|---:|---|', ...rows.map(line)].join('\n'));
});
