import type { ImageArchive, LayerBlob } from '../content/archive.js';

/**
 * What push and pull need of the local content-addressed store (ImageStore implements it; the
 * contract is in docs/images.md): export an image's blobs, take downloaded blobs in, import.
 */
export interface RegistryStore {
  exportImage(ref: string): Promise<ImageArchive>;
  blobPath(digest: string): string;
  hasBlob(digest: string): boolean;
  tempBlobPath(digest: string): string;
  commitBlob(tempPath: string, digest: string): Promise<void>;
  importImage(config: Buffer, layers: LayerBlob[], options: { name: string; tag: string }): Promise<{ digest: string }>;
}
