import { createHash, type Hash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/paths.js';
import { imageChain } from '../languages/lookup.js';

/** Debian release every image is built from. */
export const SUITE = 'bookworm';

export const SCRIPTS_DIR = join(packageRoot, 'src', 'images', 'scripts');

/** A layer's own files (`rootfs/` to copy in, `setup.sh` to run), when it has any. */
export function layerAssetsDir(imageId: string): string {
  return join(packageRoot, 'src', 'images', 'layers', imageId);
}

/** Writes a custom image's `files` inside its chroot (run as the layer's setup.sh). */
export const INSTALL_FILES_SCRIPT = join(packageRoot, 'src', 'images', 'custom', 'install-files.sh');

let scriptsDigest: string | undefined;

/** Digest of the build scripts: changing how images are built changes every recipe hash. */
function scriptsHash(): string {
  if (scriptsDigest === undefined) scriptsDigest = hashTree(createHash('sha256'), SCRIPTS_DIR).digest('hex');
  return scriptsDigest;
}

/**
 * Adds every file under `dir` to the hash, in a stable order: names, contents and whether it is
 * executable (not the full mode, which depends on the umask of whoever checked the tree out).
 */
function hashTree(hash: Hash, dir: string, prefix = ''): Hash {
  if (!existsSync(dir)) return hash;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) hashTree(hash, path, `${prefix}${name}/`);
    else hash.update(`${prefix}${name}\0${stat.mode & 0o111 ? 'x' : '-'}\0`).update(readFileSync(path));
  }
  return hash;
}

/** Content hash of an image's recipe, covering its ancestors: rebuilt only when this changes. */
export function recipeHash(imageId: string): string {
  const chain = imageChain(imageId).map((recipe) => ({
    id: recipe.id,
    packages: [...recipe.packages].sort(),
    npm: (recipe.npm ?? []).map((pkg) => ({ spec: pkg.spec, bin: pkg.bin ?? {} })),
    assets: hashTree(createHash('sha256'), layerAssetsDir(recipe.id)).digest('hex'),
    // Only custom images have `files`: the built-in images' hashes stay what they were.
    ...(recipe.files?.length ? { files: recipe.files.map((file) => ({ path: file.path, content: file.content, executable: file.executable === true })), installer: createHash('sha256').update(readFileSync(INSTALL_FILES_SCRIPT)).digest('hex') } : {}),
  }));
  return createHash('sha256').update(JSON.stringify({ suite: SUITE, scripts: scriptsHash(), chain })).digest('hex').slice(0, 16);
}
