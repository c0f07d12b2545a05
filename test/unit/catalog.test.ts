import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/config/paths.js';
import { IMAGES, LANGUAGES } from '../../src/languages/catalog.js';
import { findLanguage, imageChain, languagesOfImage, syscallAbisOfImage } from '../../src/languages/lookup.js';

const doc = readFileSync(join(packageRoot, 'docs', 'languages.md'), 'utf8');
const tableRows = (heading: string): string[] => {
  const section = doc.slice(doc.indexOf(`## ${heading}`));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('\n|')));
  return table.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| ---')).map((line) => line.split('|')[1]!.trim());
};

it('docs/languages.md has a conformance row for every language, and only those', () => {
  const rows = tableRows('Conformance matrix').filter((id) => id !== 'language');
  assert.deepEqual([...rows].sort(), LANGUAGES.map((l) => l.id).sort());
});

it('docs/languages.md describes every image, and only those', () => {
  const rows = tableRows('Images').filter((id) => id !== 'image');
  assert.deepEqual([...rows].sort(), IMAGES.map((i) => i.id).sort());
});

it('lists the languages with no source here as not available, and the catalog offers none of them', () => {
  const section = doc.slice(doc.indexOf('## Not available'));
  for (const name of ['Julia', 'Zig', 'Swift', 'Dart', 'F#', 'MongoDB', 'V']) {
    assert.ok(section.includes(name), `${name} is listed`);
    assert.equal(findLanguage(name.toLowerCase()), undefined, `${name} is not advertised`);
  }
});

it('every image has a reachable parent chain, and every language an image', () => {
  for (const image of IMAGES) assert.equal(imageChain(image.id)[0]!.id, 'base');
  const imageIds = new Set(IMAGES.map((i) => i.id));
  for (const language of LANGUAGES) assert.ok(imageIds.has(language.image), `${language.id}: image ${language.image}`);
});

it('pins every npm package to an exact version', () => {
  for (const image of IMAGES) {
    for (const pkg of image.npm ?? []) assert.match(pkg.spec, /^(@[a-z0-9-]+\/)?[a-z0-9.-]+@\d+\.\d+\.\d+$/, `${image.id}: ${pkg.spec}`);
  }
});

it('gives every compiled language a compile stage and a compile-error program', () => {
  for (const language of LANGUAGES) {
    if (language.family === 'compiled') assert.ok(language.compile && language.compileError, language.id);
    if (language.compileError) assert.ok(language.compile, `${language.id} has a compile error but no compile stage`);
  }
});

it('a language that admits another syscall ABI has an image of its own (the filter follows the image)', () => {
  const declaring = LANGUAGES.filter((l) => (l.syscallAbis ?? []).length > 0);
  assert.deepEqual(declaring.map((l) => l.id), ['nasm']);
  for (const lang of declaring) {
    assert.deepEqual(languagesOfImage(lang.image).map((l) => l.id), [lang.id], `image '${lang.image}' is shared`);
    assert.deepEqual(syscallAbisOfImage(lang.image), ['i386']);
  }
  assert.deepEqual(syscallAbisOfImage('gcc'), []);
});

it('the built-in catalog matches the schemas a custom file is checked with, and keeps the same rules', async () => {
  const { Value } = await import('typebox/value');
  const { ImageRecipeSchema, LanguageSpecSchema } = await import('../../src/languages/catalog-schema.js');
  const { catalogIssues } = await import('../../src/languages/catalog-rules.js');
  for (const image of IMAGES) assert.ok(Value.Check(ImageRecipeSchema, image), `${image.id}: ${JSON.stringify(Value.Errors(ImageRecipeSchema, image)[0])}`);
  for (const language of LANGUAGES) assert.ok(Value.Check(LanguageSpecSchema, language), `${language.id}: ${JSON.stringify(Value.Errors(LanguageSpecSchema, language)[0])}`);
  assert.deepEqual(catalogIssues({ images: IMAGES, languages: LANGUAGES }), []);
  // The rules do find what they look for: a broken copy of a built-in language breaks them.
  const broken = { ...LANGUAGES[0]!, id: 'copy', aliases: [], run: ['x', '{nope}'] };
  assert.deepEqual(catalogIssues({ images: IMAGES, languages: [...LANGUAGES, broken] }).map((issue) => issue.path.join('/')), [`languages/${LANGUAGES.length}/run/1`]);
});

it("a language's own limits are capped at the engine's default server maxima", async () => {
  const { LANGUAGE_LIMIT_CEILINGS } = await import('../../src/languages/catalog-schema.js');
  const { DEFAULT_MAXIMA } = await import('../../src/engine/limits.js');
  for (const [key, ceiling] of Object.entries(LANGUAGE_LIMIT_CEILINGS)) assert.equal(ceiling, DEFAULT_MAXIMA[key as keyof typeof DEFAULT_MAXIMA], key);
});
