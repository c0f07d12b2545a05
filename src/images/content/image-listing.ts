import { allImages, languagesOfImage } from '../../languages/lookup.js';
import type { ImageHome } from './image-home.js';
import { imageIdentity } from './image-identity.js';

/** One image of a data home as `rootfs ls` shows it. */
export interface ImageRow {
  image: string;
  languages: string[];
  /** Whether `images/<id>` holds it (what unpinned runs use). */
  current: boolean;
  source: 'built' | 'imported' | null;
  built: boolean;
  stale: boolean;
  /** Null for a built image whose digest was not computed yet (`rootfs ls --digests`). */
  digest: string | null;
  /** The `name:tag`s pointing at this digest. */
  tags: string[];
  bytes: number;
  versions: Record<string, string | null>;
  built_at: string | null;
}

/**
 * Every catalog image (built, imported or missing) and every other imported image in the store.
 * With `digests`, the digest of a built image is computed when not cached (tars its tree once).
 */
export async function listImages(store: ImageHome, options: { digests?: boolean } = {}): Promise<ImageRow[]> {
  const refs = store.content.refs();
  const tagsOf = (digest: string | null): string[] => (digest === null ? [] : refs.filter((ref) => ref.digest === digest).map((ref) => ref.ref));
  const rows: ImageRow[] = [];
  const current = new Set<string>();
  const ids = [...new Set([...allImages().map((image) => image.id), ...store.content.listImported().map((image) => image.config.id)])];
  for (const id of ids) {
    const status = store.status(id);
    const manifest = status.manifest;
    let digest = manifest?.digest ?? null;
    if (manifest && digest === null) digest = (await imageIdentity(store, id, options.digests ? 'digest' : 'cached').catch(() => null))?.digest ?? null;
    if (digest) current.add(digest);
    if (!manifest && !allImages().some((image) => image.id === id)) continue;
    rows.push({
      image: id,
      languages: languagesOfImage(id).map((language) => language.id),
      current: manifest !== null,
      source: manifest ? (manifest.source ?? 'built') : null,
      built: status.built,
      stale: status.stale,
      digest,
      tags: tagsOf(digest),
      bytes: manifest?.bytes ?? 0,
      versions: manifest?.versions ?? {},
      built_at: manifest?.built_at ?? null,
    });
  }
  for (const image of store.content.listImported()) {
    if (current.has(image.digest)) continue;
    rows.push({
      image: image.config.id,
      languages: languagesOfImage(image.config.id).map((language) => language.id),
      current: false,
      source: 'imported',
      built: true,
      stale: false,
      digest: image.digest,
      tags: tagsOf(image.digest),
      bytes: image.config.bytes,
      versions: image.config.versions,
      built_at: image.config.built_at,
    });
  }
  return rows;
}
