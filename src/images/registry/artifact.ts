import { ErrorCodes, ImageError } from '../../errors.js';
import { CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE } from '../content/archive.js';
import { digestOf, isDigest, type Digest } from '../content/digest.js';

export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const ARTIFACT_TYPE = 'application/vnd.runner-codes.image.v1';

/** Bounds on what a pulled manifest may declare (ours are far below): checked before any download. */
export const ARTIFACT_BOUNDS = { maxLayers: 64, maxConfigBytes: 4 * 1024 * 1024, maxLayerBytes: 16 * 1024 * 1024 * 1024 } as const;

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
}

/** An image as an OCI artifact: the manifest `rootfs push` writes and `rootfs pull` reads. */
export interface ImageArtifact {
  schemaVersion: 2;
  mediaType: typeof OCI_MANIFEST_MEDIA_TYPE;
  artifactType: typeof ARTIFACT_TYPE;
  config: Descriptor;
  /** Parent first, as the image config's diff_ids. */
  layers: Descriptor[];
  annotations: Record<string, string>;
}

/** The manifest of an image: its config blob, its layer blobs, and who it is for. */
export function imageArtifact(config: Buffer, layers: readonly Descriptor[], annotations: { language: string; image: string; created: string }): Buffer {
  const manifest: ImageArtifact = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    artifactType: ARTIFACT_TYPE,
    config: { mediaType: CONFIG_MEDIA_TYPE, digest: digestOf(config), size: config.length },
    layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
    annotations: {
      'org.opencontainers.image.created': annotations.created,
      'dev.runner-codes.language': annotations.language,
      'dev.runner-codes.image': annotations.image,
    },
  };
  return Buffer.from(JSON.stringify(manifest));
}

/**
 * Reads a pulled manifest. SECURITY: it comes from anyone's registry; every field used later is
 * checked here (media types, digests, sizes within ARTIFACT_BOUNDS) so that nothing is fetched on
 * the word of a malformed one. `pinned` is the digest the reference named, if any.
 */
export function parseImageArtifact(body: Buffer, where: string, pinned?: Digest): { manifest: ImageArtifact; digest: Digest } {
  const digest = digestOf(body);
  if (pinned && digest !== pinned) {
    throw new ImageError(ErrorCodes.IMAGE_DIGEST, `the manifest ${where} sent hashes to ${digest}, not the pinned ${pinned}: refused, nothing was fetched`);
  }
  const fail = (why: string): never => {
    throw new ImageError(ErrorCodes.IMAGE_IMPORT, `${where} is not a Runner Codes image: ${why}`, { hint: 'push it with `infra.operator rootfs push`' });
  };
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    fail('its manifest is not JSON');
  }
  const m = value as Partial<ImageArtifact>;
  if (typeof m !== 'object' || m === null || m.schemaVersion !== 2) fail('its manifest is not schemaVersion 2');
  if (m.mediaType !== undefined && m.mediaType !== OCI_MANIFEST_MEDIA_TYPE) fail(`its manifest is a ${String(m.mediaType)}, not ${OCI_MANIFEST_MEDIA_TYPE}`);
  const config = descriptor(m.config, 'config', fail);
  if (config.mediaType !== CONFIG_MEDIA_TYPE) fail(`its config is a ${config.mediaType}, not ${CONFIG_MEDIA_TYPE}`);
  if (config.size > ARTIFACT_BOUNDS.maxConfigBytes) fail(`its config declares ${config.size} bytes (at most ${ARTIFACT_BOUNDS.maxConfigBytes})`);
  if (!Array.isArray(m.layers) || m.layers.length === 0 || m.layers.length > ARTIFACT_BOUNDS.maxLayers) fail(`it must list 1 to ${ARTIFACT_BOUNDS.maxLayers} layers`);
  const layers = (m.layers as unknown[]).map((layer, i) => {
    const d = descriptor(layer, `layer ${i}`, fail);
    if (d.mediaType !== LAYER_MEDIA_TYPE) fail(`layer ${i} is a ${d.mediaType}, not ${LAYER_MEDIA_TYPE}`);
    if (d.size > ARTIFACT_BOUNDS.maxLayerBytes) fail(`layer ${i} declares ${d.size} bytes (at most ${ARTIFACT_BOUNDS.maxLayerBytes})`);
    return d;
  });
  const annotations: Record<string, string> = {};
  for (const [key, v] of Object.entries(m.annotations ?? {})) if (typeof v === 'string') annotations[key] = v;
  return { manifest: { schemaVersion: 2, mediaType: OCI_MANIFEST_MEDIA_TYPE, artifactType: ARTIFACT_TYPE, config, layers, annotations }, digest };
}

function descriptor(value: unknown, what: string, fail: (why: string) => never): Descriptor {
  const d = value as Partial<Descriptor> | null;
  if (typeof d !== 'object' || d === null) return fail(`${what} is missing`);
  if (typeof d.mediaType !== 'string') fail(`${what} has no media type`);
  if (typeof d.digest !== 'string' || !isDigest(d.digest)) fail(`${what} has no sha256 digest`);
  if (!Number.isSafeInteger(d.size) || (d.size as number) < 0) fail(`${what} has no size`);
  return { mediaType: d.mediaType as string, digest: d.digest as Digest, size: d.size as number };
}
