import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/config/paths.js';
import * as limits from '../../src/protocol/limits.js';

it('src/protocol/limits.ts and agent/src/protocol.h agree', () => {
  const header = readFileSync(join(packageRoot, 'agent', 'src', 'protocol.h'), 'utf8');
  const defines = new Map([...header.matchAll(/^#define RC_([A-Z_]+)\s+(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
  const ts = Object.entries(limits).filter(([, v]) => typeof v === 'number');
  assert.ok(ts.length >= 6);
  for (const [name, value] of ts) assert.equal(defines.get(name), value, `RC_${name}`);
});

it('docs/protocol.md states the same limits', () => {
  const doc = readFileSync(join(packageRoot, 'docs', 'protocol.md'), 'utf8');
  for (const [name, value] of Object.entries(limits)) {
    assert.match(doc, new RegExp(`\\| \`${name}\` \\| ${value}\\b`), name);
  }
});
