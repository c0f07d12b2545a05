import type { ArgvTemplate, ImageRecipe, LanguageSpec } from './types.js';

/** A rule a catalog breaks, located by its path in the catalog document (`languages/2/run/0`). */
export interface CatalogIssue {
  path: readonly (string | number)[];
  message: string;
}

export interface CatalogTables {
  images: readonly ImageRecipe[];
  languages: readonly LanguageSpec[];
}

/** Placeholders an argv element may contain; `{args}` and `{sources}` stand alone (they expand to several). */
const INLINE_PLACEHOLDERS = ['{file}', '{stem}', '{noext}'];
const WHOLE_PLACEHOLDERS = ['{sources}', '{args}'];
/** Mounted over the image in every sandbox (or owned by the kernel): a file there would never be seen. */
const HIDDEN_PATHS = ['/proc', '/sys', '/dev', '/tmp', '/work', '/run'];

/**
 * The rules the schemas cannot state, for the built-in catalog (test/unit/catalog.test.ts) and for a
 * custom file on top of it (extension.ts): names used once, parents and images that exist, argv
 * placeholders, regexes that compile, compiled languages with a compile stage, files an image can hold.
 */
export function catalogIssues(catalog: CatalogTables): CatalogIssue[] {
  return [...imageIssues(catalog), ...catalog.languages.flatMap((language, index) => languageIssues(catalog, language, ['languages', index]))];
}

function imageIssues({ images }: CatalogTables): CatalogIssue[] {
  const issues: CatalogIssue[] = [];
  const byId = new Map<string, ImageRecipe>();
  images.forEach((image, index) => {
    if (byId.has(image.id)) issues.push({ path: ['images', index, 'id'], message: `image '${image.id}' is defined twice` });
    byId.set(image.id, image);
  });
  images.forEach((image, index) => {
    if (image.parent === undefined) {
      if (image.id !== 'base') issues.push({ path: ['images', index], message: `image '${image.id}' needs a parent image (e.g. base, python)` });
    } else if (!byId.has(image.parent)) {
      issues.push({ path: ['images', index, 'parent'], message: `parent image '${image.parent}' is not in the catalog` });
    } else if (!reachesBase(byId, image)) {
      issues.push({ path: ['images', index, 'parent'], message: `image '${image.id}' is its own ancestor` });
    }
    const seen = new Set<string>();
    (image.files ?? []).forEach((file, fileIndex) => {
      const at = ['images', index, 'files', fileIndex, 'path'];
      const problem = imagePathProblem(file.path);
      if (problem) issues.push({ path: at, message: problem });
      if (seen.has(file.path)) issues.push({ path: at, message: `'${file.path}' is listed twice` });
      seen.add(file.path);
    });
  });
  return issues;
}

function reachesBase(byId: Map<string, ImageRecipe>, image: ImageRecipe): boolean {
  const visited = new Set<string>();
  for (let at: ImageRecipe | undefined = image; at; at = at.parent === undefined ? undefined : byId.get(at.parent)) {
    if (visited.has(at.id)) return false;
    visited.add(at.id);
  }
  return true;
}

function imagePathProblem(path: string): string | undefined {
  const parts = path.split('/').slice(1);
  if (parts.some((part) => part === '.' || part === '..')) return `'${path}' has a '.' or '..' component`;
  const hidden = HIDDEN_PATHS.find((dir) => path === dir || path.startsWith(dir + '/'));
  if (hidden) return `'${path}' is under ${hidden}, which every sandbox mounts over: put the file elsewhere (e.g. /usr/local or /opt)`;
  return undefined;
}

function languageIssues(catalog: CatalogTables, language: LanguageSpec, at: readonly (string | number)[]): CatalogIssue[] {
  const issues: CatalogIssue[] = [];
  const index = at[1] as number;
  const firstUse = new Map<string, number>();
  catalog.languages.slice(0, index).forEach((other, i) => [other.id, ...other.aliases].forEach((name) => firstUse.set(name, i)));
  [language.id, ...language.aliases].forEach((name, i) => {
    const used = firstUse.get(name);
    const path = i === 0 ? [...at, 'id'] : [...at, 'aliases', i - 1];
    if (used !== undefined) issues.push({ path, message: `'${name}' already names language '${catalog.languages[used]!.id}'` });
  });
  const images = catalog.images.filter((image) => image.id === language.image);
  if (images.length === 0) issues.push({ path: [...at, 'image'], message: `image '${language.image}' is not in the catalog` });
  if (language.family === 'compiled' && !(language.compile && language.compileError)) {
    issues.push({ path: [...at, 'family'], message: 'a compiled language needs a compile stage and a compileError program' });
  }
  if (language.compileError && !language.compile) issues.push({ path: [...at, 'compileError'], message: 'compileError needs a compile stage' });
  if ((language.syscallAbis ?? []).length > 0 && catalog.languages.some((other) => other !== language && other.image === language.image)) {
    issues.push({ path: [...at, 'syscallAbis'], message: `a language that admits another syscall ABI needs an image of its own ('${language.image}' is shared): the filter follows the image` });
  }
  issues.push(...argvIssues(language.run, [...at, 'run'], true), ...argvIssues(language.versionProbe, [...at, 'versionProbe'], false));
  if (language.compile) issues.push(...argvIssues(language.compile, [...at, 'compile'], false));
  if (language.unitNaming) issues.push(...regexIssues(language.unitNaming, [...at, 'unitNaming']));
  (language.forms ?? []).forEach((form, i) => {
    const formAt = [...at, 'forms', i];
    if (form.matches === undefined && form.lacks === undefined) issues.push({ path: formAt, message: 'a form needs `matches` or `lacks`' });
    for (const key of ['matches', 'lacks'] as const) if (form[key] !== undefined) issues.push(...regexIssue(form[key], [...formAt, key]));
    if (form.run) issues.push(...argvIssues(form.run, [...formAt, 'run'], true));
    if (form.compile) issues.push(...argvIssues(form.compile, [...formAt, 'compile'], false));
    if (form.unitNaming) issues.push(...regexIssues(form.unitNaming, [...formAt, 'unitNaming']));
  });
  const names = [language.fileName, ...(language.namingCases ?? []).flatMap((c) => c.files.map((f) => f.name))];
  if (names.some((name) => name.split('/').includes('..'))) issues.push({ path: [...at, 'fileName'], message: "file names have no '..' component" });
  return issues;
}

function argvIssues(argv: ArgvTemplate, at: readonly (string | number)[], runStage: boolean): CatalogIssue[] {
  const issues: CatalogIssue[] = [];
  argv.forEach((part, i) => {
    for (const placeholder of part.match(/\{[a-z]+\}/g) ?? []) {
      const whole = WHOLE_PLACEHOLDERS.includes(placeholder);
      if (!whole && !INLINE_PLACEHOLDERS.includes(placeholder)) {
        issues.push({ path: [...at, i], message: `unknown placeholder ${placeholder} (known: ${[...INLINE_PLACEHOLDERS, ...WHOLE_PLACEHOLDERS].join(', ')})` });
      } else if (whole && part !== placeholder) {
        issues.push({ path: [...at, i], message: `${placeholder} expands to several arguments, so it must be an argument of its own` });
      } else if (placeholder === '{args}' && !runStage) {
        issues.push({ path: [...at, i], message: '{args} (the caller\'s arguments) belongs to the run stage only' });
      }
    }
  });
  return issues;
}

function regexIssues(naming: { sources?: readonly string[]; entry?: readonly string[] }, at: readonly (string | number)[]): CatalogIssue[] {
  return (['sources', 'entry'] as const).flatMap((key) => (naming[key] ?? []).flatMap((source, i) => regexIssue(source, [...at, key, i])));
}

function regexIssue(source: string, at: readonly (string | number)[]): CatalogIssue[] {
  try {
    new RegExp(source, 'm');
    return [];
  } catch (err) {
    return [{ path: at, message: `not a regular expression: ${(err as Error).message}` }];
  }
}
