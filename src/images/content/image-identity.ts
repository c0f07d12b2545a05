import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { ErrorCodes, ImageError } from '../../errors.js';
import { extensionsIn } from '../../languages/extensions.js';
import type { ImageManifest } from '../manifest.js';
import type { ImageHome } from './image-home.js';
import { LAYER_MEDIA_TYPE, type LayerBlob } from './archive.js';
import type { ImportedImage } from './content-store.js';
import { digestOf, type Digest } from './digest.js';
import { encodeConfig, type ImageConfig } from './image-config.js';
import { layerEntries } from './layer-entries.js';
import { writeLayer } from './layer-tar.js';

/**
 * How much work to do for a built image's identity: `cached` only reads what earlier runs
 * recorded (null when something is missing), `digest` computes missing diff_ids (tars the tree
 * into a hash, no blob), `blobs` also writes every layer blob (for an export).
 */
export type IdentityMode = 'cached' | 'digest' | 'blobs';

export interface ImageIdentity {
  config: ImageConfig;
  /** The config's canonical bytes; their sha256 is `digest`. */
  bytes: Buffer;
  digest: Digest;
  /** Identifies the layer chain as built (recipe hashes and build times); the layer caches are keyed by it. */
  key: string;
  /** With mode `blobs`: every layer, parent first. */
  layers: LayerBlob[];
}

/**
 * The config (and so the digest) of an image as it is on disk, computed lazily: a built image's
 * own layer is the canonical tar of its tree's difference from its parent's, and its diff_id (and
 * blob, once written) are cached in the store keyed by the build chain, so they are computed once
 * per build rather than on every setup. An imported image's config is the one it came with.
 */
export async function imageIdentity(store: ImageHome, id: string, mode: IdentityMode): Promise<ImageIdentity | null> {
  const manifest = store.manifest(id);
  if (!manifest) throw new ImageError(ErrorCodes.IMAGE_MISSING, `image '${id}' is not built`, { hint: `run \`infra.operator rootfs build\`` });
  if (manifest.source === 'imported') {
    const image = manifest.digest === undefined ? null : store.content.imported(manifest.digest);
    if (!image) throw new ImageError(ErrorCodes.IMAGE_MISSING, `the imported image '${id}' is missing from the store`, { hint: 'pull or import it again' });
    return importedIdentity(store, image);
  }
  const parent = manifest.parent === null ? null : await imageIdentity(store, manifest.parent, mode);
  if (manifest.parent !== null && parent === null) return null;
  const key = createHash('sha256').update(`${parent?.key ?? ''}|${id}|${manifest.recipe_hash}|${manifest.built_at}`).digest('hex');
  const layer = await ownLayer(store, manifest, key, mode);
  if (!layer) return null;
  const config: ImageConfig = {
    schema_version: 1,
    id,
    parent: parent?.digest ?? null,
    parent_id: manifest.parent,
    diff_ids: [...(parent?.config.diff_ids ?? []), layer.diffId],
    recipe: { hash: manifest.recipe_hash, packages: manifest.packages, npm: manifest.npm ?? [] },
    versions: manifest.versions,
    built_at: manifest.built_at,
    bytes: manifest.bytes,
    // A custom image carries its definitions, so a host that pulls it serves its languages (and the
    // digest covers them).
    ...customDefinitions(store, id),
  };
  const bytes = encodeConfig(config);
  const layers = mode === 'blobs' ? [...(parent?.layers ?? []), layer as LayerBlob] : [];
  return { config, bytes, digest: digestOf(bytes), key, layers };
}

/** An imported image's identity: the config it came with, and its layer blobs (which must still be there). */
export function importedIdentity(store: ImageHome, image: ImportedImage): ImageIdentity {
  const layers = image.layers.map((layer) => ({ ...layer, path: store.blobPath(layer.digest) }));
  const missing = layers.find((layer) => !store.hasBlob(layer.digest));
  if (missing) throw new ImageError(ErrorCodes.IMAGE_MISSING, `layer ${missing.digest} of image ${image.digest} is missing from the blob store`, { hint: 'pull or import the image again' });
  return { config: image.config, bytes: readFileSync(join(image.dir, 'config.json')), digest: image.digest, key: image.digest, layers };
}

async function ownLayer(store: ImageHome, manifest: ImageManifest, key: string, mode: IdentityMode): Promise<Partial<LayerBlob> & { diffId: Digest } | null> {
  const cached = store.content.builtLayer(manifest.id);
  const current = cached?.key === key ? cached : null;
  const asLayer = (diffId: Digest, blob: { digest: Digest; size: number } | undefined): Partial<LayerBlob> & { diffId: Digest } =>
    blob ? { diffId, digest: blob.digest, size: blob.size, mediaType: LAYER_MEDIA_TYPE, path: store.blobPath(blob.digest) } : { diffId };
  if (current && (mode !== 'blobs' || (current.blob && store.hasBlob(current.blob.digest)))) return asLayer(current.diff_id, current.blob);
  if (mode === 'cached') return null;
  const entries = await layerEntries(store.rootfs(manifest.id), manifest.parent === null ? undefined : store.rootfs(manifest.parent));
  const temp = mode === 'blobs' ? store.content.blobs.scratchPath('layer') : undefined;
  try {
    const written = await writeLayer(entries, temp);
    const blob = temp && written.digest && written.size !== undefined ? { digest: written.digest, size: written.size } : undefined;
    if (temp && blob) await store.content.blobs.adopt(temp, blob.digest);
    await store.content.saveBuiltLayer(manifest.id, { key, diff_id: written.diffId, ...(blob ? { blob } : {}) });
    return asLayer(written.diffId, blob);
  } finally {
    if (temp) await rm(temp, { force: true });
  }
}

function customDefinitions(store: ImageHome, id: string): Pick<ImageConfig, 'languages'> {
  const extension = extensionsIn(dirname(store.dir)).find((e) => e.images.some((image) => image.id === id));
  return extension ? { languages: [extension] } : {};
}
