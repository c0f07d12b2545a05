import type { Digest } from './digest.js';

export const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const CONFIG_MEDIA_TYPE = 'application/vnd.runner-codes.image.config.v1+json';

/** One layer of an image as the blob store holds it (what a registry stores and serves). */
export interface LayerBlob {
  /** sha256 of the compressed blob (what registries address). */
  digest: Digest;
  /** sha256 of the uncompressed canonical tar (OCI diff_id): the identity. */
  diffId: Digest;
  size: number;
  mediaType: typeof LAYER_MEDIA_TYPE;
  /** The blob file in the local blob store. */
  path: string;
}

/** An image ready to push: its config blob and its layers, parent first. */
export interface ImageArchive {
  /** Canonical JSON (image-config.ts); sha256(config) is the image digest. */
  config: Buffer;
  configMediaType: typeof CONFIG_MEDIA_TYPE;
  layers: LayerBlob[];
}
