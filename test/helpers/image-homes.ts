import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import { LAYER_MEDIA_TYPE, type LayerBlob } from '../../src/images/content/archive.js';
import { encodeConfig, type ImageConfig } from '../../src/images/content/image-config.js';
import type { ImageManifest } from '../../src/images/manifest.js';
import { ImageStore } from '../../src/images/store.js';

/** An empty data home (images/ and store/ inside) in a new temp directory. */
export function emptyHome(label: string): { root: string; store: ImageStore } {
  const root = mkdtempSync(join(tmpdir(), `rc-${label}-`));
  // Searchable like a real home: sandboxes run as an unprivileged user that must reach rootfs/.
  chmodSync(root, 0o755);
  mkdirSync(join(root, 'images'));
  return { root, store: new ImageStore(join(root, 'images')) };
}

/** Registers a directory tree as a built image `id` of a home (what a build leaves behind). */
export function addBuiltImage(store: ImageStore, id: string, parent: string | null, fill: (rootfs: string) => void): ImageManifest {
  const rootfs = store.rootfs(id);
  mkdirSync(rootfs, { recursive: true });
  fill(rootfs);
  const manifest: ImageManifest = { id, recipe_hash: `test-${id}`, parent, packages: [], npm: [], built_at: '2026-12-01T00:00:00.000Z', build_seconds: 0, bytes: 1, versions: {} };
  writeFileSync(join(store.dir, id, 'manifest.json'), JSON.stringify(manifest));
  return manifest;
}

/** `cp -a` (hardlinks inside the copy kept, nothing shared with the source). */
export function copyTree(from: string, to: string): void {
  execFileSync('cp', ['-a', from, to]);
}

export type CraftedEntry = Partial<Header> & { name: string; data?: string };

/** A gzip tar blob of arbitrary (possibly hostile) entries, as a registry could serve it. */
export async function craftedLayer(dir: string, entries: readonly CraftedEntry[]): Promise<LayerBlob> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (chunk) => void chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => tar.on('end', () => resolve()));
  for (const { data, ...header } of entries) tar.entry({ mtime: new Date(0), mode: 0o644, ...header }, data ?? '');
  tar.finalize();
  await ended;
  const raw = Buffer.concat(chunks);
  const blob = gzipSync(raw);
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}` as const;
  const path = join(dir, digest.slice(7));
  writeFileSync(path, blob);
  return { digest, diffId: `sha256:${createHash('sha256').update(raw).digest('hex')}`, size: blob.length, mediaType: LAYER_MEDIA_TYPE, path };
}

/** A config naming these layers. */
export function configFor(id: string, layers: readonly LayerBlob[], overrides: Partial<ImageConfig> = {}): Buffer {
  return encodeConfig({
    schema_version: 1,
    id,
    parent: null,
    parent_id: null,
    diff_ids: layers.map((layer) => layer.diffId),
    recipe: { hash: 'crafted', packages: [], npm: [] },
    versions: {},
    built_at: '2026-12-01T00:00:00.000Z',
    bytes: 0,
    ...overrides,
  });
}
