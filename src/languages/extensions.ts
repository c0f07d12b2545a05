import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dataDir } from '../config/paths.js';
import { IMAGES, LANGUAGES } from './catalog.js';
import type { CatalogExtension } from './types.js';

/**
 * Custom images and languages (docs/custom-images.md): each built custom catalog file is kept as
 * `<home>/catalog.d/<name>.json` and joins the built-in catalog in every process that uses this
 * home (the CLI, the API and its workers). The files are written only after validation (when built or
 * imported), so loading them is a cheap JSON read; the directory is read again when it changes (a
 * running server sees an image built or removed beside it).
 */
export function catalogDir(root: string): string {
  return join(root, 'catalog.d');
}

let home: string | undefined;
let loaded: { dir: string; mtimeMs: number; extensions: readonly CatalogExtension[] } | undefined;
let staged: { extension: CatalogExtension; over: readonly CatalogExtension[]; extensions: readonly CatalogExtension[] } | undefined;

/** Reads catalog.d from `root` instead of the data home the environment names (an engine opened on other paths). */
export function useCatalogHome(root: string): void {
  home = root;
}

/**
 * While its images are built and checked, an extension is in this process's catalog only (it
 * replaces the persisted one of its name); `undefined` ends that. Nothing is written.
 */
export function stageCatalogExtension(extension: CatalogExtension | undefined): void {
  staged = extension && { extension, over: [], extensions: [] };
}

/** The custom catalog extensions of this data home (in name order), with the staged one. */
export function catalogExtensions(): readonly CatalogExtension[] {
  const persisted = persistedExtensions();
  if (!staged) return persisted;
  if (staged.over !== persisted || staged.extensions.length === 0) {
    staged = { ...staged, over: persisted, extensions: [...persisted.filter((e) => e.name !== staged!.extension.name), staged.extension] };
  }
  return staged.extensions;
}

function persistedExtensions(): readonly CatalogExtension[] {
  const dir = catalogDir(home ?? dataDir());
  // Looked at on every language lookup (several per execution): a missing directory, the usual
  // case, is a result here, not a thrown ENOENT error built with its stack trace each time.
  let mtimeMs: number;
  try {
    const stat = statSync(dir, { throwIfNoEntry: false });
    if (stat === undefined) return none(dir);
    mtimeMs = stat.mtimeMs;
  } catch {
    return none(dir);
  }
  if (loaded?.dir !== dir || loaded.mtimeMs !== mtimeMs) loaded = { dir, mtimeMs, extensions: readExtensions(dir) };
  return loaded.extensions;
}

function none(dir: string): readonly CatalogExtension[] {
  if (loaded?.dir !== dir || loaded.extensions.length > 0) loaded = { dir, mtimeMs: -1, extensions: [] };
  return loaded.extensions;
}

const BUILT_IN_NAMES = new Set([...LANGUAGES.flatMap((lang) => [lang.id, ...lang.aliases]), ...IMAGES.map((image) => image.id)]);

/** A file that cannot be read, or that names what a newer built-in catalog now has, is left out with a warning (never half-used). */
function readExtensions(dir: string): CatalogExtension[] {
  const extensions: CatalogExtension[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json')).sort()) {
    try {
      const extension = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CatalogExtension;
      const names = [...extension.images.map((image) => image.id), ...extension.languages.flatMap((lang) => [lang.id, ...lang.aliases])];
      const shadowed = names.find((name) => BUILT_IN_NAMES.has(name));
      if (shadowed !== undefined) throw new Error(`'${shadowed}' is now a built-in name`);
      extensions.push(extension);
    } catch (err) {
      process.emitWarning(`custom catalog ${join(dir, file)} left out: ${(err as Error).message}`, { code: 'RC_CATALOG_EXTENSION' });
    }
  }
  return extensions;
}

/** The extensions of another data home's catalog.d (an image store's own, whatever home this process serves). */
export function extensionsIn(root: string): CatalogExtension[] {
  const dir = catalogDir(root);
  return existsSync(dir) ? readExtensions(dir) : [];
}

export function isBuiltInName(name: string): boolean {
  return BUILT_IN_NAMES.has(name);
}

/** The extension that defines a custom image, if any. */
export function extensionOfImage(imageId: string): CatalogExtension | undefined {
  return catalogExtensions().find((extension) => extension.images.some((image) => image.id === imageId));
}

/** Persists a validated extension (replacing one of the same name): a reader sees the old file or the new one. */
export async function writeCatalogExtension(root: string, extension: CatalogExtension): Promise<string> {
  const dir = catalogDir(root);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${extension.name}.json`);
  const temp = join(dir, `.${extension.name}.json.${process.pid}`);
  await writeFile(temp, JSON.stringify(extension, null, 2) + '\n', { mode: 0o644 });
  await rename(temp, path);
  return path;
}

export async function removeCatalogExtension(root: string, name: string): Promise<boolean> {
  const path = join(catalogDir(root), `${name}.json`);
  if (!existsSync(path)) return false;
  await rm(path, { force: true });
  return true;
}
