import { existsSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { allImages } from '../../languages/lookup.js';
import type { ImageHome } from './image-home.js';
import { digestHex } from './digest.js';
import { imageIdentity } from './image-identity.js';

export interface GcReport {
  /** Imported images removed (no tag and no `images/<id>` pointing at them). */
  images: string[];
  /** Blobs removed (no kept image uses them). */
  blobs: string[];
  /** Tags removed because their image is gone. */
  refs: string[];
  /** Temp files of interrupted downloads, exports or imports (untouched for an hour). */
  tmp: string[];
  bytes: number;
}

/** Temp files younger than this may belong to a pull or import still running. */
const TMP_GRACE_MS = 60 * 60 * 1000;

/**
 * Removes what nothing refers to: imported images without a tag or a link from `images/<id>`,
 * blobs of no kept image (a kept built image keeps its cached layer blob), tags of images that are
 * gone, stale built-layer records and old temp files. Built images themselves are never removed
 * here (`rootfs rm` does that). With `dryRun`, only reports.
 */
export async function collectGarbage(store: ImageHome, options: { dryRun?: boolean } = {}): Promise<GcReport> {
  const report: GcReport = { images: [], blobs: [], refs: [], tmp: [], bytes: 0 };
  const remove = async (path: string): Promise<void> => {
    report.bytes += sizeOf(path);
    if (!options.dryRun) await rm(path, { recursive: true, force: true });
  };
  const keepBlobs = new Set<string>();
  const linkedIds = existsSync(store.dir) ? readdirSync(store.dir).filter((id) => store.isLinked(id)) : [];
  const linked = new Set(linkedIds.map((id) => store.manifest(id)?.digest));
  const tagged = new Set(store.content.refs().map((ref) => ref.digest));

  for (const image of store.content.listImported()) {
    if (linked.has(image.digest) || tagged.has(image.digest)) {
      keepBlobs.add(image.digest);
      for (const layer of image.layers) keepBlobs.add(layer.digest);
      continue;
    }
    report.images.push(image.digest);
    await remove(image.dir);
  }
  for (const ref of store.content.refs()) {
    if (store.content.imported(ref.digest) && !report.images.includes(ref.digest)) continue;
    report.refs.push(ref.ref);
    if (!options.dryRun) await store.content.removeRef(ref.ref);
  }
  for (const { id } of allImages()) {
    const manifest = store.manifest(id);
    if (!manifest || manifest.source === 'imported') continue;
    const identity = await imageIdentity(store, id, 'cached').catch(() => null);
    const record = store.content.builtLayer(id);
    if (identity) keepBlobs.add(identity.digest);
    if (identity && record?.key === identity.key) {
      if (record.blob) keepBlobs.add(record.blob.digest);
    } else if (record && !options.dryRun) {
      await rm(join(store.content.dir, 'built', `${id}.json`), { force: true });
    }
  }
  const blobDir = join(store.content.dir, 'blobs', 'sha256');
  for (const hex of existsSync(blobDir) ? readdirSync(blobDir) : []) {
    if ([...keepBlobs].some((digest) => digestHex(digest) === hex)) continue;
    report.blobs.push(`sha256:${hex}`);
    await remove(join(blobDir, hex));
  }
  const tmp = store.content.blobs.tmpDir;
  for (const name of existsSync(tmp) ? readdirSync(tmp) : []) {
    if (Date.now() - statSync(join(tmp, name)).mtimeMs < TMP_GRACE_MS) continue;
    report.tmp.push(name);
    await remove(join(tmp, name));
  }
  return report;
}

/** Bytes of a file, or of the files of a tree (each counted where it is: hardlinks may count twice). */
function sizeOf(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

