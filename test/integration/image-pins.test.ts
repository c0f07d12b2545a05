import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openEngine } from '../../src/compose/open-engine.js';
import { dataPaths, packageRoot } from '../../src/config/paths.js';
import type { Engine } from '../../src/engine/engine.js';
import { ErrorCodes, type RunnerError } from '../../src/errors.js';
import { imageIdentity } from '../../src/images/content/image-identity.js';
import { ImageStore } from '../../src/images/store.js';
import { buildDisk, diskIsCurrent } from '../../src/images/vm/disk.js';
import { vmPaths } from '../../src/images/vm/paths.js';
import { hostCapabilities } from '../../src/sandbox/availability.js';
import { emptyHome } from '../helpers/image-homes.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';
import { post, testServer } from '../helpers/server.js';

const CLI = join(packageRoot, 'dist', 'src', 'cli', 'index.js');
const real = dataPaths();
const shared = new ImageStore(real.imagesDir);
const qemu = hostCapabilities(real).backends.qemu;
const qemuSkip = qemu.usable ? false : `the qemu backend is not usable here: ${qemu.reason}`;
const skip = process.getuid?.() !== 0 ? 'needs root' : shared.manifest('lua') && shared.manifest('base') && existsSync(real.agent) ? false : 'needs the base and lua images and the agent (infra.operator setup)';

/** Lua that prints the marker file the test's second image has (or `none`). */
const READ_MARKER = "local f = io.open('/etc/pin-marker') print(f and f:read('a') or 'none')";

function cli(home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, RUNNER_CODES_HOME: home } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A data home with the real agent and seccomp filters, and cp -a copies of base and lua. */
function homeWithLua(label: string): ReturnType<typeof emptyHome> {
  const home = emptyHome(label);
  for (const name of ['bin', 'seccomp.bpf', 'seccomp-i386.bpf']) symlinkSync(join(real.root, name), join(home.root, name));
  for (const id of ['base', 'lua']) execFileSync('cp', ['-a', join(real.imagesDir, id), join(home.store.dir, id)]);
  return home;
}

describe('pinned images: ls, run --image, the API, gc, VM disks', { skip }, () => {
  let home: ReturnType<typeof emptyHome>;
  let other: ReturnType<typeof emptyHome>;
  let engine: Engine;
  let builtLua: string;
  let v2: string;

  before(async () => {
    home = homeWithLua('pins');
    // A second lua image: the same tree plus one file, as another host (or a later build) would have it.
    other = emptyHome('pins-other');
    for (const id of ['base', 'lua']) execFileSync('cp', ['-al', join(home.store.dir, id), join(other.store.dir, id)]);
    writeFileSync(join(other.store.rootfs('lua'), 'etc/pin-marker'), 'v2');
    const archive = await other.store.exportImage('lua');
    v2 = (await home.store.importImage(archive.config, archive.layers, { name: 'lua', tag: 'v2' })).digest;
    const base = await other.store.exportImage('base');
    await home.store.importImage(base.config, base.layers, { name: 'base', tag: 'v2' });
    builtLua = (await imageIdentity(home.store, 'lua', 'digest'))!.digest;
    engine = await openEngine({ backend: 'bwrap', paths: dataPaths(home.root) });
  });

  after(async () => {
    await engine?.close();
    rmSync(home.root, { recursive: true, force: true });
    rmSync(other.root, { recursive: true, force: true });
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });

  it('an import never replaces a built image; both are listed with digests and tags', async () => {
    assert.notEqual(v2, builtLua);
    assert.equal(home.store.isLinked('lua'), false, 'images/lua is still the built image');
    const { code, stdout } = await cli(home.root, ['rootfs', 'ls', '--digests', '--json']);
    assert.equal(code, 0);
    const rows = (JSON.parse(stdout) as { image: string; current: boolean; source: string; digest: string; tags: string[] }[]).filter((row) => row.image === 'lua');
    assert.deepEqual(rows.map(({ current, source, digest, tags }) => ({ current, source, digest, tags })), [
      { current: true, source: 'built', digest: builtLua, tags: [] },
      { current: false, source: 'imported', digest: v2, tags: ['lua:v2'] },
    ]);
    const text = await cli(home.root, ['rootfs', 'ls']);
    assert.match(text.stdout, new RegExp(`^lua +built .*${builtLua.slice(0, 19)}`, 'm'));
    assert.match(text.stdout, new RegExp(`^lua +stored .*${v2.slice(0, 19)}.*\\[lua:v2\\]`, 'm'));
  });

  it('run uses the current image unless pinned; a pin by digest or tag runs exactly that image', async () => {
    const stdoutOf = async (image?: string): Promise<string> => {
      const result = await engine.execute({ language: 'lua', code: READ_MARKER, ...(image ? { image } : {}) });
      assert.equal(result.status, 'success', JSON.stringify(result.error));
      return result.stdout;
    };
    assert.equal(await stdoutOf(), 'none\n');
    assert.equal(await stdoutOf(v2), 'v2\n');
    assert.equal(await stdoutOf('lua:v2'), 'v2\n');
    assert.equal(await stdoutOf(builtLua), 'none\n');
    const cliRun = await cli(home.root, ['run', '--lang', 'lua', '--image', v2, '--code', READ_MARKER]);
    assert.deepEqual([cliRun.code, cliRun.stdout], [0, 'v2\n']);
  });

  it('a wrong, malformed or other language\'s digest is refused naming `image`, before any sandbox starts', async () => {
    const refused = async (image: string, message: RegExp): Promise<void> => {
      await assert.rejects(engine.execute({ language: 'lua', code: 'print(1)', image }), (err: RunnerError & { field?: string }) => {
        assert.equal(err.code, ErrorCodes.INVALID_REQUEST);
        assert.equal(err.field, 'image');
        assert.match(err.message, message);
        return true;
      });
    };
    await refused(`sha256:${'0'.repeat(64)}`, /no image/);
    await refused('sha256:abc', /not a digest/);
    await refused('base:v2', /is an image of 'base', not of lua's image 'lua'/);
    await refused('lua:v3', /no image 'lua:v3'/);
    const cliRun = await cli(home.root, ['run', '--lang', 'lua', '--image', `sha256:${'f'.repeat(64)}`, '--code', 'print(1)']);
    assert.equal(cliRun.code, 2);
    assert.match(cliRun.stderr, /image: no image 'sha256:f{64}' on this host/);
  });

  it('the API takes `image` and answers 400 naming it when it is wrong', async () => {
    const saved = process.env.RUNNER_CODES_HOME;
    process.env.RUNNER_CODES_HOME = home.root;
    try {
      const server = await testServer();
      const pinned = await post(server.base, '/api/v1/execute', { language: 'lua', code: READ_MARKER, image: 'lua:v2' });
      assert.equal(pinned.status, 200, JSON.stringify(pinned.body));
      assert.equal(pinned.body.stdout, 'v2\n');
      const wrong = await post(server.base, '/api/v1/execute', { language: 'lua', code: 'print(1)', image: `sha256:${'0'.repeat(64)}` });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.error.field, 'image', JSON.stringify(wrong.body));
      await server.close();
    } finally {
      if (saved === undefined) delete process.env.RUNNER_CODES_HOME;
      else process.env.RUNNER_CODES_HOME = saved;
    }
  });

  it('a VM disk is made from an imported image (images/<id> a link into the store), remade for another digest, and boots', async (t) => {
    const pulled = emptyHome('pins-disk');
    try {
      const archive = await home.store.exportImage('lua:v2');
      await pulled.store.importImage(archive.config, archive.layers, { name: 'lua', tag: 'v2' });
      assert.equal(pulled.store.isLinked('lua'), true);
      const vm = vmPaths(dataPaths(pulled.root));
      const manifest = pulled.store.manifest('lua')!;
      assert.equal(diskIsCurrent(vm, manifest), false);
      const disk = await buildDisk(vm, manifest, pulled.store.rootfs('lua'), () => undefined);
      assert.equal(diskIsCurrent(vm, manifest), true);
      assert.equal(execFileSync('debugfs', ['-R', 'cat /etc/pin-marker', disk], { stdio: ['ignore', 'pipe', 'ignore'] }).toString(), 'v2');
      assert.match(execFileSync('debugfs', ['-R', 'stat /usr/bin/lua5.4', disk], { stdio: ['ignore', 'pipe', 'ignore'] }).toString(), /Type: regular/);
      assert.equal(diskIsCurrent(vm, { ...manifest, digest: builtLua }), false, 'another image of the same recipe needs its own disk');
      if (qemuSkip) return t.diagnostic(`not booted: ${qemuSkip}`);
      // Boot it: this host's guest kernel and initramfs, the disk made from the import.
      for (const name of ['bin', 'seccomp.bpf', 'seccomp-i386.bpf']) symlinkSync(join(real.root, name), join(pulled.root, name));
      symlinkSync(vmPaths(real).initramfs, vm.initramfs);
      symlinkSync(dirname(vmPaths(real).kernelManifest), dirname(vm.kernelManifest));
      const vmEngine = await openEngine({ backend: 'qemu', paths: dataPaths(pulled.root) });
      try {
        const result = await vmEngine.execute({ language: 'lua', code: READ_MARKER });
        assert.equal(result.status, 'success', JSON.stringify(result.error));
        assert.equal(result.stdout, 'v2\n', 'the VM ran the imported image');
        await assert.rejects(vmEngine.execute({ language: 'lua', code: 'print(1)', image: `sha256:${'0'.repeat(64)}` }), { field: 'image' });
      } finally {
        await vmEngine.close();
      }
    } finally {
      rmSync(pulled.root, { recursive: true, force: true });
    }
  });

  it('gc keeps what a tag or a language points at and removes the rest once untagged', async () => {
    const dry = await cli(home.root, ['rootfs', 'gc', '--dry-run', '--json']);
    assert.deepEqual(JSON.parse(dry.stdout).images, [], 'everything is tagged or current');
    assert.equal((await cli(home.root, ['rootfs', 'rm', 'lua:v2'])).code, 0);
    const gc = await cli(home.root, ['rootfs', 'gc', '--json']);
    assert.equal(gc.code, 0, gc.stderr);
    const report = JSON.parse(gc.stdout);
    assert.deepEqual(report.images, [v2]);
    assert.ok(report.blobs.length >= 2, `the lua:v2 layer and config blobs: ${report.blobs.join(' ')}`);
    assert.equal(existsSync(home.store.content.imageDir(v2)), false);
    const baseV2 = home.store.content.ref('base', 'v2')!;
    assert.ok(home.store.content.imported(baseV2), 'the tagged base import stays');
    for (const layer of home.store.content.imported(baseV2)!.layers) assert.ok(home.store.hasBlob(layer.digest), 'with its blobs');
    await assert.rejects(engine.execute({ language: 'lua', code: 'print(1)', image: v2 }), { field: 'image' });
    const again = await engine.execute({ language: 'lua', code: 'print(1)' });
    assert.equal(again.stdout, '1\n', 'the built image still runs');
  });
});
