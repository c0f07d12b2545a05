import { readFile } from 'node:fs/promises';
import { ErrorCodes, ImageError } from '../../errors.js';
import { LAYER_MEDIA_TYPE, type LayerBlob } from '../content/archive.js';
import { parseConfig } from '../content/image-config.js';
import { parseImageArtifact, type Descriptor } from './artifact.js';
import { withBlobLock } from './blob-lock.js';
import { openTransport } from './open-transport.js';
import { formatRemoteRef, type RemoteRef } from './ref.js';
import type { RegistryStore } from './store-port.js';
import type { BlobTransport } from './transport.js';
import type { BlobReport, TransferEvent } from './transfer-events.js';

export interface PullOptions {
  onEvent?: (event: TransferEvent) => void;
  env?: NodeJS.ProcessEnv;
}

export interface PullReport {
  ref: string;
  /** The local name and tag now pointing at the image (`rootfs ls`): the repository and the tag. */
  name: string;
  tag: string;
  /** The image id of the catalog it serves (`images/<id>`), from its config. */
  image: string;
  language: string | null;
  manifest_digest: string;
  image_digest: string;
  blobs: BlobReport[];
}

/**
 * Pulls an image: the manifest (checked against a pinned digest), then the config and each layer
 * blob the store lacks, each hashed while it streams into a temp file of the store and committed
 * only when its digest matches (an interrupted blob resumes where it stopped, in this run or the
 * next), then `importImage`, which checks every diff_id and makes the image visible at once or not
 * at all. A corrupted blob fails with IMAGE_DIGEST, its temp file removed, nothing imported.
 */
export async function pullImage(store: RegistryStore, ref: RemoteRef, options: PullOptions = {}): Promise<PullReport> {
  const transport = await openTransport(ref, { push: false, ...(options.env ? { env: options.env } : {}) });
  const emit = options.onEvent ?? (() => undefined);
  const where = `${formatRemoteRef(ref)} (${transport.description})`;
  const { body } = await transport.getManifest(ref.digest ?? ref.tag);
  const { manifest, digest: manifestDigest } = parseImageArtifact(body, where, ref.digest);
  const blobs = [{ role: 'config' as const, ...manifest.config }, ...manifest.layers.map((l) => ({ role: 'layer' as const, ...l }))];
  emit({ kind: 'start', direction: 'pull', ref: formatRemoteRef(ref), blobs: blobs.length, bytes: blobs.reduce((n, b) => n + b.size, 0) });

  const reports: BlobReport[] = [];
  for (const blob of blobs) {
    emit({ kind: 'blob', role: blob.role, digest: blob.digest, size: blob.size });
    const outcome = await fetchBlob(store, transport, blob, (delta) => emit({ kind: 'bytes', digest: blob.digest, delta }));
    emit({ kind: 'blob-done', digest: blob.digest, size: blob.size, outcome });
    reports.push({ digest: blob.digest, size: blob.size, outcome });
  }

  const config = await readFile(store.blobPath(manifest.config.digest));
  const { id, diff_ids: diffIds } = parseConfig(config);
  if (diffIds.length !== manifest.layers.length) {
    throw new ImageError(ErrorCodes.IMAGE_IMPORT, `${where}: the manifest lists ${manifest.layers.length} layers, the image config ${diffIds.length}`);
  }
  const layers: LayerBlob[] = manifest.layers.map((layer, i) => ({
    digest: layer.digest,
    diffId: diffIds[i]!,
    size: layer.size,
    mediaType: LAYER_MEDIA_TYPE,
    path: store.blobPath(layer.digest),
  }));
  const imported = await store.importImage(config, layers, { name: ref.repository, tag: ref.tag });
  emit({ kind: 'done', ref: formatRemoteRef(ref), manifestDigest, imageDigest: imported.digest });
  return {
    ref: formatRemoteRef(ref),
    name: ref.repository,
    tag: ref.tag,
    image: id,
    language: manifest.annotations['dev.runner-codes.language'] ?? null,
    manifest_digest: manifestDigest,
    image_digest: imported.digest,
    blobs: reports,
  };
}

/** A blob into the store: skipped when there, else downloaded (verified) into its temp file and committed. */
async function fetchBlob(store: RegistryStore, transport: BlobTransport, blob: Descriptor, onBytes: (delta: number) => void): Promise<'present' | 'downloaded'> {
  if (store.hasBlob(blob.digest)) return 'present';
  const path = store.tempBlobPath(blob.digest);
  return withBlobLock(path, async () => {
    // Another pull may have committed it while this one waited for the lock.
    if (store.hasBlob(blob.digest)) return 'present';
    await transport.downloadBlob({ digest: blob.digest, size: blob.size, path }, onBytes);
    await store.commitBlob(path, blob.digest);
    return 'downloaded';
  });
}
