import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildInitramfs } from '../../src/images/vm/initramfs.js';

/*
 * The initramfs is written by the real cpio(1). Its promise used to wait for the output file's
 * 'close' only after cpio's own 'close', and when the file had closed first it never settled: Node
 * then exited mid-`setup --vm` with status 13 (unsettled top-level await), in two of four fresh
 * set-ups one day. 40 builds in a row failed that way every time; each must now finish, whole.
 */
it('builds the initramfs again and again, each archive whole (never a promise left unsettled)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rc-initramfs-'));
  try {
    const modulesDir = join(dir, 'modules-src');
    mkdirSync(modulesDir);
    const modules = ['virtio.ko', 'virtio_ring.ko', 'virtio_blk.ko'];
    for (const module of modules) writeFileSync(join(modulesDir, module), Buffer.alloc(64 * 1024, module));
    writeFileSync(join(dir, 'vminit'), Buffer.alloc(512 * 1024, 1));
    writeFileSync(join(dir, 'agent'), Buffer.alloc(1024 * 1024, 2));
    const vm = { dir, initramfs: join(dir, 'initramfs.cpio'), modulesDir } as Parameters<typeof buildInitramfs>[0];
    for (let i = 0; i < 40; i++) await buildInitramfs(vm, join(dir, 'vminit'), join(dir, 'agent'), modules);
    const listing = spawnSync('cpio', ['-t', '--quiet'], { input: readFileSync(vm.initramfs) });
    assert.equal(listing.status, 0, listing.stderr.toString());
    assert.deepEqual(listing.stdout.toString().trim().split('\n').sort(), ['.', 'init', 'modules', 'modules/order', 'runner-agent', ...modules.map((m) => `modules/${m}`)].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
