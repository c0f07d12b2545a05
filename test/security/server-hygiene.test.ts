import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/config/paths.js';

/**
 * The server never builds a shell command from input: every process is started from an argv
 * array, never through a shell, and the few fixed `sh -c` scripts (version probes, the nasm
 * compile) are plain literals that take their inputs as positional arguments.
 */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

it('no shell strings: no shell option, no exec/execSync, every -c script a literal', () => {
  const problems: string[] = [];
  for (const file of sources(join(packageRoot, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const rel = file.slice(packageRoot.length);
    if (/\bshell\s*:\s*(true|['"`])/.test(text)) problems.push(`${rel}: spawns through a shell`);
    const imported = /import\s*\{([^}]*)\}\s*from\s*'node:child_process'/.exec(text)?.[1] ?? '';
    for (const name of imported.split(',').map((n) => n.trim().split(/\s/)[0])) {
      if (name === 'exec' || name === 'execSync') problems.push(`${rel}: child_process.${name} runs a shell`);
    }
    for (const m of text.matchAll(/'(?:sh|bash)',\s*'-c',\s*(\S)/g)) {
      if (m[1] !== "'") problems.push(`${rel}: a -c script that is not a plain literal`);
    }
    for (const m of text.matchAll(/'(?:sh|bash)',\s*'-c',\s*'([^']*)'/g)) {
      if (m[1]!.includes('${')) problems.push(`${rel}: a -c script with interpolation`);
    }
  }
  assert.deepEqual(problems, []);
});
