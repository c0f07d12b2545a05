import { dataPaths, type DataPaths } from '../config/paths.js';
import { ErrorCodes, ImageError } from '../errors.js';
import { buildImages, type BuildOptions, type BuildReport } from '../images/builder.js';
import { ImageStore } from '../images/store.js';
import { catalogExtensions, removeCatalogExtension, stageCatalogExtension, writeCatalogExtension } from '../languages/extensions.js';
import type { CatalogExtension, LanguageSpec } from '../languages/types.js';
import { openEngine } from './open-engine.js';

export interface ExtensionBuildOptions extends BuildOptions {
  paths?: DataPaths;
  /** Skip running each language's conformance program before the definitions are kept. */
  skipConformance?: boolean;
}

export interface ExtensionBuildReport {
  name: string;
  /** The definitions file under `<home>/catalog.d/`. */
  path: string;
  images: BuildReport[];
  languages: { id: string; version: string | null; conformance: 'passed' | 'skipped' }[];
}

/**
 * Builds a validated custom catalog extension (recipe-file.ts): its images, then each language's
 * conformance program in a real sandbox, and only then keeps its definitions in `<home>/catalog.d/`,
 * where `languages`, `run`, the API and its workers find them. Until then the extension is in this
 * process's catalog only; when anything fails, the images this build made are removed and
 * catalog.d is left as it was.
 */
export async function buildExtension(extension: CatalogExtension, options: ExtensionBuildOptions = {}): Promise<ExtensionBuildReport> {
  const paths = options.paths ?? dataPaths();
  const store = new ImageStore(paths.imagesDir);
  const ids = extension.images.map((image) => image.id);
  const built = new Set<string>();
  stageCatalogExtension(extension);
  try {
    const images = await buildImages(store, ids, {
      ...options,
      onProgress: (event) => {
        if (event.kind === 'done' && ids.includes(event.image)) built.add(event.image);
        options.onProgress?.(event);
      },
    });
    const languages = [];
    for (const language of extension.languages) {
      const version = store.manifest(language.image)?.versions[language.id] ?? null;
      if (!options.skipConformance) await checkConformance(language, paths, options);
      languages.push({ id: language.id, version, conformance: options.skipConformance ? ('skipped' as const) : ('passed' as const) });
    }
    const path = await writeCatalogExtension(paths.root, extension);
    return { name: extension.name, path, images, languages };
  } catch (err) {
    for (const id of built) await store.remove(id);
    throw err;
  } finally {
    stageCatalogExtension(undefined);
  }
}

async function checkConformance(language: LanguageSpec, paths: DataPaths, options: ExtensionBuildOptions): Promise<void> {
  options.onProgress?.({ image: language.image, kind: 'step', message: `conformance program of ${language.id}` });
  const engine = await openEngine({ paths });
  try {
    const { code, stdin, stdout } = language.conformance;
    const result = await engine.execute({ language: language.id, code, stdin });
    if (result.status !== 'success' || result.stdout !== stdout) {
      const got = result.status !== 'success' ? `${result.error?.code}: ${result.error?.message}` : `stdout ${JSON.stringify(result.stdout)}, stderr ${JSON.stringify(result.stderr.slice(0, 2000))}, exit ${result.exit_code}`;
      throw new ImageError(ErrorCodes.IMAGE_BUILD, `${language.id}: the conformance program printed something else than ${JSON.stringify(stdout)}: ${got}`, {
        hint: 'fix the language\'s run/compile commands or its conformance program; nothing was kept',
      });
    }
  } finally {
    await engine.close();
  }
}

/**
 * Removes a custom extension: its images and its definitions (docs/custom-images.md). Named by the
 * extension's name or by one of its images; undefined when neither names a custom extension.
 */
export async function removeExtension(nameOrImage: string, paths: DataPaths = dataPaths()): Promise<CatalogExtension | undefined> {
  const extension = catalogExtensions().find((e) => e.name === nameOrImage || e.images.some((image) => image.id === nameOrImage));
  if (!extension) return undefined;
  const store = new ImageStore(paths.imagesDir);
  // Definitions first: a reader never sees a language whose image is half removed.
  await removeCatalogExtension(paths.root, extension.name);
  for (const image of extension.images) await store.remove(image.id);
  return extension;
}
