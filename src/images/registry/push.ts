import { InvalidRequestError } from '../../errors.js';
import { getLanguage } from '../../languages/lookup.js';
import { digestOf } from '../content/digest.js';
import { imageArtifact, OCI_MANIFEST_MEDIA_TYPE } from './artifact.js';
import { openTransport } from './open-transport.js';
import { formatRemoteRef, type RemoteRef } from './ref.js';
import type { RegistryStore } from './store-port.js';
import type { BlobReport, TransferEvent } from './transfer-events.js';

export interface PushOptions {
  onEvent?: (event: TransferEvent) => void;
  env?: NodeJS.ProcessEnv;
  /** Upload chunk size for OCI registries (default 8 MiB). */
  chunkSize?: number;
}

export interface PushReport {
  ref: string;
  language: string;
  image: string;
  /** The digest of the manifest pushed: pin it with `REF@<digest>`. */
  manifest_digest: string;
  /** The image digest (sha256 of its config), as `rootfs ls` shows it. */
  image_digest: string;
  blobs: BlobReport[];
}

/**
 * Pushes the image of a language: its layer blobs (parent first) and config blob, each skipped when
 * the remote has it, then the manifest under the reference's tag (last, so that a tag never names an
 * image whose blobs are not all there).
 */
export async function pushImage(store: RegistryStore, language: string, ref: RemoteRef, options: PushOptions = {}): Promise<PushReport> {
  if (ref.digest) throw new InvalidRequestError('ref', `push names a tag, not a digest (the digest is what the push computes): drop '@${ref.digest}'`);
  const { id: languageId, image } = getLanguage(language);
  const archive = await store.exportImage(image);
  const transport = await openTransport(ref, { push: true, ...(options.env ? { env: options.env } : {}), ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}) });
  const emit = options.onEvent ?? (() => undefined);
  const configDigest = digestOf(archive.config);
  const blobs = [
    ...archive.layers.map((l) => ({ role: 'layer' as const, digest: l.digest, size: l.size, path: l.path })),
    { role: 'config' as const, digest: configDigest, size: archive.config.length, path: store.blobPath(configDigest) },
  ];
  emit({ kind: 'start', direction: 'push', ref: formatRemoteRef(ref), blobs: blobs.length, bytes: blobs.reduce((n, b) => n + b.size, 0) });
  const reports: BlobReport[] = [];
  for (const blob of blobs) {
    emit({ kind: 'blob', role: blob.role, digest: blob.digest, size: blob.size });
    const outcome = await transport.uploadBlob(blob, (delta) => emit({ kind: 'bytes', digest: blob.digest, delta }));
    emit({ kind: 'blob-done', digest: blob.digest, size: blob.size, outcome });
    reports.push({ digest: blob.digest, size: blob.size, outcome });
  }
  const config = JSON.parse(archive.config.toString('utf8')) as { built_at?: unknown };
  const manifest = imageArtifact(archive.config, archive.layers, {
    language: languageId,
    image,
    created: typeof config.built_at === 'string' ? config.built_at : new Date().toISOString(),
  });
  const manifestDigest = await transport.putManifest(ref.tag, manifest, OCI_MANIFEST_MEDIA_TYPE);
  emit({ kind: 'done', ref: formatRemoteRef(ref), manifestDigest, imageDigest: configDigest });
  return { ref: formatRemoteRef(ref), language: languageId, image, manifest_digest: manifestDigest, image_digest: configDigest, blobs: reports };
}
