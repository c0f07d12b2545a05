import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/paths.js';
import { imageChain } from '../languages/lookup.js';

/** Debian release every image is built from. */
export const SUITE = 'bookworm';

export const SCRIPTS_DIR = join(packageRoot, 'src', 'images', 'scripts');

let scriptsDigest: string | undefined;

/** Digest of the build scripts: changing how images are built changes every recipe hash. */
function scriptsHash(): string {
  if (scriptsDigest === undefined) {
    const hash = createHash('sha256');
    for (const name of readdirSync(SCRIPTS_DIR).sort()) hash.update(name).update(readFileSync(join(SCRIPTS_DIR, name)));
    scriptsDigest = hash.digest('hex');
  }
  return scriptsDigest;
}

/** Content hash of an image's recipe, covering its ancestors: rebuilt only when this changes. */
export function recipeHash(imageId: string): string {
  const chain = imageChain(imageId).map((recipe) => ({ id: recipe.id, packages: [...recipe.packages].sort() }));
  return createHash('sha256').update(JSON.stringify({ suite: SUITE, scripts: scriptsHash(), chain })).digest('hex').slice(0, 16);
}
