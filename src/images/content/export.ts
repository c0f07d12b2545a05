import { ErrorCodes, ImageError } from '../../errors.js';
import type { ImageHome } from './image-home.js';
import { CONFIG_MEDIA_TYPE, type ImageArchive } from './archive.js';
import { imageIdentity, importedIdentity } from './image-identity.js';
import { resolveImage } from './resolve.js';

/**
 * What a push needs: an image's config blob and its layer blobs (parent first), written into the
 * blob store or reused from it. `ref` is an image id, `name:tag` or a digest.
 */
export async function exportImage(store: ImageHome, ref: string): Promise<ImageArchive> {
  const resolved = await resolveImage(store, ref, { field: 'ref', compute: true });
  const imported = resolved.source === 'imported' ? store.content.imported(resolved.digest!) : null;
  const identity = imported ? importedIdentity(store, imported) : await imageIdentity(store, resolved.id, 'blobs');
  if (!identity) throw new ImageError(ErrorCodes.IMAGE_MISSING, `cannot export '${ref}'`);
  await store.content.blobs.putBlob(identity.bytes);
  return { config: identity.bytes, configMediaType: CONFIG_MEDIA_TYPE, layers: identity.layers };
}
