import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayerBlob } from './archive.js';
import { BlobStore } from './blob-store.js';
import { digestHex, isDigest, type Digest } from './digest.js';
import { parseConfig, type ImageConfig } from './image-config.js';

/** An image imported into the store (from a registry or an export): `images/<hex>/`. */
export interface ImportedImage {
  digest: Digest;
  dir: string;
  config: ImageConfig;
  layers: Omit<LayerBlob, 'path'>[];
}

/** What is cached about a built image's own layer, valid while `key` (its build chain) is unchanged. */
export interface BuiltLayerRecord {
  key: string;
  diff_id: Digest;
  blob?: { digest: Digest; size: number };
}

/**
 * The content-addressed part of a data home, `<home>/store/`:
 *   blobs/sha256/<hex>        layer blobs and config blobs
 *   tmp/                      downloads, exports and imports in progress (same file system)
 *   images/<hex>/             imported images by digest: config.json (the exact blob), layers.json,
 *                             manifest.json, rootfs/
 *   refs/<name:tag>           the digest a name and tag point at (one file each: atomic updates)
 *   built/<id>.json           the cached layer digests of a built image (BuiltLayerRecord)
 */
export class ContentStore {
  readonly dir: string;
  readonly blobs: BlobStore;

  constructor(dir: string) {
    this.dir = dir;
    this.blobs = new BlobStore(dir);
  }

  imageDir(digest: string): string {
    return join(this.dir, 'images', digestHex(digest));
  }

  imported(digest: string): ImportedImage | null {
    const dir = this.imageDir(digest);
    if (!existsSync(join(dir, 'rootfs'))) return null;
    try {
      const config = parseConfig(readFileSync(join(dir, 'config.json')));
      const layers = JSON.parse(readFileSync(join(dir, 'layers.json'), 'utf8')) as ImportedImage['layers'];
      return { digest: digest as Digest, dir, config, layers };
    } catch {
      return null;
    }
  }

  listImported(): ImportedImage[] {
    const dir = join(this.dir, 'images');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .map((hex) => `sha256:${hex}`)
      .filter(isDigest)
      .map((digest) => this.imported(digest))
      .filter((image): image is ImportedImage => image !== null);
  }

  #refPath(name: string, tag: string): string {
    return join(this.dir, 'refs', encodeURIComponent(`${name}:${tag}`));
  }

  ref(name: string, tag: string): Digest | null {
    const path = this.#refPath(name, tag);
    if (!existsSync(path)) return null;
    const digest = readFileSync(path, 'utf8').trim();
    return isDigest(digest) ? digest : null;
  }

  /** Every `name:tag` and the digest it points at. */
  refs(): { ref: string; digest: Digest }[] {
    const dir = join(this.dir, 'refs');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((file) => !file.startsWith('.'))
      .map((file) => ({ ref: decodeURIComponent(file), digest: readFileSync(join(dir, file), 'utf8').trim() }))
      .filter((entry): entry is { ref: string; digest: Digest } => isDigest(entry.digest))
      .sort((a, b) => a.ref.localeCompare(b.ref));
  }

  async setRef(name: string, tag: string, digest: Digest): Promise<void> {
    const path = this.#refPath(name, tag);
    await mkdir(join(this.dir, 'refs'), { recursive: true });
    const temp = join(this.dir, 'refs', `.${process.pid}-${Date.now()}`);
    await writeFile(temp, `${digest}\n`);
    await rename(temp, path);
  }

  async removeRef(ref: string): Promise<boolean> {
    const path = join(this.dir, 'refs', encodeURIComponent(ref));
    if (!existsSync(path)) return false;
    await rm(path, { force: true });
    return true;
  }

  builtLayer(id: string): BuiltLayerRecord | null {
    const path = join(this.dir, 'built', `${id}.json`);
    if (!existsSync(path)) return null;
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as BuiltLayerRecord;
    } catch {
      return null;
    }
  }

  async saveBuiltLayer(id: string, record: BuiltLayerRecord): Promise<void> {
    await mkdir(join(this.dir, 'built'), { recursive: true });
    const temp = join(this.dir, 'built', `.${id}.${process.pid}`);
    await writeFile(temp, JSON.stringify(record, null, 2) + '\n');
    await rename(temp, join(this.dir, 'built', `${id}.json`));
  }
}
