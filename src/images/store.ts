import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ErrorCodes, ImageError } from '../errors.js';
import { allImages } from '../languages/lookup.js';
import type { ImageArchive, LayerBlob } from './content/archive.js';
import { blobFile, tempBlobFile } from './content/blob-layout.js';
import type { ContentStore } from './content/content-store.js';
import type { ImportBounds } from './content/tree-writer.js';
import type { ResolvedImage, ResolveOptions } from './content/resolve.js';
import type { ImageManifest } from './manifest.js';
import { recipeHash } from './recipe-hash.js';

export interface ImageStatus {
  id: string;
  built: boolean;
  /** Built from an older recipe than the catalog's (rebuild to update). */
  stale: boolean;
  manifest: ImageManifest | null;
}

/**
 * The images of a data home. Every image a language runs is `<home>/images/<id>/{rootfs,manifest.json}`:
 * a built image's directory, or a symlink to an imported one in the content store
 * (`<home>/store/`, content/content-store.ts), which also holds blobs, tags and the other imported
 * images by digest. Whatever runs code asks `rootfs(id)` (or `resolve(ref)` for a pinned digest).
 */
export class ImageStore {
  readonly dir: string;
  /** `<home>/store/`, beside images/ (so a home whose images/ is a symlink keeps its own store). */
  readonly contentDir: string;
  #content: ContentStore | undefined;

  constructor(dir: string, contentDir: string = join(dirname(dir), 'store')) {
    this.dir = dir;
    this.contentDir = contentDir;
  }

  /** The content store, once opened: every content operation below opens it first. */
  get content(): ContentStore {
    if (!this.#content) throw new Error('ImageStore.content is used before openContent()');
    return this.#content;
  }

  /** Loads the content-store modules (a plain run never needs them) and opens the store. */
  async openContent(): Promise<ContentStore> {
    this.#content ??= new (await import('./content/content-store.js')).ContentStore(this.contentDir);
    return this.#content;
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
    return { id, built: manifest !== null, stale: manifest !== null && manifest.source !== 'imported' && manifest.recipe_hash !== recipeHash(id), manifest };
  }

  list(): ImageStatus[] {
    return allImages().map((image) => this.status(image.id));
  }

  /** Whether `images/<id>` is a link to an imported image rather than a built directory. */
  isLinked(id: string): boolean {
    try {
      return lstatSync(join(this.dir, id)).isSymbolicLink();
    } catch {
      return false;
    }
  }

  /**
   * Removes an image. Children keep working: they hold their own hardlinks to shared files. For an
   * imported image only the link goes; its content stays in the store until `gc`.
   */
  async remove(id: string): Promise<boolean> {
    if (!existsSync(join(this.dir, id)) && !this.isLinked(id)) return false;
    await rm(join(this.dir, id), { recursive: true, force: true });
    return true;
  }

  /**
   * Leftovers of interrupted builds and imports (`.build-ID-PID`, `.old-ID-PID`, `.link-ID-PID-HEX`),
   * removed before a new build: only those whose process is gone. A build running at the same time in
   * another process (a second `setup` on the same store) keeps its directory — removing it under the
   * running dpkg broke that build.
   */
  partialBuilds(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).filter((name) => {
      const pid = ownerOfPartial(name);
      return pid !== undefined && (pid === process.pid || !processAlive(pid));
    });
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

  // The content-addressed store (docs/images.md). The modules behind these load on first use, so
  // that a plain run does not pay for them.

  blobPath(digest: string): string {
    return blobFile(this.contentDir, digest);
  }

  hasBlob(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  /** A writable temp file in the store's tmp dir (same file system), for downloads; move it in with commitBlob. */
  tempBlobPath(digest: string): string {
    return tempBlobFile(this.contentDir, digest);
  }

  /** Moves a downloaded blob into the store after verifying its sha256 (removed if it does not match). */
  async commitBlob(tempPath: string, digest: string): Promise<void> {
    return (await this.openContent()).blobs.commitBlob(tempPath, digest);
  }

  /** The config and layer blobs of an image (a name, name:tag or digest), writing or reusing the blobs. */
  async exportImage(ref: string): Promise<ImageArchive> {
    await this.openContent();
    return (await import('./content/export.js')).exportImage(this, ref);
  }

  /**
   * Verifies the config and every layer (digest and diff_id), extracts them into a private new
   * directory, renames it into place, then points `name:tag` at it. Never a half image visible.
   */
  async importImage(config: Buffer, layers: LayerBlob[], options: { name: string; tag: string; bounds?: ImportBounds }): Promise<{ digest: string }> {
    await this.openContent();
    return (await import('./content/import.js')).importImage(this, config, layers, options);
  }

  /** The image a reference names (digest, name:tag, or image id), or InvalidRequestError naming `field`. */
  async resolve(ref: string, options: ResolveOptions = {}): Promise<ResolvedImage> {
    await this.openContent();
    return (await import('./content/resolve.js')).resolveImage(this, ref, options);
  }
}

/** The pid in a partial build's or import's name, or undefined when the name is not one. */
function ownerOfPartial(name: string): number | undefined {
  const match = /^\.(?:build|old)-.+-(\d+)$/.exec(name) ?? /^\.link-.+-(\d+)-[0-9a-f]+$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
