import { Value } from 'typebox/value';
import { IMAGES, LANGUAGES } from './catalog.js';
import { catalogIssues, type CatalogIssue } from './catalog-rules.js';
import { CatalogExtensionSchema } from './catalog-schema.js';
import { isBuiltInName } from './extensions.js';
import type { CatalogExtension } from './types.js';

/**
 * Everything wrong with a custom catalog extension (a parsed file, or definitions an imported image
 * carries), located by path: first its shape (the same schemas the built-in catalog's types come
 * from), then the built-in catalog's own rules over the built-in catalog with the extension on top,
 * then what only custom entries must respect. `others`: the extensions already in the data home.
 *
 * Custom names never shadow built-in ones (nor another extension's): `python` must mean the same
 * language on every host, whatever was built there; a custom variant takes a name of its own.
 */
export function extensionIssues(value: unknown, others: readonly CatalogExtension[]): CatalogIssue[] {
  const shape = schemaIssues(value);
  if (shape.length > 0) return shape;
  const extension = value as CatalogExtension;
  const issues = [...nameIssues(extension, others), ...referenceIssues(extension)];
  const located = new Set(issues.map((issue) => issue.path.join('/')));
  const merged = { images: [...IMAGES, ...extension.images], languages: [...LANGUAGES, ...extension.languages] };
  for (const issue of catalogIssues(merged)) {
    const [table, index, ...rest] = issue.path;
    const builtIns = table === 'images' ? IMAGES.length : LANGUAGES.length;
    // Issues with built-in entries belong to the built-in catalog's tests, not to this file; a field
    // the custom rules above already faulted needs no second message.
    if (typeof index !== 'number' || index < builtIns) continue;
    const path = [table!, index - builtIns, ...rest];
    if (!located.has(path.join('/'))) issues.push({ path, message: issue.message });
  }
  return dedupe(issues);
}

function schemaIssues(value: unknown): CatalogIssue[] {
  const issues: CatalogIssue[] = [];
  for (const error of Value.Errors(CatalogExtensionSchema, value)) {
    const path = error.instancePath.split('/').slice(1).map((part) => (/^\d+$/.test(part) ? Number(part) : part.replaceAll('~1', '/').replaceAll('~0', '~')));
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'boolean') continue; // the additionalProperties error below names the field
    if (error.keyword === 'additionalProperties') {
      for (const field of params.additionalProperties as string[]) issues.push({ path: [...path, field], message: `unknown field '${field}'` });
    } else if (error.keyword === 'required') {
      for (const field of params.requiredProperties as string[]) issues.push({ path, message: `missing field '${field}'` });
    } else if (error.keyword === 'enum') {
      issues.push({ path, message: `must be one of ${(params.allowedValues as string[]).join(', ')}` });
    } else if (error.keyword === 'pattern') {
      issues.push({ path, message: `${JSON.stringify(valueAt(value, path))} must match ${String(params.pattern)}` });
    } else {
      issues.push({ path, message: error.message });
    }
  }
  return dedupe(issues);
}

function nameIssues(extension: CatalogExtension, others: readonly CatalogExtension[]): CatalogIssue[] {
  const issues: CatalogIssue[] = [];
  const owner = new Map<string, string>();
  for (const other of others) {
    if (other.name === extension.name) continue; // building a file again replaces it
    for (const name of [...other.images.map((i) => i.id), ...other.languages.flatMap((l) => [l.id, ...l.aliases])]) owner.set(name, other.name);
  }
  const check = (name: string, path: CatalogIssue['path']): void => {
    if (isBuiltInName(name)) issues.push({ path, message: `'${name}' is a built-in name: a custom image or language takes a name of its own (e.g. '${name}-custom')` });
    else if (owner.has(name)) issues.push({ path, message: `'${name}' is already defined by the custom catalog '${owner.get(name)}' (rootfs rm ${owner.get(name)} removes it)` });
  };
  extension.images.forEach((image, i) => check(image.id, ['images', i, 'id']));
  extension.languages.forEach((language, i) => {
    check(language.id, ['languages', i, 'id']);
    language.aliases.forEach((alias, j) => check(alias, ['languages', i, 'aliases', j]));
  });
  return issues;
}

/** A custom image builds on a built-in image or one of its own file; a custom language runs in one of its file's images. */
function referenceIssues(extension: CatalogExtension): CatalogIssue[] {
  const own = new Set(extension.images.map((image) => image.id));
  const issues: CatalogIssue[] = [];
  extension.images.forEach((image, i) => {
    if (image.parent !== undefined && !own.has(image.parent) && !IMAGES.some((builtIn) => builtIn.id === image.parent)) {
      issues.push({ path: ['images', i, 'parent'], message: `parent image '${image.parent}' is neither built in (${IMAGES.map((b) => b.id).slice(0, 6).join(', ')}, …) nor in this file` });
    }
  });
  extension.languages.forEach((language, i) => {
    if (!own.has(language.image)) issues.push({ path: ['languages', i, 'image'], message: `a custom language runs in one of its file's images (${[...own].join(', ')}), not '${language.image}'` });
  });
  return issues;
}

function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((at, key) => (at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined), value);
}

function dedupe(issues: CatalogIssue[]): CatalogIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = JSON.stringify(issue);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
