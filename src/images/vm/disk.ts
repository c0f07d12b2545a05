import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { ErrorCodes, ImageError } from '../../errors.js';
import type { ImageManifest } from '../manifest.js';
import { runLogged } from '../run-logged.js';
import { diskPath, type VmPaths } from './paths.js';

interface DiskManifest {
  image: string;
  /** The image's recipe hash when the disk was made: a different one means remake it. */
  recipe_hash: string;
  /** An imported image's digest: another import of the same recipe is another image. */
  digest?: string;
  bytes: number;
}

const manifestPath = (disk: string): string => `${disk}.json`;

/** Whether the image's disk exists and was made from the image as it is now. */
export function diskIsCurrent(vm: VmPaths, image: ImageManifest): boolean {
  const disk = diskPath(vm, image.id);
  if (!existsSync(disk) || !existsSync(manifestPath(disk))) return false;
  const manifest = JSON.parse(readFileSync(manifestPath(disk), 'utf8')) as DiskManifest;
  return manifest.recipe_hash === image.recipe_hash && manifest.digest === image.digest;
}

/**
 * Makes the read-only root disk of a language image: an ext4 file system filled from the image's
 * tree by `mkfs.ext4 -d` (no loop mount, no root-only kernel state), without a journal since no
 * guest ever writes to it. Sized to the tree plus a margin; inodes counted, not guessed. An
 * imported image's tree (`images/<id>` a link into the store) is read the same way.
 */
export async function buildDisk(vm: VmPaths, image: ImageManifest, rootfs: string, onLine: (line: string) => void): Promise<string> {
  const disk = diskPath(vm, image.id);
  const partial = `${disk}.partial`;
  await mkdir(vm.disksDir, { recursive: true });
  try {
    const files = Number((await runLogged(['find', rootfs, '-xdev', '-printf', '.'], () => undefined)).length);
    const bytes = Math.ceil((image.bytes * 1.1 + files * 4096 + 64 * 1024 * 1024) / (1024 * 1024)) * 1024 * 1024;
    await rm(partial, { force: true });
    await runLogged(
      ['mkfs.ext4', '-q', '-F', '-d', rootfs, '-L', `rc-${image.id}`.slice(0, 16), '-O', '^has_journal', '-N', String(Math.ceil(files * 1.2) + 1024), '-E', 'root_owner=0:0', partial, `${bytes / 1024}k`],
      onLine,
    );
    await rename(partial, disk);
    const manifest: DiskManifest = { image: image.id, recipe_hash: image.recipe_hash, ...(image.digest ? { digest: image.digest } : {}), bytes };
    await writeFile(manifestPath(disk), JSON.stringify(manifest, null, 2) + '\n');
    return disk;
  } catch (err) {
    await rm(partial, { force: true });
    throw err instanceof ImageError ? err : new ImageError(ErrorCodes.IMAGE_BUILD, `cannot make the disk of ${image.id}: ${(err as Error).message}`, { cause: err });
  }
}
