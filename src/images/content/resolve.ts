import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidRequestError } from '../../errors.js';
import { allImages } from '../../languages/lookup.js';
import { printable } from '../../safe-text.js';
import type { ImageManifest } from '../manifest.js';
import type { ImageHome } from './image-home.js';
import type { Digest } from './digest.js';
import { IMAGE_ID } from './image-config.js';
import { imageIdentity } from './image-identity.js';
import { DEFAULT_TAG, parseImageRef } from './image-ref.js';

export interface ResolveOptions {
  /** The field or flag named in errors (default `image`). */
  field?: string;
  /** Compute a built image's digest when it is not cached yet (tars its tree once). */
  compute?: boolean;
  /** Only this image id can match (a pinned run's language's image): bounds the digests computed. */
  imageId?: string;
}

export interface ResolvedImage {
  id: string;
  source: 'built' | 'imported';
  /** Null for a built image named by its id whose digest was not needed. */
  digest: Digest | null;
  rootfs: string;
  manifest: ImageManifest;
  /** Whether this is the image `images/<id>` holds (the one runs use when nothing is pinned). */
  active: boolean;
}

function active(store: ImageHome, id: string, manifest: ImageManifest, digest: Digest | null): ResolvedImage {
  return { id, source: manifest.source === 'imported' ? 'imported' : 'built', digest: digest ?? (manifest.digest as Digest | undefined) ?? null, rootfs: store.rootfs(id), manifest, active: true };
}

/**
 * The image a reference names: an image id (`python`: what `images/python` holds), `name:tag`
 * (a tag set by an import), or a digest (an imported image, or a built one whose digest matches).
 * Anything else is InvalidRequestError naming the field.
 */
export async function resolveImage(store: ImageHome, ref: string, options: ResolveOptions = {}): Promise<ResolvedImage> {
  const field = options.field ?? 'image';
  const parsed = parseImageRef(ref, field);
  if ('name' in parsed && parsed.tag === undefined && IMAGE_ID.test(parsed.name)) {
    const manifest = store.manifest(parsed.name);
    if (manifest) return active(store, parsed.name, manifest, null);
  }
  const digest = 'digest' in parsed ? parsed.digest : store.content.ref(parsed.name, parsed.tag ?? DEFAULT_TAG);
  const missing = (): InvalidRequestError => new InvalidRequestError(field, `no image '${printable(ref)}' on this host (\`infra.operator rootfs ls\` lists them)`);
  if (!digest) throw missing();

  const imported = store.content.imported(digest);
  if (imported) {
    const current = store.manifest(imported.config.id);
    if (current?.digest === digest && store.isLinked(imported.config.id)) return active(store, imported.config.id, current, digest);
    const manifest = JSON.parse(readFileSync(join(imported.dir, 'manifest.json'), 'utf8')) as ImageManifest;
    return { id: imported.config.id, source: 'imported', digest, rootfs: join(imported.dir, 'rootfs'), manifest, active: false };
  }
  const candidates = options.imageId !== undefined ? [options.imageId] : allImages().map((image) => image.id);
  for (const id of candidates) {
    const manifest = store.manifest(id);
    if (!manifest || manifest.source === 'imported') continue;
    const identity = await imageIdentity(store, id, options.compute ? 'digest' : 'cached');
    if (identity?.digest === digest) return active(store, id, manifest, digest);
  }
  throw missing();
}
