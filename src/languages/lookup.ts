import { ErrorCodes, RunnerError } from '../errors.js';
import { IMAGES, LANGUAGES } from './catalog.js';
import { catalogExtensions } from './extensions.js';
import type { CatalogExtension, ExtraSyscallAbi, ImageRecipe, LanguageSpec } from './types.js';

interface Tables {
  extensions: readonly CatalogExtension[];
  languages: readonly LanguageSpec[];
  images: readonly ImageRecipe[];
  byName: Map<string, LanguageSpec>;
  imagesById: Map<string, ImageRecipe>;
}

function tablesOf(extensions: readonly CatalogExtension[]): Tables {
  const languages = [...LANGUAGES, ...extensions.flatMap((extension) => extension.languages)];
  const images = [...IMAGES, ...extensions.flatMap((extension) => extension.images)];
  const byName = new Map<string, LanguageSpec>();
  for (const lang of languages) {
    for (const name of [lang.id, ...lang.aliases]) {
      if (byName.has(name)) {
        if (extensions.length === 0) throw new Error(`catalog: name '${name}' is used twice`);
        continue; // two custom files claiming one name: the first (in name order) keeps it
      }
      byName.set(name, lang);
    }
  }
  return { extensions, languages, images, byName, imagesById: new Map(images.map((image) => [image.id, image])) };
}

const builtIn = tablesOf([]);
let current = builtIn;

/** The built-in catalog with this data home's custom extensions (extensions.ts), rebuilt when they change. */
function tables(): Tables {
  const extensions = catalogExtensions();
  if (extensions.length === 0) return builtIn;
  if (current.extensions !== extensions) current = tablesOf(extensions);
  return current;
}

/** Every language: the built-in catalog's, then the custom ones. */
export function allLanguages(): readonly LanguageSpec[] {
  return tables().languages;
}

/** Every image recipe: the built-in catalog's, then the custom ones. */
export function allImages(): readonly ImageRecipe[] {
  return tables().images;
}

/** Finds a language by id or alias (case-insensitive). */
export function findLanguage(name: string): LanguageSpec | undefined {
  return tables().byName.get(name.trim().toLowerCase());
}

/** Like findLanguage, but throws RC_ERR_UNKNOWN_LANGUAGE naming the known ids. */
export function getLanguage(name: string): LanguageSpec {
  const lang = findLanguage(name);
  if (!lang) {
    throw new RunnerError(ErrorCodes.UNKNOWN_LANGUAGE, `unsupported language '${name}'`, {
      hint: `known languages: ${allLanguages().map((l) => l.id).join(', ')} (\`infra.operator languages\` lists aliases)`,
    });
  }
  return lang;
}

export function findImageRecipe(id: string): ImageRecipe | undefined {
  return tables().imagesById.get(id);
}

export function getImageRecipe(id: string): ImageRecipe {
  const recipe = findImageRecipe(id);
  if (!recipe) throw new RunnerError(ErrorCodes.INVALID_REQUEST, `unknown image '${id}'`);
  return recipe;
}

/** The image and its ancestors, root first. */
export function imageChain(id: string): ImageRecipe[] {
  const chain: ImageRecipe[] = [];
  for (let recipe: ImageRecipe | undefined = getImageRecipe(id); recipe; ) {
    chain.unshift(recipe);
    recipe = recipe.parent === undefined ? undefined : getImageRecipe(recipe.parent);
  }
  return chain;
}

/** Languages that run in the given image. */
export function languagesOfImage(imageId: string): LanguageSpec[] {
  return allLanguages().filter((lang) => lang.image === imageId);
}

/** Syscall ABIs besides x86_64 that sandboxes of this image admit: what its languages declare. */
export function syscallAbisOfImage(imageId: string): ExtraSyscallAbi[] {
  return [...new Set(languagesOfImage(imageId).flatMap((lang) => lang.syscallAbis ?? []))];
}
