import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliProgram } from '../../src/cli/program.js';
import { dataPaths, packageRoot } from '../../src/config/paths.js';
import { ImageStore } from '../../src/images/store.js';

const CLI = join(packageRoot, 'dist', 'src', 'cli', 'index.js');
const MODULE_LOG = join(packageRoot, 'dist', 'test', 'helpers', 'module-log.js');

/** The modules (paths below the package, or `node:` names) one CLI process loads, and its exit code. */
async function modulesLoaded(args: string[]): Promise<{ code: number; modules: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'rc-modules-'));
  const log = join(dir, 'modules.txt');
  try {
    const code = await new Promise<number>((resolve) => {
      execFile(process.execPath, ['--import', MODULE_LOG, CLI, ...args], { env: { ...process.env, MODULE_LOG: log } }, (err) => {
        resolve(err ? (typeof err.code === 'number' ? err.code : 1) : 0);
      });
    });
    const prefix = pathToFileURL(packageRoot).href.replace(/\/?$/, '/');
    const modules = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((url) => url.replace(prefix, ''));
    // The patterns below match these relative paths: a log that did not strip them would match nothing.
    assert.ok(modules.includes('dist/src/cli/index.js'), `the module log names the CLI entry: ${modules.slice(0, 3).join(' ')}`);
    return { code, modules };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertNone(modules: string[], forbidden: readonly RegExp[], what: string): void {
  const found = modules.filter((module) => forbidden.some((pattern) => pattern.test(module)));
  assert.deepEqual(found, [], `${what} loaded modules it does not use`);
}

/** Packages other than commander: the server's (fastify, typebox, prom-client) and undici. */
const OTHER_PACKAGES = /^node_modules\/(?!commander\/)/;
/** What only another command uses: the server, the benchmark, setup and image building, the doctor. */
const OTHER_COMMANDS = [OTHER_PACKAGES, /^dist\/src\/api\/(?!config\.js)/, /^dist\/src\/bench\//, /^dist\/src\/host\//, /^dist\/src\/images\/(builder|npm-fetch|run-logged|probe)\.js/];
/**
 * The other commands' own modules: `run …` builds only the run command. A one-shot run opens no
 * session either, so nothing of the session manager (src/engine/sessions/) belongs in its start.
 */
const NOT_RUN = /^dist\/src\/(cli\/commands\/(?!run\.js)|api\/|engine\/sessions\/)/;

describe('CLI start-up loads only what the command runs', () => {
  for (const args of [['--version'], ['--help'], ['run', '--help'], ['run']]) {
    it(`\`${args.join(' ')}\` loads no engine, sandbox, image or host module (run: nor another command's)`, async () => {
      const { code, modules } = await modulesLoaded(args);
      assert.equal(code, args[0] === 'run' && args.length === 1 ? 2 : 0);
      assertNone(
        modules,
        [
          ...OTHER_COMMANDS,
          ...(args[0] === 'run' ? [NOT_RUN] : []),
          ...(args[0] === '--version' ? [/^dist\/src\/cli\/commands\//] : []),
          /^dist\/src\/(compose|engine\/(open-|engine|service|pool|queue|job))/,
          /^dist\/src\/sandbox\/(?!backend-names\.js|backend-host\.js)/,
          /^dist\/src\/images\//,
        ],
        args.join(' '),
      );
    });
  }

  const skip = new ImageStore(dataPaths().imagesDir).manifest('python') ? false : 'the python image is not built (infra.operator setup)';
  it('`run --backend bwrap` loads bwrap only, and nothing of the other commands', { skip }, async () => {
    const { code, modules } = await modulesLoaded(['run', '--backend', 'bwrap', '--lang', 'python', '--code', 'print(1)']);
    assert.equal(code, 0);
    assert.ok(modules.includes('dist/src/sandbox/bwrap/backend.js'), 'the run used the bwrap backend');
    assertNone(modules, [...OTHER_COMMANDS, NOT_RUN, /^dist\/src\/sandbox\/(qemu|firecracker)\//, /^dist\/src\/images\/vm\/(disk|initramfs|kernel)/], 'run');
  });

  it('the program built for one command holds exactly that command, and the full program all of them', async () => {
    const all = (await cliProgram({ exitCode: 0 })).commands.map((command) => command.name());
    assert.ok(all.length >= 8, `the program has ${all.join(', ')}`);
    for (const name of all) {
      assert.deepEqual((await cliProgram({ exitCode: 0 }, name)).commands.map((command) => command.name()), [name]);
    }
    assert.deepEqual((await cliProgram({ exitCode: 0 }, '--version')).commands, []);
    assert.deepEqual((await cliProgram({ exitCode: 0 }, 'no-such-command')).commands.map((command) => command.name()), all);
  });
});
