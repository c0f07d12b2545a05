import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dataDir, dataPaths, packageRoot } from '../../src/config/paths.js';
import { startServerProcess } from '../../src/bench/server-process.js';
import { ImageStore } from '../../src/images/store.js';
import { get, post, testServer } from '../helpers/server.js';

/**
 * The docs' two custom catalog files (docs/examples/), built by the CLI into a data home of their
 * own whose built-in parent images are this host's (symlinked: the builder only reads a parent),
 * then run by the CLI and the API; a bad file leaves nothing behind; `rootfs rm` takes it all away.
 */
const CLI = join(packageRoot, 'dist', 'src', 'cli', 'index.js');
const EXAMPLES = join(packageRoot, 'docs', 'examples');
const parents = dataPaths(dataDir());
const builtParents = ['base', 'python'].every((id) => new ImageStore(parents.imagesDir).manifest(id) !== null);
const skip =
  process.getuid?.() !== 0 ? 'building images needs root' : !builtParents && process.env.CI !== 'true' ? 'the base and python images are not built (infra.operator setup)' : false;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('custom images and languages from a catalog file', { skip }, () => {
  // Beside the host's data home, so that the build's hardlinks to the parent's files stay on one filesystem.
  const home = mkdtempSync(join(dirname(parents.root), '.rc-custom-images-test-'));
  const cli = (...args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { env: { ...process.env, RUNNER_CODES_HOME: home }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  const catalogFiles = (): string[] => (existsSync(join(home, 'catalog.d')) ? readdirSync(join(home, 'catalog.d')).sort() : []);
  const images = (): string[] => readdirSync(join(home, 'images')).sort();
  const rexx = readFileSync(join(EXAMPLES, 'rexx.yaml'), 'utf8');
  /** The REXX example under other names (extension, image, language), without its alias. */
  const renamed = (id: string): string =>
    rexx.replace(/^name: rexx$/m, `name: ${id}`).replace(/id: rexx$/gm, `id: ${id}`).replace(/image: rexx$/m, `image: ${id}`).replace('aliases: [regina]', 'aliases: []');

  before(() => {
    // Sandboxes run as an unprivileged uid, which must reach the images (mkdtemp makes the directory 0700).
    chmodSync(home, 0o755);
    mkdirSync(join(home, 'images'));
    for (const name of ['bin', 'seccomp.bpf', 'seccomp-i386.bpf']) symlinkSync(join(parents.root, name), join(home, name));
    for (const id of ['base', 'python']) symlinkSync(join(parents.imagesDir, id), join(home, 'images', id));
    // The in-process API server below serves this home.
    process.env.RUNNER_CODES_HOME = home;
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('builds "python with my packages": Debian packages and a file on the python image, its conformance program checked', async () => {
    const built = await cli('rootfs', 'build', '--file', join(EXAMPLES, 'python-mine.yaml'), '--json');
    assert.equal(built.code, 0, built.stderr);
    const report = JSON.parse(built.stdout);
    assert.equal(report.name, 'python-mine');
    assert.deepEqual(report.languages.map((l: { id: string; conformance: string }) => [l.id, l.conformance]), [['python-mine', 'passed']]);
    assert.match(report.languages[0].version, /^3\.\d+/);
    assert.match(built.stderr, /==> \[python-mine\] apt-get install python3-yaml python3-tabulate/, 'progress on stderr');
    assert.deepEqual(catalogFiles(), ['python-mine.json']);
    const run = await cli('run', '--lang', 'pym', '--code', 'import yaml, tabulate, house_style\nprint(house_style.greeting(yaml.safe_load("x: y")["x"]))');
    assert.equal(run.stdout, 'Hello, y!\n', run.stderr);
  });

  it('builds "a language we do not ship" (REXX), which `languages` lists and `run` runs', async () => {
    const languagesBefore = JSON.parse((await cli('languages', '--json')).stdout);
    assert.ok(!languagesBefore.some((l: { id: string }) => l.id === 'rexx'), 'REXX is not a built-in language');
    const built = await cli('rootfs', 'build', '--file', join(EXAMPLES, 'rexx.yaml'));
    assert.equal(built.code, 0, built.stderr);
    const listed = JSON.parse((await cli('languages', '--json')).stdout).find((l: { id: string }) => l.id === 'rexx');
    assert.equal(listed.installed, true);
    assert.deepEqual(listed.aliases, ['regina']);
    assert.match(listed.version, /^3\.\d+/);
    const run = await cli('run', '--lang', 'regina', '--stdin', 'World', '--code', "parse pull line\nsay 'Hello,' line || '!'\n");
    assert.equal(run.stdout, 'Hello, World!\n', run.stderr);
  });

  it('an exported custom image carries its definitions: imported into an empty home, its language runs there; bad definitions are refused', async () => {
    const target = mkdtempSync(join(dirname(parents.root), '.rc-custom-images-pull-'));
    try {
      chmodSync(target, 0o755);
      mkdirSync(join(target, 'images'));
      for (const name of ['bin', 'seccomp.bpf', 'seccomp-i386.bpf']) symlinkSync(join(parents.root, name), join(target, name));
      const archive = await new ImageStore(join(home, 'images')).exportImage('rexx');
      const config = JSON.parse(archive.config.toString('utf8'));
      assert.equal(config.languages[0].name, 'rexx', 'the config holds the definitions');
      const into = new ImageStore(join(target, 'images'));

      // Definitions that take a built-in name are refused before anything is imported.
      const hostile = Buffer.from(JSON.stringify({ ...config, languages: [{ ...config.languages[0], languages: [{ ...config.languages[0].languages[0], aliases: ['python'] }] }] }));
      await assert.rejects(into.importImage(hostile, archive.layers, { name: 'rexx', tag: 'hostile' }), /languages\[0\]\.languages\.0\.aliases\.0: 'python' is a built-in name/);
      assert.deepEqual(readdirSync(join(target, 'images')), []);
      assert.ok(!existsSync(join(target, 'catalog.d')));

      await into.importImage(archive.config, archive.layers, { name: 'rexx', tag: 'test' });
      assert.deepEqual(readdirSync(join(target, 'catalog.d')), ['rexx.json']);
      const env = { ...process.env, RUNNER_CODES_HOME: target };
      const run = await new Promise<string>((resolve) => execFile(process.execPath, [CLI, 'run', '--lang', 'rexx', '--stdin', 'pulled', '--code', "parse pull line\nsay 'Hello,' line"], { env }, (_err, stdout, stderr) => resolve(stdout + stderr)));
      assert.equal(run, 'Hello, pulled\n');
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });

  it('the API serves the custom languages (/api/v1/languages, /api/v2/runtimes, both execute routes), in one process and privilege-separated', async () => {
    const { base } = await testServer();
    const languages = await get(base, '/api/v1/languages');
    assert.ok(languages.body.some((l: { id: string; installed: boolean }) => l.id === 'rexx' && l.installed));
    const runtimes = await get(base, '/api/v2/runtimes');
    assert.ok(runtimes.body.some((r: { language: string; version: string }) => r.language === 'python-mine' && /^3\./.test(r.version)));
    const code = "parse pull line\nsay 'Hello,' line || '!'\n";
    const v1 = await post(base, '/api/v1/execute', { language: 'rexx', code, stdin: 'API' });
    assert.equal(v1.status, 200, JSON.stringify(v1.body));
    assert.equal(v1.body.stdout, 'Hello, API!\n');
    const v2 = await post(base, '/api/v2/execute', { language: 'rexx', version: '*', files: [{ content: code }], stdin: 'Piston' });
    assert.equal(v2.status, 200, JSON.stringify(v2.body));
    assert.equal(v2.body.run.stdout, 'Hello, Piston!\n');

    // The privilege-separated server (`infra.operator api` as root): its unprivileged HTTP worker
    // lists the languages from the same data home, and the service runs them.
    const separated = await startServerProcess(['--backend', 'bwrap', '--pool-size', '0']);
    try {
      const listed = await get(separated.url, '/api/v1/languages/regina');
      assert.equal(listed.status, 200, listed.text);
      assert.equal(listed.body.id, 'rexx');
      const ran = await post(separated.url, '/api/v1/execute', { language: 'rexx', code, stdin: 'worker' });
      assert.equal(ran.body.stdout, 'Hello, worker!\n', JSON.stringify(ran.body));
    } finally {
      assert.equal(await separated.stop(), 0);
    }

    // Removing the custom image takes its languages away, from the running server too.
    const removed = await cli('rootfs', 'rm', 'rexx');
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /removed custom catalog rexx: images rexx; languages rexx/);
    assert.deepEqual(catalogFiles(), ['python-mine.json']);
    assert.ok(!images().includes('rexx'));
    assert.equal((await get(base, '/api/v1/languages/rexx')).status, 404);
    const gone = await cli('run', '--lang', 'rexx', '--code', 'say 1');
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /unsupported language 'rexx'/);
  });

  it('a bad file changes nothing: invalid fields, a package apt cannot find, a conformance program that fails', async () => {
    const before = { catalog: catalogFiles(), images: images() };
    const file = join(home, 'bad.yaml');

    writeFileSync(file, rexx.replace('family: interpreted', 'family: scripting').replace('[rexx, -v]', '[rexx, "{version}"]'));
    const invalid = await cli('rootfs', 'build', '--file', file);
    assert.equal(invalid.code, 2, invalid.stderr);
    assert.match(invalid.stderr, /bad\.yaml:12:5: languages\[0\]\.family: must be one of interpreted, compiled, jvm, beam, database/);
    assert.doesNotMatch(invalid.stderr, /\n\s+at /, 'no stack trace');

    writeFileSync(file, renamed('rexx-bad').replace('packages: [regina-rexx]', 'packages: [no-such-package-rc]'));
    const missing = await cli('rootfs', 'build', '--file', file);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Unable to locate package no-such-package-rc/);

    writeFileSync(file, renamed('rexx-wrong').replace("say 'Hello,' line || '!'", "say 'Goodbye,' line || '!'"));
    const wrong = await cli('rootfs', 'build', '--file', file);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /rexx-wrong: the conformance program printed something else than "Hello, World!\\n5050\\n": stdout "Goodbye, World!\\n5050\\n"/);

    assert.deepEqual({ catalog: catalogFiles(), images: images() }, before, 'no definitions and no image (nor a half-built one) left');
  });
});
