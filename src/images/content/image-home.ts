import type { ImageManifest } from '../manifest.js';
import type { ContentStore } from './content-store.js';

/**
 * What the content-addressed code needs of a data home's images (ImageStore provides it): the
 * directories languages run (`images/<id>`) and the content store beside them.
 */
export interface ImageHome {
  readonly dir: string;
  readonly content: ContentStore;
  rootfs(id: string): string;
  manifest(id: string): ImageManifest | null;
  status(id: string): { built: boolean; stale: boolean; manifest: ImageManifest | null };
  isLinked(id: string): boolean;
  blobPath(digest: string): string;
  hasBlob(digest: string): boolean;
}
