import type { Sha256Digest } from './ref.js';

/** One layer blob of the local store (src/images/content/archive.ts's LayerBlob). */
export interface StoreLayer {
  digest: Sha256Digest;
  diffId: Sha256Digest;
  size: number;
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip';
  path: string;
}

/**
 * What push and pull need of the local content-addressed store (ImageStore implements it; the
 * contract is /work/wt/IMAGES.md): export an image's blobs, take downloaded blobs in, import.
 */
export interface RegistryStore {
  exportImage(ref: string): Promise<{ config: Buffer; configMediaType: string; layers: StoreLayer[] }>;
  blobPath(digest: string): string;
  hasBlob(digest: string): boolean;
  tempBlobPath(digest: string): string;
  commitBlob(tempPath: string, digest: string): Promise<void>;
  importImage(config: Buffer, layers: StoreLayer[], options: { name: string; tag: string }): Promise<{ digest: string }>;
}
