import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/config/paths.js';

const run = promisify(execFile);
const NPM_TIMEOUT_MS = 300_000;

/**
 * The package as a user gets it: `npm pack` of this checkout (already built by `pretest`), installed
 * into a scratch project with its dependencies (from npm's cache where it has them), then used from
 * there by `import('runner-codes')` and by TypeScript.
 */
describe('the runner-codes package, packed and installed into a scratch project', () => {
  let dir: string;
  let project: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rc-package-'));
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: packageRoot, timeout: NPM_TIMEOUT_MS });
    const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack made a tarball');
    project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    await run('npm', ['install', join(dir, tarball), '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project, timeout: NPM_TIMEOUT_MS });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("import('runner-codes') runs a real execution", async () => {
    const script = `
      const rc = await import('runner-codes');
      const engine = await rc.openEngine({ backend: 'bwrap' });
      try {
        const result = await engine.execute({ language: 'python', code: 'print(6 * 7)' });
        console.log(JSON.stringify({ stdout: result.stdout, exit_code: result.exit_code, python: rc.LANGUAGES.some((l) => l.id === 'python'), code: rc.ErrorCodes.INVALID_REQUEST }));
      } finally {
        await engine.close();
      }`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project, timeout: 60_000 });
    assert.deepEqual(JSON.parse(stdout), { stdout: '42\n', exit_code: 0, python: true, code: 'RC_ERR_INVALID_REQUEST' });
  });

  it('ships types that TypeScript checks code against', async () => {
    writeFileSync(
      join(project, 'good.ts'),
      `import { openEngine, isRunnerError, type ExecuteRequest, type ExecutionResult, type LanguageSpec } from 'runner-codes';
const request: ExecuteRequest = { language: 'python', code: 'print(1)', limits: { timeoutMs: 1000, memoryMb: 64 } };
export async function once(): Promise<number | null> {
  const engine = await openEngine({ backend: 'bwrap' });
  try {
    const result: ExecutionResult = await engine.execute(request);
    return result.exit_code;
  } catch (err) {
    if (isRunnerError(err)) console.error(err.code);
    throw err;
  } finally {
    await engine.close();
  }
}
export const ids = (languages: readonly LanguageSpec[]): string[] => languages.map((l) => l.id);
`,
    );
    // A wrong type must be an error: the types are real, not \`any\`.
    writeFileSync(join(project, 'bad.ts'), `import type { ExecuteRequest } from 'runner-codes';\nexport const wrong: ExecuteRequest = { language: 42 };\n`);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, typeRoots: [join(packageRoot, 'node_modules', '@types')], types: ['node'] },
        files: ['good.ts', 'bad.ts'],
      }),
    );
    const tsc = join(packageRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const output = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, timeout: 120_000 }).then(
      (r) => r.stdout,
      (err: { stdout: string }) => err.stdout,
    );
    const errors = output.split('\n').filter((line) => /error TS\d+/.test(line));
    assert.equal(errors.length, 1, output);
    assert.match(errors[0]!, /^bad\.ts\(2,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
  });
});
