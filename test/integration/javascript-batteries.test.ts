import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getImageRecipe } from '../../src/languages/lookup.js';
import { engine, run } from '../helpers/engine.js';
import { skipUnlessBuilt } from '../helpers/images.js';

/** The batteries the javascript image ships (catalog/images.ts), by package name. */
const BATTERIES = ['lodash', 'dayjs', 'uuid', 'zod', 'yaml'];

/** Uses every battery and prints one line: the same result from CommonJS and from ESM. */
const USE = `
console.log([
  _.chunk([1, 2, 3], 2).length,
  dayjs('2024-02-29').add(1, 'year').format('YYYY-MM-DD'),
  validate(v4()),
  z.object({ n: z.number() }).parse({ n: 5 }).n,
  YAML.stringify({ ok: true }).trim(),
].join(' '));
`;
const EXPECTED = '2 2025-02-28 true 5 ok: true\n';
const CJS = `const _ = require('lodash');\nconst dayjs = require('dayjs');\nconst { v4, validate } = require('uuid');\nconst { z } = require('zod');\nconst YAML = require('yaml');\n${USE}`;
const ESM = `import _ from 'lodash';\nimport dayjs from 'dayjs';\nimport { v4, validate } from 'uuid';\nimport { z } from 'zod';\nimport YAML from 'yaml';\n${USE}`;

describe('javascript batteries: popular pure-JS packages in the image', async () => {
  const skip = skipUnlessBuilt(await engine(), 'javascript');

  it('the image recipe lists them, pinned', () => {
    const specs = getImageRecipe('node').npm!.map((pkg) => pkg.spec);
    for (const name of BATTERIES) assert.ok(specs.some((spec) => spec.startsWith(`${name}@`)), `${name} in ${specs.join(' ')}`);
  });

  it('require() finds them from the work directory', { skip }, async () => {
    const result = await run({ language: 'javascript', code: CJS });
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, EXPECTED);
  });

  it('import finds them from a nested directory (ESM entry)', { skip }, async () => {
    const result = await run({ language: 'javascript', files: [{ name: 'src/deep/er/main.mjs', content: ESM }] });
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, EXPECTED);
  });

  it('require() and import find them from a program anywhere else (/tmp)', { skip }, async () => {
    const code = `
const { mkdirSync, writeFileSync } = require('node:fs');
mkdirSync('/tmp/elsewhere/x', { recursive: true });
writeFileSync('/tmp/elsewhere/x/a.cjs', ${JSON.stringify(CJS)});
writeFileSync('/tmp/elsewhere/x/b.mjs', ${JSON.stringify(ESM)});
require('/tmp/elsewhere/x/a.cjs');
import('/tmp/elsewhere/x/b.mjs');
`;
    const result = await run({ language: 'javascript', code });
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, EXPECTED + EXPECTED);
  });
});
