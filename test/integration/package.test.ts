import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/config/paths.js';
import { testServer } from '../helpers/server.js';

const run = promisify(execFile);
const NPM_TIMEOUT_MS = 300_000;
const tsc = join(packageRoot, 'node_modules', 'typescript', 'bin', 'tsc');

/** tsc over a scratch project's files: its error lines. */
async function typeErrors(project: string, config: string, files: string[], compilerOptions: Record<string, unknown>): Promise<{ errors: string[]; output: string }> {
  writeFileSync(join(project, config), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, ...compilerOptions }, files }));
  const output = await run(process.execPath, [tsc, '-p', config], { cwd: project, timeout: 120_000 }).then(
    (r) => r.stdout,
    (err: { stdout: string }) => err.stdout,
  );
  return { errors: output.split('\n').filter((line) => /error TS\d+/.test(line)), output };
}

/**
 * The package as a user gets it: `npm pack` of this checkout (already built by `pretest`), installed
 * into a scratch project with its dependencies (from npm's cache where it has them), then used from
 * there by `import('runner-codes')` and by TypeScript; and its HTTP client, `runner-codes/client`, from
 * plain ESM against a real server on loopback and by TypeScript without Node's types.
 */
const server = await testServer({ poolSize: 0 });

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
    const { errors, output } = await typeErrors(project, 'tsconfig.json', ['good.ts', 'bad.ts'], { typeRoots: [join(packageRoot, 'node_modules', '@types')], types: ['node'] });
    assert.equal(errors.length, 1, output);
    assert.match(errors[0]!, /^bad\.ts\(2,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
  });

  it("import { RunnerCodes } from 'runner-codes/client' in plain ESM runs a program and a session on a real server", async () => {
    const script = `
      import { RunnerCodes, NotFoundError } from 'runner-codes/client';
      const rc = new RunnerCodes({ baseUrl: process.env.RC_URL });
      const once = await rc.execute({ language: 'python', code: 'print(6 * 7)' });
      const session = await rc.createSession({ language: 'python' });
      await session.files.write('n.txt', '41');
      const inSession = await session.execute({ code: 'print(int(open("n.txt").read()) + 1)' });
      await session.close();
      const gone = await session.execute({ code: '' }).catch((err) => err instanceof NotFoundError && err.code);
      console.log(JSON.stringify({ once: once.stdout, inSession: inSession.stdout, gone }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project, timeout: 60_000, env: { ...process.env, RC_URL: server.base } });
    assert.deepEqual(JSON.parse(stdout), { once: '42\n', inSession: '42\n', gone: 'RC_ERR_NOT_FOUND' });
  });

  it('ships the client\'s types, checked without Node\'s types (as in a browser)', async () => {
    writeFileSync(
      join(project, 'client-good.ts'),
      `import { RunnerCodes, RunnerCodesError, RateLimitError, type ExecutionResult, type ExecutionEvent, type CellResult, type FileList } from 'runner-codes/client';
const rc = new RunnerCodes({ baseUrl: 'http://localhost:8080', apiKey: 'k', fetch: (input, init) => fetch(input, init) });
export async function use(): Promise<number | null> {
  try {
    const result: ExecutionResult = await rc.execute({ language: 'python', code: 'print(1)', timeout: 1000, backend: 'bwrap' });
    for await (const event of rc.executeStream({ language: 'bash', code: 'echo hi' })) {
      const e: ExecutionEvent = event;
      if (e.type === 'stdout') console.log(e.seq, e.data);
      if (e.type === 'result') console.log(e.result.exit_code);
    }
    const session = await rc.createSession({ language: 'python', idle_timeout_ms: 60_000 });
    const cell: CellResult = await session.runCode('1 + 1', { timeout: 500 });
    const files: FileList = await session.files.list();
    await session.files.write('a.bin', new Uint8Array([1, 2]));
    console.log(cell.outputs[0]?.['text/plain'], files.entries.map((f) => f.mtime));
    await session.close();
    return result.exit_code;
  } catch (err) {
    if (err instanceof RateLimitError) console.log(err.retryAfter);
    if (err instanceof RunnerCodesError) console.log(err.code, err.status, err.field);
    throw err;
  }
}
`,
    );
    writeFileSync(join(project, 'client-bad.ts'), `import { RunnerCodes } from 'runner-codes/client';\nexport const wrong = new RunnerCodes({ baseUrl: 'x' }).execute({ language: 'python', timeout: '1s' });\n`);
    // DOM's lib and no @types/node: what a browser project has.
    const { errors, output } = await typeErrors(project, 'tsconfig.client.json', ['client-good.ts', 'client-bad.ts'], { lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [] });
    assert.equal(errors.length, 1, output);
    assert.match(errors[0]!, /^client-bad\.ts\(2,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
  });
});
