import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, ImageError, RunnerError } from '../errors.js';
import { getImageRecipe, imageChain, languagesOfImage } from '../languages/lookup.js';
import type { ImageManifest } from './manifest.js';
import { type FetchedNpmPackage, fetchNpmPackages } from './npm-fetch.js';
import type { ImageFile } from '../languages/types.js';
import { INSTALL_FILES_SCRIPT, SCRIPTS_DIR, SUITE, layerAssetsDir, recipeHash } from './recipe-hash.js';
import { runLogged } from './run-logged.js';
import type { ImageStore } from './store.js';
import { probeVersion, treeBytes } from './probe.js';

export interface BuildOptions {
  mirror?: string;
  securityMirror?: string;
  /** Rebuild even when the image is current. */
  force?: boolean;
  onProgress?: (event: BuildEvent) => void;
}

export interface BuildEvent {
  image: string;
  kind: 'skip' | 'start' | 'step' | 'log' | 'done';
  message: string;
}

export interface BuildReport {
  image: string;
  built: boolean;
  seconds: number;
  manifest: ImageManifest;
}

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
export const DEFAULT_SECURITY_MIRROR = 'http://deb.debian.org/debian-security';

/**
 * Builds the given images and, first, any missing or stale ancestors. An image whose recipe
 * hash matches the one on disk is skipped (unless `force`), so repeated builds are quick.
 */
export async function buildImages(store: ImageStore, imageIds: readonly string[], options: BuildOptions = {}): Promise<BuildReport[]> {
  if (process.getuid?.() !== 0) {
    throw new RunnerError(ErrorCodes.NEEDS_ROOT, 'building images needs root (debootstrap, chroot, overlay mounts)', { hint: 'run it as root' });
  }
  const order: string[] = [];
  for (const id of imageIds) for (const recipe of imageChain(id)) if (!order.includes(recipe.id)) order.push(recipe.id);
  await mkdir(store.dir, { recursive: true });
  for (const leftover of store.partialBuilds()) await rm(join(store.dir, leftover), { recursive: true, force: true });

  const reports: BuildReport[] = [];
  const rebuilt = new Set<string>();
  for (const id of order) {
    const status = store.status(id);
    const parent = getImageRecipe(id).parent;
    const parentRebuilt = parent !== undefined && rebuilt.has(parent);
    const wanted = options.force === true && imageIds.includes(id);
    if (status.built && !status.stale && !parentRebuilt && !wanted) {
      options.onProgress?.({ image: id, kind: 'skip', message: 'up to date' });
      reports.push({ image: id, built: false, seconds: 0, manifest: await probeMissingVersions(store, status.manifest!) });
      continue;
    }
    reports.push(await buildOne(store, id, options));
    rebuilt.add(id);
  }
  return reports;
}

async function buildOne(store: ImageStore, id: string, options: BuildOptions): Promise<BuildReport> {
  const recipe = getImageRecipe(id);
  const progress = options.onProgress ?? (() => undefined);
  const started = Date.now();
  const buildDir = join(store.dir, `.build-${id}-${process.pid}`);
  const rootfs = join(buildDir, 'rootfs');
  progress({ image: id, kind: 'start', message: recipe.parent ? `packages: ${[...recipe.packages, ...(recipe.npm ?? []).map((pkg) => pkg.spec)].join(' ')}` : `debootstrap ${SUITE}` });
  const onLine = (line: string): void => {
    if (line.startsWith('step: ')) progress({ image: id, kind: 'step', message: line.slice(6) });
    else progress({ image: id, kind: 'log', message: line });
  };
  let npm: FetchedNpmPackage[] = [];
  try {
    await mkdir(buildDir, { recursive: true });
    if (recipe.parent === undefined) {
      const mirror = options.mirror ?? DEFAULT_MIRROR;
      await runLogged(['bash', join(SCRIPTS_DIR, 'build-base.sh'), rootfs, SUITE, mirror, options.securityMirror ?? DEFAULT_SECURITY_MIRROR], onLine);
    } else {
      const parentRootfs = store.rootfs(recipe.parent);
      if (!existsSync(parentRootfs)) throw new ImageError(ErrorCodes.IMAGE_BUILD, `parent image '${recipe.parent}' is missing`);
      const inputs = join(buildDir, 'inputs');
      await mkdir(inputs, { recursive: true });
      await writeFile(join(inputs, 'packages'), recipe.packages.map((name) => name + '\n').join(''));
      if (recipe.npm?.length) progress({ image: id, kind: 'step', message: `npm pack ${recipe.npm.map((pkg) => pkg.spec).join(' ')}` });
      npm = await fetchNpmPackages(recipe.npm ?? [], inputs);
      const assets = recipe.files?.length ? await writeFileAssets(recipe.files, join(buildDir, 'assets')) : layerAssetsDir(id);
      await runLogged(['bash', join(SCRIPTS_DIR, 'build-layer.sh'), parentRootfs, buildDir, inputs, assets], onLine);
      await rm(join(buildDir, 'assets'), { recursive: true, force: true });
      await rm(inputs, { recursive: true, force: true });
    }
    progress({ image: id, kind: 'step', message: 'probe versions' });
    const versions: Record<string, string | null> = {};
    for (const language of languagesOfImage(id)) versions[language.id] = await probeVersion(rootfs, language.versionProbe);
    const manifest: ImageManifest = {
      id,
      recipe_hash: recipeHash(id),
      parent: recipe.parent ?? null,
      packages: recipe.packages,
      npm,
      built_at: new Date().toISOString(),
      build_seconds: Math.round((Date.now() - started) / 100) / 10,
      bytes: await treeBytes(rootfs),
      versions,
    };
    await writeFile(join(buildDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    await swapInto(store, id, buildDir);
    progress({ image: id, kind: 'done', message: `built in ${manifest.build_seconds}s, ${(manifest.bytes / 1e6).toFixed(0)} MB` });
    return { image: id, built: true, seconds: manifest.build_seconds, manifest };
  } catch (err) {
    await rm(buildDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * A custom image's `files` as a layer's assets for build-layer.sh: the contents and a list under
 * rootfs/tmp/runner-codes-files/, and install-files.sh as the setup.sh that moves them into place
 * inside the image's chroot (the host never writes to a path the parent image could redirect).
 */
async function writeFileAssets(files: readonly ImageFile[], assets: string): Promise<string> {
  const staging = join(assets, 'rootfs', 'tmp', 'runner-codes-files');
  await mkdir(staging, { recursive: true });
  await chmod(join(assets, 'rootfs', 'tmp'), 0o1777);
  const rows = await Promise.all(
    files.map(async (file, index) => {
      await writeFile(join(staging, String(index)), file.content);
      return `${file.executable ? '0755' : '0644'}\t${index}\t${file.path}\n`;
    }),
  );
  await writeFile(join(staging, 'list'), rows.join(''));
  await copyFile(INSTALL_FILES_SCRIPT, join(assets, 'setup.sh'));
  return assets;
}

/** Languages added to the catalog after an image was built (or whose probe failed) are probed now. */
async function probeMissingVersions(store: ImageStore, manifest: ImageManifest): Promise<ImageManifest> {
  const missing = languagesOfImage(manifest.id).filter((language) => !manifest.versions[language.id]);
  if (missing.length === 0) return manifest;
  const versions = { ...manifest.versions };
  for (const language of missing) versions[language.id] = await probeVersion(store.rootfs(manifest.id), language.versionProbe);
  const updated = { ...manifest, versions };
  await writeFile(join(store.dir, manifest.id, 'manifest.json'), JSON.stringify(updated, null, 2) + '\n');
  return updated;
}

/** Replaces images/<id> with the finished build; a reader never sees a half-built image. */
async function swapInto(store: ImageStore, id: string, buildDir: string): Promise<void> {
  const target = join(store.dir, id);
  const old = join(store.dir, `.old-${id}-${process.pid}`);
  if (existsSync(target)) await rename(target, old);
  await rename(buildDir, target);
  await rm(old, { recursive: true, force: true });
}
