import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageManifest } from '../../images/manifest.js';
import type { VmPaths } from '../../images/vm/paths.js';

/*
 * What a snapshot is and whether it is current: light, for the CLI's `snapshot list` and the
 * backend's choice between restoring and booting. Making one is snapshot.ts.
 */

/** Where an image's snapshot lives: Firecracker's VM state, the guest memory, and what it was made from. */
export interface SnapshotFiles {
  dir: string;
  vmstate: string;
  memory: string;
  manifest: string;
}

export interface SnapshotManifest {
  image: string;
  /** The image, kernel and initramfs it was made from: any change makes it stale. */
  image_recipe_hash: string;
  kernel: string;
  initramfs_sha256: string;
  /** Made by a jailed Firecracker (its paths are chroot-relative): restored only by one. */
  jailed: boolean;
  /** Guest RAM: fixed by the snapshot, whatever an execution's memory limit. */
  memory_mib: number;
  created_at: string;
}

export function snapshotFiles(vm: VmPaths, image: string): SnapshotFiles {
  const dir = join(vm.dir, 'snapshots', image);
  return { dir, vmstate: join(dir, 'vmstate'), memory: join(dir, 'memory'), manifest: join(dir, 'manifest.json') };
}

const digests = new Map<string, { stamp: string; sha256: string }>();

/**
 * sha256 of a file, remembered while its size and mtime stay the same: the snapshot check runs on
 * every Firecracker start, and the initramfs it hashes changes only when `setup --vm` rewrites it.
 */
export function sha256(path: string): string {
  const { size, mtimeMs, ino } = statSync(path);
  const stamp = `${ino}:${size}:${mtimeMs}`;
  const known = digests.get(path);
  if (known?.stamp === stamp) return known.sha256;
  const digest = createHash('sha256').update(readFileSync(path)).digest('hex');
  digests.set(path, { stamp, sha256: digest });
  return digest;
}

/**
 * The image's snapshot when it was made from the image, kernel and initramfs as they are now, by a
 * Firecracker run the same way (jailed or not: the snapshot holds the paths it was given).
 */
export function currentSnapshot(vm: VmPaths, image: ImageManifest, kernelRelease: string, jailed: boolean): SnapshotManifest | null {
  const files = snapshotFiles(vm, image.id);
  if (!existsSync(files.manifest) || !existsSync(files.vmstate) || !existsSync(files.memory)) return null;
  const manifest = JSON.parse(readFileSync(files.manifest, 'utf8')) as SnapshotManifest;
  const current =
    manifest.image_recipe_hash === image.recipe_hash &&
    manifest.kernel === kernelRelease &&
    (manifest.jailed ?? false) === jailed &&
    manifest.initramfs_sha256 === sha256(vm.initramfs);
  return current ? manifest : null;
}
