import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, ImageError } from '../errors.js';
import { allImages } from '../languages/lookup.js';
import type { ImageManifest } from './manifest.js';
import { recipeHash } from './recipe-hash.js';

export interface ImageStatus {
  id: string;
  built: boolean;
  /** Built from an older recipe than the catalog's (rebuild to update). */
  stale: boolean;
  manifest: ImageManifest | null;
}

/** The images on disk under `<data dir>/images/<id>/{rootfs,manifest.json}`. */
export class ImageStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  rootfs(id: string): string {
    return join(this.dir, id, 'rootfs');
  }

  manifest(id: string): ImageManifest | null {
    const path = join(this.dir, id, 'manifest.json');
    if (!existsSync(path) || !existsSync(this.rootfs(id))) return null;
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as ImageManifest;
    } catch {
      return null;
    }
  }

  status(id: string): ImageStatus {
    const manifest = this.manifest(id);
    return { id, built: manifest !== null, stale: manifest !== null && manifest.recipe_hash !== recipeHash(id), manifest };
  }

  list(): ImageStatus[] {
    return allImages().map((image) => this.status(image.id));
  }

  /** Removes an image. Children keep working: they hold their own hardlinks to shared files. */
  async remove(id: string): Promise<boolean> {
    if (!existsSync(join(this.dir, id))) return false;
    await rm(join(this.dir, id), { recursive: true, force: true });
    return true;
  }

  /** Leftovers of interrupted builds (`.build-*`), removed before a new build. */
  partialBuilds(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).filter((name) => name.startsWith('.build-') || name.startsWith('.old-'));
  }

  /** The manifest of a language's image, or IMAGE_MISSING naming the command that builds it. */
  require(imageId: string, languageId: string): ImageManifest {
    const manifest = this.manifest(imageId);
    if (!manifest) {
      throw new ImageError(ErrorCodes.IMAGE_MISSING, `image for '${languageId}' is not built`, {
        hint: `run \`infra.operator rootfs build --lang ${languageId}\``,
      });
    }
    return manifest;
  }
}
