import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { OUTPUTS_DIR } from '../engine/output-files.js';
import type { OutputFile } from '../engine/result.js';

/**
 * `run --outputs-dir DIR`: writes the files the program left under outputs/ into DIR (outputs/a/b.png
 * as DIR/a/b.png). The engine already refused any path that is not plain and below outputs/; this
 * checks again that each target stays inside DIR. Returns the paths written.
 */
export function saveOutputs(dir: string, outputs: readonly OutputFile[]): string[] {
  const root = resolve(dir);
  const written: string[] = [];
  for (const output of outputs) {
    const target = resolve(root, output.path.slice(OUTPUTS_DIR.length + 1));
    // SECURITY: names come from sandboxed code; never a path outside DIR.
    const inside = relative(root, target);
    if (inside === '' || inside.startsWith('..') || inside.startsWith('/')) continue;
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, Buffer.from(output.content_b64, 'base64'));
    written.push(join(dir, inside));
  }
  return written;
}
