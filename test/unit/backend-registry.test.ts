import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../src/config/paths.js';
import { BACKEND_NAMES } from '../../src/sandbox/backend-names.js';

// sandbox/registry.ts loads `./<name>/open.js` for every name in BACKEND_NAMES: each backend's
// folder has the same shape, so a new backend is one folder and one name.
describe('the backend registry', () => {
  for (const name of BACKEND_NAMES) {
    it(`src/sandbox/${name}/ has backend.ts, plan.ts and an open.ts whose openBackend opens it`, async () => {
      for (const file of ['backend.ts', 'open.ts', 'plan.ts']) assert.ok(existsSync(join(packageRoot, 'src', 'sandbox', name, file)), `src/sandbox/${name}/${file} is missing`);
      const open = (await import(`../../src/sandbox/${name}/open.js`)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(open), ['openBackend']);
      assert.equal(typeof open.openBackend, 'function');
    });
  }
});
