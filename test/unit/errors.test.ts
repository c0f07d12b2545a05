import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/config/paths.js';
import { ErrorCodes } from '../../src/errors.js';

it('docs/errors.md documents exactly the codes in src/errors.ts', () => {
  const doc = readFileSync(join(packageRoot, 'docs', 'errors.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `(RC_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, Object.values(ErrorCodes).sort());
});
