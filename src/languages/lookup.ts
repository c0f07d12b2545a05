import { ErrorCodes, RunnerError } from '../errors.js';
import { IMAGES, LANGUAGES } from './catalog.js';
import type { ExtraSyscallAbi, ImageRecipe, LanguageSpec } from './types.js';

const byName = new Map<string, LanguageSpec>();
for (const lang of LANGUAGES) {
  for (const name of [lang.id, ...lang.aliases]) {
    if (byName.has(name)) throw new Error(`catalog: name '${name}' is used twice`);
    byName.set(name, lang);
  }
}
const imagesById = new Map<string, ImageRecipe>(IMAGES.map((image) => [image.id, image]));

/** Finds a language by id or alias (case-insensitive). */
export function findLanguage(name: string): LanguageSpec | undefined {
  return byName.get(name.trim().toLowerCase());
}

/** Like findLanguage, but throws RC_ERR_UNKNOWN_LANGUAGE naming the known ids. */
export function getLanguage(name: string): LanguageSpec {
  const lang = findLanguage(name);
  if (!lang) {
    throw new RunnerError(ErrorCodes.UNKNOWN_LANGUAGE, `unsupported language '${name}'`, {
      hint: `known languages: ${LANGUAGES.map((l) => l.id).join(', ')} (\`infra.operator languages\` lists aliases)`,
    });
  }
  return lang;
}

export function getImageRecipe(id: string): ImageRecipe {
  const recipe = imagesById.get(id);
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
  return LANGUAGES.filter((lang) => lang.image === imageId);
}

/** Syscall ABIs besides x86_64 that sandboxes of this image admit: what its languages declare. */
export function syscallAbisOfImage(imageId: string): ExtraSyscallAbi[] {
  return [...new Set(languagesOfImage(imageId).flatMap((lang) => lang.syscallAbis ?? []))];
}
