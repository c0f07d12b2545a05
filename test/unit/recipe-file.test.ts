import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/config/paths.js';
import { parseRecipeFile, RecipeFileError } from '../../src/images/recipe-file.js';
import { recipeHash } from '../../src/images/recipe-hash.js';
import { stageCatalogExtension } from '../../src/languages/extensions.js';
import { findLanguage, languagesOfImage } from '../../src/languages/lookup.js';

const example = (name: string): string => readFileSync(join(packageRoot, 'docs', 'examples', name), 'utf8');

/** The problems parseRecipeFile reports for `text`, as `line field: message`. */
function problems(text: string): string[] {
  try {
    parseRecipeFile(text, 'f.yaml');
  } catch (err) {
    assert.ok(err instanceof RecipeFileError, `a RecipeFileError, not ${String(err)}`);
    assert.match(err.message, /^f\.yaml is not a valid catalog file/);
    return err.issues.map((issue) => `${issue.line} ${issue.field}: ${issue.message}`);
  }
  assert.fail('the file was accepted');
}

const GOOD = `name: lang-x
images:
  - id: lang-x
    parent: base
    description: an interpreter
    packages: [regina-rexx]
languages:
  - id: lang-x
    name: X
    family: interpreted
    aliases: [lx]
    image: lang-x
    fileName: main.x
    extensions: [.x]
    run: [x, "{file}", "{args}"]
    versionProbe: [x, -v]
    conformance: { code: "say hi", stdin: World, stdout: "Hello, World!\\n5050\\n" }
`;

describe('custom catalog files', () => {
  it('accepts the docs examples and a minimal file, YAML or JSON', () => {
    assert.equal(parseRecipeFile(example('python-mine.yaml'), 'python-mine.yaml').images[0]!.parent, 'python');
    assert.deepEqual(parseRecipeFile(example('rexx.yaml'), 'rexx.yaml').images[0]!.packages, ['regina-rexx']);
    const parsed = parseRecipeFile(GOOD, 'f.yaml');
    assert.deepEqual(parseRecipeFile(JSON.stringify(parsed, null, 2), 'f.json'), parsed);
  });

  it('docs/custom-images.md shows the example files as they are, and its other full example is valid', () => {
    const doc = readFileSync(join(packageRoot, 'docs', 'custom-images.md'), 'utf8');
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(blocks.includes(example('python-mine.yaml')) && blocks.includes(example('rexx.yaml')), 'both example files appear verbatim');
    const plus = blocks.find((block) => block.startsWith('name: javascript-plus'));
    assert.equal(parseRecipeFile(plus!, 'javascript-plus.yaml').images[0]!.npm![0]!.spec, 'ms@2.1.3');
  });

  it('names the field and the line of every problem of the shape', () => {
    const bad = GOOD.replace('family: interpreted', 'family: scripting')
      .replace('packages: [regina-rexx]', 'packages: ["-o APT::x=1"]')
      .replace('    fileName: main.x\n', '    fileName: main.x\n    colour: blue\n')
      .replace('stdin: World, stdout: "Hello, World!\\n5050\\n"', 'stdin: World')
      .replace('    extensions: [.x]\n', '    extensions: [.x]\n    limits: { memoryBytes: 1099511627776 }\n');
    assert.deepEqual(problems(bad), [
      '6 images[0].packages[0]: "-o APT::x=1" must match ^[a-z0-9][a-z0-9+.-]+(/[a-z0-9.-]+)?$',
      '10 languages[0].family: must be one of interpreted, compiled, jvm, beam, database',
      '14 languages[0].colour: unknown field \'colour\'',
      '16 languages[0].limits.memoryBytes: must be <= 2147483648',
      '19 languages[0].conformance: missing field \'stdout\'',
    ]);
  });

  it('applies the built-in catalog\'s rules, and refuses built-in names and references outside the file', () => {
    const bad = GOOD.replace('id: lang-x\n    parent: base', 'id: lang-x\n    parent: no-such-image')
      .replace('aliases: [lx]', 'aliases: [lx, py]')
      .replace('run: [x, "{file}", "{args}"]', 'run: [x, "{fil}", "--{args}"]')
      .replace('family: interpreted', 'family: compiled')
      .replace('    description: an interpreter\n', '    description: an interpreter\n    files: [{ path: /work/x, content: "" }, { path: /usr/../etc/x, content: "" }]\n');
    assert.deepEqual(problems(bad), [
      "4 images[0].parent: parent image 'no-such-image' is neither built in (base, python, python-datascience, node, typescript, deno, …) nor in this file",
      '6 images[0].files[0].path: \'/work/x\' is under /work, which every sandbox mounts over: put the file elsewhere (e.g. /usr/local or /opt)',
      "6 images[0].files[1].path: '/usr/../etc/x' has a '.' or '..' component",
      '11 languages[0].family: a compiled language needs a compile stage and a compileError program',
      "12 languages[0].aliases[1]: 'py' is a built-in name: a custom image or language takes a name of its own (e.g. 'py-custom')",
      '16 languages[0].run[1]: unknown placeholder {fil} (known: {file}, {stem}, {noext}, {sources}, {args})',
      '16 languages[0].run[2]: {args} expands to several arguments, so it must be an argument of its own',
    ]);
    assert.ok(problems(GOOD.replaceAll('lang-x', 'python')).some((p) => p.startsWith("3 images[0].id: 'python' is a built-in name")));
    assert.ok(problems(GOOD.replace('image: lang-x', 'image: python')).includes("12 languages[0].image: a custom language runs in one of its file's images (lang-x), not 'python'"));
  });

  it('reports YAML syntax errors and keys given twice with their line', () => {
    assert.deepEqual(problems('name: a\nname: b\n').slice(0, 1), ['2 : Map keys must be unique']);
    assert.match(problems('name: [a\n')[0]!, /^\d /);
  });

  it('a staged extension joins the catalog: its languages, its images and a recipe hash covering its files', () => {
    const extension = parseRecipeFile(example('python-mine.yaml'), 'python-mine.yaml');
    assert.equal(findLanguage('pym'), undefined);
    stageCatalogExtension(extension);
    try {
      assert.equal(findLanguage('pym')?.id, 'python-mine');
      assert.deepEqual(languagesOfImage('python-mine').map((l) => l.id), ['python-mine']);
      const hash = recipeHash('python-mine');
      stageCatalogExtension({ ...extension, images: [{ ...extension.images[0]!, files: [{ path: '/usr/local/x', content: 'changed' }] }] });
      assert.notEqual(recipeHash('python-mine'), hash, 'a changed file changes the recipe hash');
    } finally {
      stageCatalogExtension(undefined);
    }
    assert.equal(findLanguage('pym'), undefined);
  });
});
