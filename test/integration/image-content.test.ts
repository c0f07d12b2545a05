import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { dataPaths } from '../../src/config/paths.js';
import { layerEntries } from '../../src/images/content/layer-entries.js';
import { writeLayer } from '../../src/images/content/layer-tar.js';
import { ImageStore } from '../../src/images/store.js';
import { ErrorCodes, RunnerError } from '../../src/errors.js';
import { addBuiltImage, configFor, copyTree, craftedLayer, emptyHome, type CraftedEntry } from '../helpers/image-homes.js';
import { describeTree } from '../helpers/tree-compare.js';

const asRoot = process.getuid?.() === 0 ? false : 'needs root (layers keep numeric owners)';

/** A small tree with what layers must carry: owners, odd modes, symlinks, hardlinks, long and non-ASCII names. */
function fillParent(rootfs: string): void {
  mkdirSync(join(rootfs, 'etc/app'), { recursive: true });
  mkdirSync(join(rootfs, 'usr/lib/deep/a/very/long/directory/name/that/goes/on/and/on/past/the/hundred/bytes/of/a/ustar/name/field'), { recursive: true });
  writeFileSync(join(rootfs, 'usr/lib/deep/a/very/long/directory/name/that/goes/on/and/on/past/the/hundred/bytes/of/a/ustar/name/field/file.txt'), 'long\n');
  writeFileSync(join(rootfs, 'etc/app/config'), 'key=value\n');
  writeFileSync(join(rootfs, 'etc/secret'), 'no one\n');
  chmodSync(join(rootfs, 'etc/secret'), 0o000);
  writeFileSync(join(rootfs, 'etc/owned'), 'by 1000\n');
  chownSync(join(rootfs, 'etc/owned'), 1000, 1001);
  writeFileSync(join(rootfs, 'etc/héllo wörld'), 'utf-8 name\n');
  writeFileSync(join(rootfs, 'usr/tool'), '#!/bin/sh\necho tool\n');
  chmodSync(join(rootfs, 'usr/tool'), 0o755);
  linkSync(join(rootfs, 'usr/tool'), join(rootfs, 'usr/tool-alias'));
  symlinkSync('../usr/tool', join(rootfs, 'etc/tool-link'));
  symlinkSync('/etc/passwd', join(rootfs, 'etc/absolute-link'));
  mkdirSync(join(rootfs, 'var/cache/old'), { recursive: true });
  writeFileSync(join(rootfs, 'var/cache/old/a'), 'a');
  writeFileSync(join(rootfs, 'var/gone'), 'gone');
  mkdirSync(join(rootfs, 'opt/becomes-file'), { recursive: true });
  writeFileSync(join(rootfs, 'opt/becomes-file/x'), 'x');
  chmodSync(join(rootfs, 'var'), 0o2775);
  utimesSync(join(rootfs, 'etc/app/config'), 1_700_000_000, 1_700_000_000);
}

/** The child as a build makes it: `cp -al` of the parent (shared inodes), then changes (new inodes). */
function fillChild(parentRootfs: string) {
  return (rootfs: string): void => {
    rmSync(rootfs, { recursive: true });
    execFileSync('cp', ['-al', parentRootfs, rootfs]);
    rmSync(join(rootfs, 'var/cache/old'), { recursive: true });
    rmSync(join(rootfs, 'var/gone'));
    rmSync(join(rootfs, 'opt/becomes-file'), { recursive: true });
    writeFileSync(join(rootfs, 'opt/becomes-file'), 'now a file\n');
    rmSync(join(rootfs, 'etc/app/config'));
    writeFileSync(join(rootfs, 'etc/app/config'), 'key=changed\n');
    chmodSync(join(rootfs, 'etc/app'), 0o750);
    writeFileSync(join(rootfs, 'usr/new-lib.so'), Buffer.alloc(70_000, 7));
    linkSync(join(rootfs, 'usr/new-lib.so'), join(rootfs, 'usr/new-lib.so.1'));
    linkSync(join(rootfs, 'usr/tool'), join(rootfs, 'usr/tool-second-alias'));
  };
}

async function diffIdOf(rootfs: string, parent?: string): Promise<string> {
  return (await writeLayer(await layerEntries(rootfs, parent))).diffId;
}

describe('canonical layers', { skip: asRoot }, () => {
  it('are the same bytes for the same tree (twice, and on a cp -a copy) and differ for a changed byte, mode, owner or mtime', async () => {
    const { root, store } = emptyHome('layer-determinism');
    try {
      addBuiltImage(store, 'base', null, fillParent);
      const tree = store.rootfs('base');
      const blobA = join(root, 'a.tar.gz');
      const blobB = join(root, 'b.tar.gz');
      const first = await writeLayer(await layerEntries(tree), blobA);
      copyTree(tree, join(root, 'copy'));
      const second = await writeLayer(await layerEntries(join(root, 'copy')), blobB);
      assert.equal(second.diffId, first.diffId, 'a copy of the tree has the same diff_id');
      assert.equal(second.digest, first.digest, 'and the same blob digest (same zlib, same level)');
      assert.deepEqual(readFileSync(blobA), readFileSync(blobB));
      assert.equal(await diffIdOf(tree), first.diffId, 'the same tree twice: the same bytes');

      const copy = join(root, 'copy');
      const seen = new Set<string>([first.diffId]);
      const changes: [string, () => void][] = [
        ['a byte', () => writeFileSync(join(copy, 'etc/app/config'), 'key=valuf\n')],
        ['a mode', () => chmodSync(join(copy, 'usr/tool'), 0o750)],
        ['an owner', () => chownSync(join(copy, 'etc/secret'), 0, 5)],
        ['a directory mode', () => chmodSync(join(copy, 'etc'), 0o700)],
        ['a symlink target', () => { rmSync(join(copy, 'etc/tool-link')); symlinkSync('../usr/tool-alias', join(copy, 'etc/tool-link')); }],
        ['a file mtime', () => utimesSync(join(copy, 'etc/owned'), 1_600_000_000, 1_600_000_000)],
      ];
      for (const [what, change] of changes) {
        change();
        const id = await diffIdOf(copy);
        assert.ok(!seen.has(id), `changing ${what} changes the diff_id`);
        seen.add(id);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a child layer holds what changed plus whiteouts, and export → import into an empty home rebuilds identical trees', async () => {
    const source = emptyHome('layer-source');
    const target = emptyHome('layer-target');
    try {
      addBuiltImage(source.store, 'base', null, fillParent);
      addBuiltImage(source.store, 'lua', 'base', fillChild(source.store.rootfs('base')));
      const entries = await layerEntries(source.store.rootfs('lua'), source.store.rootfs('base'));
      const paths = entries.map((entry) => `${entry.kind} ${entry.path}`);
      assert.ok(paths.includes('whiteout var/cache/.wh.old'), `a removed directory is one whiteout: ${paths.join(', ')}`);
      assert.ok(paths.includes('whiteout var/.wh.gone'));
      assert.ok(!paths.some((path) => path.includes('var/cache/old/')), 'nothing below a removed directory');
      assert.ok(paths.includes('file opt/becomes-file'), 'a directory replaced by a file');
      assert.ok(paths.includes('dir etc/app'), 'a directory whose mode changed');
      assert.ok(paths.includes('file usr/new-lib.so') && paths.includes('link usr/new-lib.so.1'), 'a new hardlink pair: one file and a link');
      assert.ok(paths.includes('link usr/tool-second-alias'), 'a new name of a parent file: a link into the lower layer');
      assert.ok(!paths.includes('file usr/tool') && !paths.includes('dir usr') && !paths.includes('file etc/secret'), 'unchanged paths are not in the layer');

      const archive = await source.store.exportImage('lua');
      assert.equal(archive.layers.length, 2);
      const { digest } = await target.store.importImage(archive.config, archive.layers, { name: 'lua', tag: 'test' });
      for (const id of ['lua']) {
        assert.deepEqual(await describeTree(target.store.rootfs(id)), await describeTree(source.store.rootfs(id)), `${id}: modes, owners, links, symlinks and bytes survive`);
      }
      const again = await target.store.exportImage(digest);
      assert.deepEqual(again.layers.map((layer) => layer.diffId), archive.layers.map((layer) => layer.diffId), 'the imported image exports the same layers');
      assert.equal(again.config.toString(), archive.config.toString());
      assert.equal(target.store.manifest('lua')?.digest, digest, 'images/lua is the import');
      assert.deepEqual(readdirSync(join(target.root, 'store/tmp')), [], 'no temp files left');
    } finally {
      rmSync(source.root, { recursive: true, force: true });
      rmSync(target.root, { recursive: true, force: true });
    }
  });

  it('an image whose parent was imported before shares the parent\'s files (never changing them) and is the same tree', async () => {
    const source = emptyHome('share-source');
    const target = emptyHome('share-target');
    try {
      addBuiltImage(source.store, 'base', null, fillParent);
      addBuiltImage(source.store, 'lua', 'base', fillChild(source.store.rootfs('base')));
      const base = await source.store.exportImage('base');
      await target.store.importImage(base.config, base.layers, { name: 'base', tag: 'test' });
      const lua = await source.store.exportImage('lua');
      await target.store.importImage(lua.config, lua.layers.slice(), { name: 'lua', tag: 'test' });
      const inode = (id: string, path: string): number => statSync(join(target.store.rootfs(id), path)).ino;
      assert.equal(inode('lua', 'usr/tool'), inode('base', 'usr/tool'), 'an unchanged file is one inode in both');
      assert.notEqual(inode('lua', 'etc/app/config'), inode('base', 'etc/app/config'));
      for (const id of ['base', 'lua']) assert.deepEqual(await describeTree(target.store.rootfs(id)), await describeTree(source.store.rootfs(id)), `${id} as it was built`);
    } finally {
      rmSync(source.root, { recursive: true, force: true });
      rmSync(target.root, { recursive: true, force: true });
    }
  });

  const shared = new ImageStore(dataPaths().imagesDir);
  const skipReal = asRoot || (shared.manifest('lua') && shared.manifest('base') ? false : 'the base and lua images are not built (infra.operator rootfs build --lang lua)');
  it('a real image (lua on base) exported from cp -a copies has the layers of the original, and imports into an identical tree', { skip: skipReal }, async () => {
    const copies = emptyHome('real-copies');
    const target = emptyHome('real-target');
    try {
      for (const id of ['base', 'lua']) copyTree(join(shared.dir, id), join(copies.store.dir, id));
      const archive = await copies.store.exportImage('lua');
      const expected = [await diffIdOf(shared.rootfs('base')), await diffIdOf(shared.rootfs('lua'), shared.rootfs('base'))];
      assert.deepEqual(archive.layers.map((layer) => layer.diffId), expected, 'copies (new inodes) give the layers of the hardlinked original');
      await target.store.importImage(archive.config, archive.layers, { name: 'lua', tag: 'copy' });
      assert.deepEqual(await describeTree(target.store.rootfs('lua')), await describeTree(shared.rootfs('lua')));
    } finally {
      rmSync(copies.root, { recursive: true, force: true });
      rmSync(target.root, { recursive: true, force: true });
    }
  });
});

/** What a refused import must leave: no image, no tag, no link, no temp file, nothing outside. */
function assertNothingImported(root: string, outside: string): void {
  const store = join(root, 'store');
  for (const dir of ['images', 'refs', 'tmp']) {
    const path = join(store, dir);
    assert.deepEqual(existsSync(path) ? readdirSync(path) : [], [], `store/${dir} is empty`);
  }
  assert.deepEqual(readdirSync(join(root, 'images')), [], 'no image linked');
  assert.equal(existsSync(outside), false, 'nothing written outside the tree');
}

describe('importing hostile layers', { skip: asRoot }, () => {
  const cases: { name: string; entries: (outside: string) => CraftedEntry[]; code: string; message: RegExp }[] = [
    { name: 'a path with ..', entries: () => [{ name: 'etc/../../escape', data: 'x' }], code: ErrorCodes.IMAGE_IMPORT, message: /leaves its tree/ },
    { name: 'an absolute path', entries: (outside) => [{ name: outside, data: 'x' }], code: ErrorCodes.IMAGE_IMPORT, message: /absolute/ },
    { name: 'a file written through a planted symlink', entries: (outside) => [{ name: 'evil', type: 'symlink', linkname: outside }, { name: 'evil/pwned', data: 'x' }], code: ErrorCodes.IMAGE_IMPORT, message: /parent is not a directory/ },
    { name: 'a directory through a symlink to ..', entries: () => [{ name: 'up', type: 'symlink', linkname: '..' }, { name: 'up/x', type: 'directory' }], code: ErrorCodes.IMAGE_IMPORT, message: /parent is not a directory/ },
    { name: 'a hardlink to a host file', entries: () => [{ name: 'passwd', type: 'link', linkname: '../../../../etc/passwd' }], code: ErrorCodes.IMAGE_IMPORT, message: /leaves its tree/ },
    { name: 'a hardlink to a symlink of the image', entries: (outside) => [{ name: 'l', type: 'symlink', linkname: outside }, { name: 'h', type: 'link', linkname: 'l' }], code: ErrorCodes.IMAGE_IMPORT, message: /not a regular file/ },
    { name: 'a device node', entries: () => [{ name: 'dev', type: 'directory' }, { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 }], code: ErrorCodes.IMAGE_IMPORT, message: /block-device/ },
    { name: 'a setuid file', entries: () => [{ name: 'su', data: '#!/bin/sh', mode: 0o4755 }], code: ErrorCodes.IMAGE_IMPORT, message: /setuid/ },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}, leaving nothing behind`, async () => {
      const { root, store } = emptyHome('hostile');
      const outside = join(root, 'outside-target');
      try {
        const layer = await craftedLayer(root, c.entries(outside));
        await assert.rejects(store.importImage(configFor('crafted', [layer]), [layer], { name: 'crafted', tag: 'x' }), (err: RunnerError) => {
          assert.equal(err.code, c.code);
          assert.match(err.message, c.message);
          return true;
        });
        assertNothingImported(root, outside);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }

  it('refuses a corrupted blob, a diff_id that does not match, and a layer past the size bound', async () => {
    const { root, store } = emptyHome('hostile-digest');
    try {
      const layer = await craftedLayer(root, [{ name: 'file', data: 'x'.repeat(5000) }]);
      const bytes = readFileSync(layer.path);
      const corrupted = join(root, 'corrupted');
      bytes[bytes.length - 12] = bytes[bytes.length - 12]! ^ 0xff;
      writeFileSync(corrupted, bytes);
      await assert.rejects(store.importImage(configFor('crafted', [layer]), [{ ...layer, path: corrupted }], { name: 'crafted', tag: 'x' }), { code: ErrorCodes.IMAGE_DIGEST, message: /corrupted/ });
      assertNothingImported(root, join(root, 'none'));

      const other = await craftedLayer(root, [{ name: 'other', data: 'y' }]);
      await assert.rejects(store.importImage(configFor('crafted', [layer]), [{ ...other, diffId: layer.diffId }], { name: 'crafted', tag: 'x' }), { code: ErrorCodes.IMAGE_DIGEST });
      assertNothingImported(root, join(root, 'none'));

      await assert.rejects(store.importImage(configFor('crafted', [layer]), [layer], { name: 'crafted', tag: 'x', bounds: { maxBytes: 1000, maxEntries: 10 } }), { code: ErrorCodes.IMAGE_IMPORT, message: /bound/ });
      assertNothingImported(root, join(root, 'none'));

      await assert.rejects(store.importImage(configFor('../../etc', [layer]), [layer], { name: 'crafted', tag: 'x' }), { code: ErrorCodes.IMAGE_IMPORT, message: /config: id/ });
      assertNothingImported(root, join(root, 'none'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
