import { createReadStream, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { ErrorCodes, ImageError, RunnerError } from '../../errors.js';
import { extensionIssues } from '../../languages/extension-issues.js';
import { extensionsIn, writeCatalogExtension } from '../../languages/extensions.js';
import type { CatalogExtension } from '../../languages/types.js';
import type { ImageManifest } from '../manifest.js';
import type { ImageHome } from './image-home.js';
import type { ImportedImage } from './content-store.js';
import { runLogged } from '../run-logged.js';
import { LAYER_MEDIA_TYPE, type LayerBlob } from './archive.js';
import { digestHex, digestOf, fileDigest, isDigest, type Digest } from './digest.js';
import { parseConfig, type ImageConfig } from './image-config.js';
import { checkName, checkTag } from './image-ref.js';
import { Measure } from './measure.js';
import { DEFAULT_IMPORT_BOUNDS, TreeWriter, type ImportBounds } from './tree-writer.js';

/**
 * Imports an image from its config blob and layer blobs (a pull, or an export of another host).
 * SECURITY: the blobs may come from anyone. The config must parse and name exactly these layers;
 * each blob is hashed while it is unpacked (compressed digest and diff_id both checked) into a
 * private directory under the store's tmp/ by TreeWriter (its rules: no path outside the tree,
 * nothing written through a symlink, no devices or setuid files, bounded size). Only a fully
 * verified tree is renamed into `images/<hex>`; on any failure the directory is removed, so
 * nothing half-made is ever visible and nothing is left behind.
 */
export async function importImage(store: ImageHome, configBytes: Buffer, layers: LayerBlob[], options: { name: string; tag: string; bounds?: ImportBounds }): Promise<{ digest: string }> {
  if (process.getuid?.() !== 0) throw new RunnerError(ErrorCodes.NEEDS_ROOT, 'importing an image needs root (it keeps the numeric owners of its files)', { hint: 'run it as root' });
  checkName(options.name, 'name');
  checkTag(options.tag, 'tag');
  const digest = digestOf(configBytes);
  const config = parseConfig(configBytes);
  checkLayers(config, layers);
  const definitions = customDefinitions(store, config);

  if (!store.content.imported(digest)) {
    const work = await mkdtemp(join(store.content.blobs.ensureTmp(), 'import-'));
    try {
      const base = closestImported(store, config);
      const writer = new TreeWriter(join(work, 'rootfs'), options.bounds ?? DEFAULT_IMPORT_BOUNDS);
      if (base) {
        // The first layers are an image already here (a parent pulled before): share its files.
        await runLogged(['cp', '-al', '--', join(base.dir, 'rootfs'), join(work, 'rootfs')], () => undefined);
        await writer.adoptTree();
      } else {
        await mkdir(join(work, 'rootfs'), { mode: 0o755 });
      }
      for (const layer of layers.slice(base?.config.diff_ids.length ?? 0)) await applyLayer(writer, layer, options.bounds ?? DEFAULT_IMPORT_BOUNDS);
      for (const layer of layers) await keepBlob(store, layer);
      await store.content.blobs.putBlob(configBytes);
      await writeFile(join(work, 'config.json'), configBytes);
      await writeFile(join(work, 'layers.json'), JSON.stringify(layers.map(({ digest: d, diffId, size, mediaType }) => ({ digest: d, diffId, size, mediaType })), null, 2) + '\n');
      await writeFile(join(work, 'manifest.json'), JSON.stringify(manifestOf(config, digest), null, 2) + '\n');
      await mkdir(join(store.content.dir, 'images'), { recursive: true });
      // mkdtemp made it 0700: sandboxes run as an unprivileged user that must reach rootfs/.
      await chmod(work, 0o755);
      await rename(work, store.content.imageDir(digest)).catch((err: NodeJS.ErrnoException) => {
        // Imported meanwhile by another process: same digest, same bytes; keep theirs.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  await store.content.setRef(options.name, options.tag, digest);
  await activate(store, config.id, digest);
  for (const extension of definitions) await writeCatalogExtension(dirname(store.dir), extension);
  return { digest };
}

/**
 * The imported image whose layers begin this one's (the longest such chain): its tree was verified
 * when it was imported, so those layers need not be unpacked again, and a hardlinked copy shares
 * its files on disk, as a built child shares its parent's. The writer never changes a file in place.
 */
function closestImported(store: ImageHome, config: ImageConfig): ImportedImage | undefined {
  const prefixOf = (image: ImportedImage): boolean =>
    image.config.diff_ids.length < config.diff_ids.length && image.config.diff_ids.every((diffId, i) => diffId === config.diff_ids[i]);
  return store.content.listImported().filter(prefixOf).sort((a, b) => b.config.diff_ids.length - a.config.diff_ids.length)[0];
}

/**
 * The custom definitions an image brings (image-config.ts `languages`), checked before anything is
 * imported exactly as a custom catalog file is (shape, the built-in catalog's rules, no built-in
 * names): a config from anyone's registry defines nothing this host would not build itself.
 */
function customDefinitions(store: ImageHome, config: ImageConfig): CatalogExtension[] {
  const given = config.languages ?? [];
  if (given.length > 1) throw new ImageError(ErrorCodes.IMAGE_IMPORT, 'image config: languages holds more than one custom catalog');
  const others = extensionsIn(dirname(store.dir));
  return given.map((extension, i) => {
    const issue = extensionIssues(extension, others)[0];
    if (issue) throw new ImageError(ErrorCodes.IMAGE_IMPORT, `image config: languages[${i}].${issue.path.join('.')}: ${issue.message}`);
    const checked = extension as CatalogExtension;
    if (!checked.images.some((image) => image.id === config.id)) throw new ImageError(ErrorCodes.IMAGE_IMPORT, `image config: languages[${i}] does not define the image '${config.id}'`);
    return checked;
  });
}

function checkLayers(config: ImageConfig, layers: LayerBlob[]): void {
  if (!Array.isArray(layers) || layers.length !== config.diff_ids.length) {
    throw new ImageError(ErrorCodes.IMAGE_IMPORT, `the image config lists ${config.diff_ids.length} layers, ${Array.isArray(layers) ? layers.length : 'no list of'} given`);
  }
  layers.forEach((layer, i) => {
    if (layer.mediaType !== LAYER_MEDIA_TYPE) throw new ImageError(ErrorCodes.IMAGE_IMPORT, `layer ${i}: media type must be ${LAYER_MEDIA_TYPE}`);
    if (!isDigest(layer.digest) || !isDigest(layer.diffId)) throw new ImageError(ErrorCodes.IMAGE_IMPORT, `layer ${i}: digest and diffId must be sha256 digests`);
    if (layer.diffId !== config.diff_ids[i]) throw new ImageError(ErrorCodes.IMAGE_DIGEST, `layer ${i}: diff_id ${layer.diffId} is not the config's ${config.diff_ids[i]}`);
  });
}

/** Unpacks one layer blob, hashing it on the way; a digest that does not match fails the import. */
async function applyLayer(writer: TreeWriter, layer: LayerBlob, bounds: ImportBounds): Promise<void> {
  const compressed = new Measure();
  // The tar carries headers and padding beyond the file bytes: bounded with a margin, before the writer's own count.
  const uncompressed = new Measure(bounds.maxBytes + bounds.maxEntries * 1024, `layer ${layer.digest}`);
  const extract = tarExtract();
  const feeding = pipeline(createReadStream(layer.path), compressed, createGunzip(), uncompressed, extract as unknown as Writable);
  try {
    for await (const entry of extract) await writer.entry(entry.header, entry);
    await feeding;
  } catch (err) {
    extract.destroy();
    await feeding.catch(() => undefined);
    if (err instanceof RunnerError) throw err;
    // A blob that fails to unpack is most often a corrupted one: say so when its bytes show it.
    if ((await fileDigest(layer.path).catch(() => undefined)) !== layer.digest) throw corrupted(layer.digest);
    throw new ImageError(ErrorCodes.IMAGE_IMPORT, `layer ${layer.digest} is not a valid gzip tar: ${(err as Error).message}`, { cause: err });
  }
  const [digest, diffId] = [compressed.digest(), uncompressed.digest()];
  if (digest !== layer.digest) throw corrupted(layer.digest, digest);
  if (diffId !== layer.diffId) throw new ImageError(ErrorCodes.IMAGE_DIGEST, `layer ${layer.digest} unpacks to diff_id ${diffId}, not ${layer.diffId}`);
}

function corrupted(digest: string, actual?: string): ImageError {
  return new ImageError(ErrorCodes.IMAGE_DIGEST, `layer blob ${digest} is corrupted (its bytes do not hash to its digest${actual ? `, but to ${actual}` : ''})`);
}

/** A verified blob that is not in the blob store yet (an import from files) is copied in for later pushes. */
async function keepBlob(store: ImageHome, layer: LayerBlob): Promise<void> {
  if (store.hasBlob(layer.digest)) return;
  const temp = store.content.blobs.scratchPath('import');
  await copyFile(layer.path, temp);
  await store.content.blobs.commitBlob(temp, layer.digest);
}

function manifestOf(config: ImageConfig, digest: Digest): ImageManifest {
  return {
    id: config.id,
    recipe_hash: config.recipe.hash,
    parent: config.parent_id,
    packages: config.recipe.packages,
    npm: config.recipe.npm,
    built_at: config.built_at,
    build_seconds: 0,
    bytes: config.bytes,
    versions: config.versions,
    source: 'imported',
    digest,
  };
}

/**
 * Makes the import what `images/<id>` holds, unless a built image is there (a build is never
 * replaced by an import; pin the import with its digest or tag instead). Swapped atomically.
 */
async function activate(store: ImageHome, id: string, digest: Digest): Promise<void> {
  const path = join(store.dir, id);
  if (existsSync(path) && !store.isLinked(id)) return;
  await mkdir(store.dir, { recursive: true });
  const temp = join(store.dir, `.link-${id}-${process.pid}-${digestHex(digest).slice(0, 12)}`);
  await rm(temp, { force: true });
  await symlink(store.content.imageDir(digest), temp);
  await rename(temp, path);
}
