import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { digestHex } from './digest.js';

/**
 * Where a content store (`<home>/store/`) keeps blobs and their downloads: the paths alone, so that
 * asking for one loads no more than this (BlobStore does the rest).
 */
export function blobFile(storeDir: string, digest: string): string {
  return join(storeDir, 'blobs', 'sha256', digestHex(digest));
}

export function tmpDirOf(storeDir: string): string {
  return join(storeDir, 'tmp');
}

/** The tmp dir, private to root (the store itself stays searchable: sandboxes' users must reach imported trees). */
export function ensureTmpDir(storeDir: string): string {
  mkdirSync(storeDir, { recursive: true });
  mkdirSync(tmpDirOf(storeDir), { recursive: true, mode: 0o700 });
  return tmpDirOf(storeDir);
}

/**
 * A writable temp file for a blob being downloaded. The same digest always gets the same path, so
 * an interrupted download can resume where it stopped (one download of a blob at a time).
 */
export function tempBlobFile(storeDir: string, digest: string): string {
  return join(ensureTmpDir(storeDir), `${digestHex(digest)}.partial`);
}
