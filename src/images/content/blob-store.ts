import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, ImageError } from '../../errors.js';
import { blobFile, ensureTmpDir, tmpDirOf } from './blob-layout.js';
import { digestOf, fileDigest, type Digest } from './digest.js';

/**
 * Writes blobs (layer tars and image configs) by digest: `<dir>/blobs/sha256/<hex>`, written through
 * `<dir>/tmp/` on the same file system so that a blob appears whole or not at all.
 */
export class BlobStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  get tmpDir(): string {
    return tmpDirOf(this.dir);
  }

  /** A fresh temp path (for blobs whose digest is known only once written). */
  scratchPath(label: string): string {
    return join(ensureTmpDir(this.dir), `${label}-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  ensureTmp(): string {
    return ensureTmpDir(this.dir);
  }

  /** Moves a temp file into the store after checking that its bytes have `digest`; removes it otherwise. */
  async commitBlob(tempPath: string, digest: string): Promise<void> {
    const actual = await fileDigest(tempPath);
    if (actual !== digest) {
      await rm(tempPath, { force: true });
      throw new ImageError(ErrorCodes.IMAGE_DIGEST, `blob ${digest} does not match its digest (its bytes hash to ${actual})`);
    }
    await this.adopt(tempPath, digest as Digest);
  }

  /** Moves a temp file this process wrote and hashed itself into the store. */
  async adopt(tempPath: string, digest: Digest): Promise<void> {
    const target = blobFile(this.dir, digest);
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    await rename(tempPath, target);
  }

  /** Stores a small blob (an image config) and returns its digest. */
  async putBlob(data: Buffer): Promise<Digest> {
    const digest = digestOf(data);
    if (existsSync(blobFile(this.dir, digest))) return digest;
    const temp = this.scratchPath('blob');
    await writeFile(temp, data);
    await this.adopt(temp, digest);
    return digest;
  }
}
