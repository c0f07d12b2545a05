import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { it } from 'node:test';
import { packageRoot } from '../../src/config/paths.js';

/*
 * The edges are thin (docs/architecture.md, "Parts"): the queue, the pools and the engines are the
 * execution service's (src/engine/service.ts). An edge that imports them keeps a second queue or
 * reaches past the service.
 */
const srcDir = join(packageRoot, 'src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.name.endsWith('.ts') ? [relative(srcDir, path).split('\\').join('/')] : [];
  });
}

/** A value import (not `import type`) of one of the service's insides. */
const VALUE_IMPORT = /^import\s+(?!type\s)[^;]*?from\s+'((?:\.\.\/)+engine\/(?:queue|pool|engine)\.js)'/gm;

it('no edge uses the queue, a pool or an Engine but through the execution service', () => {
  const edges = [...filesUnder(join(srcDir, 'api')), ...filesUnder(join(srcDir, 'cli'))];
  assert.ok(edges.length > 20, `only ${edges.length} edge files`);
  // Types (PoolStats, PoolOptions) are shapes the edges describe; values would be a way past the service.
  const reaching = edges.flatMap((file) =>
    [...readFileSync(join(srcDir, file), 'utf8').matchAll(VALUE_IMPORT)].map((m) => `src/${file} imports ${m[1]}`),
  );
  assert.deepEqual(reaching, [], `edges past the service:\n${reaching.join('\n')}`);
  assert.equal([..."import { ExecutionQueue } from '../engine/queue.js';".matchAll(VALUE_IMPORT)].length, 1, 'the pattern sees a value import');
});
