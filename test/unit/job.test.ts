import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildJob, expandArgv } from '../../src/engine/job.js';
import { DEFAULT_LIMITS, resolveLimits } from '../../src/engine/limits.js';
import { normalizeRequest } from '../../src/engine/request.js';
import { getLanguage } from '../../src/languages/lookup.js';
import { LANGUAGES } from '../../src/languages/catalog.js';

describe('job building', () => {
  const c = getLanguage('c');
  const request = normalizeRequest(
    { language: 'c', files: [{ name: 'main.c', content: 'int main(){}' }, { name: 'util/x.c', content: '' }, { name: 'x.h', content: '' }], args: ['a b', 'c'] },
    c,
  );

  it('expands {sources}, {file} and {args}', () => {
    assert.deepEqual(expandArgv(['cc', '{sources}', '-o', 'a.out'], c, request), ['cc', 'main.c', 'util/x.c', '-o', 'a.out']);
    assert.deepEqual(expandArgv(['run', '{file}', '{args}'], c, request), ['run', 'main.c', 'a b', 'c']);
  });

  it('builds a compile and a run stage with the resolved limits and a clean environment', () => {
    const limits = resolveLimits(c, { timeoutMs: 2000 });
    const job = buildJob(c, request, limits);
    assert.deepEqual(job.stages.map((s) => s.name), ['compile', 'run']);
    const run = job.stages[1]!;
    assert.equal(run.timeout_ms, 2000);
    assert.equal(run.rlimits.cpu_s, 3);
    assert.equal(run.output_limit, DEFAULT_LIMITS.outputBytes);
    assert.ok(run.env.includes('HOME=/tmp'));
    assert.ok(!run.env.some((e) => e.startsWith('NODE_') || e.startsWith('npm_')), 'no host variables');
    assert.deepEqual(job.files.map((f) => f.path), ['main.c', 'util/x.c', 'x.h']);
  });

  it('names a Java file after its public class and runs the class by its stem', () => {
    const java = getLanguage('java');
    const request = normalizeRequest({ language: 'java', code: 'import x;\n\npublic final class Greeter {\n}\n' }, java);
    assert.equal(request.entry, 'Greeter.java');
    assert.deepEqual(expandArgv(['java', '-cp', '.', '{stem}'], java, request), ['java', '-cp', '.', 'Greeter']);
    assert.equal(normalizeRequest({ language: 'java', code: 'class Hidden {}' }, java).entry, 'Main.java');
  });

  it('every catalog entry is well-formed', () => {
    for (const lang of LANGUAGES) {
      assert.ok(lang.run.length > 0, lang.id);
      assert.ok(lang.extensions.some((ext) => lang.fileName.endsWith(ext)), `${lang.id}: fileName matches an extension`);
      // Databases print their results as tables; the greeting and the sum are in the cells.
      assert.ok(lang.conformance.stdout.includes('Hello, World!') && lang.conformance.stdout.includes('5050'), lang.id);
      assert.equal(Boolean(lang.compile), Boolean(lang.compileError), `${lang.id}: compiled languages have a compile-error case`);
    }
  });
});

describe('limits', () => {
  const py = getLanguage('python');
  it('applies defaults, then the request, within the maxima', () => {
    const limits = resolveLimits(py, { memoryMb: 64, timeoutMs: 500, pids: 10, outputLimitBytes: 100 });
    assert.equal(limits.memoryBytes, 64 * 1024 * 1024);
    assert.equal(limits.runTimeoutMs, 500);
    assert.equal(limits.pids, 10);
    assert.equal(limits.outputBytes, 100);
    assert.equal(limits.compileTimeoutMs, DEFAULT_LIMITS.compileTimeoutMs);
  });
  it('names the field and the maximum when a request is out of range', () => {
    assert.throws(() => resolveLimits(py, { memoryMb: 1_000_000 }), /^InvalidRequestError: memory: must be at most 2048 MB \(server maximum\)$/);
    assert.throws(() => resolveLimits(py, { timeoutMs: 0 }), /timeout: must be at least 1 ms/);
    assert.throws(() => resolveLimits(py, { pids: Number.NaN }), /pids: must be an integer/);
  });
});
