import { it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Command } from 'commander';
import { cliProgram } from '../../src/cli/program.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { packageRoot } from '../../src/config/paths.js';

// Every file path and `infra.operator` command the docs name must exist: the paths in the
// repository, the commands, subcommands and flags in the real commander program (built, never run).
// What counts: paths in code (inline or fenced) and link targets that start at one of the folders
// below; invocations in code. `dist/x.js` names the build of `x.ts`; `*`, `{a,b}` and `<name>`
// stand for any file name that exists. A path may be relative to the doc's folder or to the root.
// A path .gitignore names (`bench/results/`) is an output the code writes, not a file to find.

const DOCS = ['README.md', 'agent/README.md', ...readdirSync(join(packageRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const PATH = /(?<![\w./-])((?:\.\.\/)*(?:src|agent|test|docs|bench|\.ci|dist)\/[\w./*<>{},@+-]*)/g;
const INVOCATION = /(?:infra\.operator|dist\/src\/cli\/index\.js)\s+((?:(?!infra\.operator).)*)/g;
const NPM_SCRIPT = /\bnpm run ([\w:-]+)/g;

interface Reference {
  doc: string;
  line: number;
  text: string;
}

/** The code (fenced blocks, inline spans) and link targets of a markdown file, line by line. */
function codeAndLinks(doc: string): { code: Reference[]; links: Reference[] } {
  const code: Reference[] = [];
  const links: Reference[] = [];
  let fenced = false;
  let continued = '';
  readFileSync(join(packageRoot, doc), 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const line = i + 1;
      if (/^\s*```/.test(text)) {
        fenced = !fenced;
        return;
      }
      if (fenced) {
        // A shell line continued with `\` is one command.
        if (text.endsWith('\\')) continued += `${text.slice(0, -1)} `;
        else {
          code.push({ doc, line, text: continued + text });
          continued = '';
        }
        return;
      }
      for (const m of text.matchAll(/`([^`]+)`/g)) code.push({ doc, line, text: m[1]! });
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) links.push({ doc, line, text: m[1]!.replace(/#.*$/, '') });
    });
  return { code, links };
}

const found = DOCS.map(codeAndLinks);
const code = found.flatMap((f) => f.code);
const links = found.flatMap((f) => f.links);

/** One path segment as a pattern: `*`, `<name>` and `{a,b}` stand for what exists. */
function segmentPattern(segment: string): RegExp {
  const source = segment
    .split(/(\*|<[^>]*>|\{[^}]*\})/)
    .map((part) => {
      if (part === '*' || /^<.*>$/.test(part)) return '[^/]+';
      if (/^\{.*\}$/.test(part)) return `(?:${part.slice(1, -1).split(',').map(escape).join('|')})`;
      return escape(part);
    })
    .join('');
  return new RegExp(`^${source}$`);
}
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether a path (perhaps with `*`, `<name>`, `{a,b}`) names something below `base`. */
function exists(base: string, segments: string[]): boolean {
  const [first, ...rest] = segments;
  if (first === undefined || first === '') return existsSync(base);
  if (first === '..' || first === '.') return exists(join(base, first), rest);
  if (!/[*<{]/.test(first)) return exists(join(base, first), rest);
  if (!existsSync(base) || !statSync(base).isDirectory()) return false;
  const pattern = segmentPattern(first);
  return readdirSync(base).some((name) => pattern.test(name) && exists(join(base, name), rest));
}

/** Whether a path is (or lies below) what .gitignore names: something a build or a run writes. */
const ignored = readFileSync(join(packageRoot, '.gitignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim().replace(/^\//, ''))
  .filter((line) => line && !line.startsWith('#'));
const isOutput = (path: string): boolean =>
  ignored.some((pattern) => {
    const dir = pattern.endsWith('/') ? pattern : pattern.replace(/[^/]*$/, '');
    return dir !== '' && (path.startsWith(dir) || `${path.replace(/\/$/, '')}/` === dir);
  });

/** The source a path names: `dist/src/x.js` is built from `src/x.ts`; the bundled playground, `dist/playground/`, from `src/playground/`. */
function source(path: string): string {
  if (!path.startsWith('dist/')) return path;
  if (path.startsWith('dist/playground/')) return 'src/playground/';
  return path.slice('dist/'.length).replace(/\.js$/, '.ts').replace(/\.d\.ts$/, '.ts');
}

function stalePaths(): { checked: number; stale: string[] } {
  const refs = [
    ...code.flatMap((ref) => [...ref.text.matchAll(PATH)].map((m) => ({ ...ref, path: m[1]! }))),
    // Every link that is not a URL or an anchor names a file, relative to the doc.
    ...links.filter((ref) => ref.text !== '' && !/^[a-z][a-z+.-]*:/i.test(ref.text)).map((ref) => ({ ...ref, path: ref.text })),
  ];
  const stale: string[] = [];
  let checked = 0;
  for (const ref of refs) {
    const path = source(ref.path.replace(/[.,]+$/, ''));
    if (path === '' || isOutput(path)) continue;
    checked += 1;
    const segments = path.split('/');
    const bases = [packageRoot, join(packageRoot, dirname(ref.doc))];
    if (!bases.some((base) => exists(base, segments))) stale.push(`${ref.doc}:${ref.line}: ${ref.path}`);
  }
  return { checked, stale };
}

/** Splits a shell line into words as sh would (quotes joined, then dropped), up to `#`, `|`, `;`, `&&` or a redirection. */
function words(line: string): string[] {
  const out: string[] = [];
  let word: string | null = null;
  for (const m of line.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\s+)|(&&|\|\||[|;]|(?<!\S)#|(?<!\S)[<>](?=\s|$)|\d?>&?\d?(?=\s))|([^\s'"]+)/g)) {
    if (m[4] !== undefined) break;
    if (m[3] !== undefined) {
      if (word !== null) out.push(word);
      word = null;
    } else word = (word ?? '') + (m[1] ?? m[2] ?? m[5] ?? '');
  }
  if (word !== null) out.push(word);
  return out;
}

const flagsOf = (command: Command): Set<string> =>
  new Set([...command.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => !!f), '--help', '-h']);

function staleInvocations(program: Command): { checked: number; stale: string[] } {
  const stale: string[] = [];
  let checked = 0;
  for (const { ref, m } of code.flatMap((ref) => [...ref.text.matchAll(INVOCATION)].map((m) => ({ ref, m })))) {
    // `[--json]` and `[--port 8080]` show optional parts; `…` and `<id>` stand for values.
    const tokens = words(m[1]!).map((w) => w.replace(/^\[+|\]+$/g, '')).filter((w) => w && !/^(\.\.\.|…)$/.test(w));
    checked += 1;
    const where = `${ref.doc}:${ref.line}: infra.operator ${m[1]!.trim()}`;
    // Descend through command and subcommand names; the first word that is neither ends it.
    let command: Command = program;
    let rest = tokens;
    let missing: string | undefined;
    for (let next = rest[0]; command.commands.length > 0 && next !== undefined && !/^[-<]/.test(next); next = rest[0]) {
      const child = command.commands.find((c) => c.name() === next || c.aliases().includes(next));
      if (!child) {
        missing = `no ${command === program ? 'command' : 'subcommand'} '${next}'${command === program ? '' : ` of '${command.name()}'`}`;
        break;
      }
      command = child;
      rest = rest.slice(1);
    }
    if (missing) {
      stale.push(`${where} (${missing})`);
      continue;
    }
    const known = command === program ? new Set([...flagsOf(program), '--version', '-V']) : flagsOf(command);
    const end = rest.indexOf('--');
    for (const token of end < 0 ? rest : rest.slice(0, end)) {
      if (!/^-[^-\d]|^--[^-]/.test(token)) continue;
      const flag = token.split('=')[0]!;
      if (!known.has(flag)) stale.push(`${where} (no flag ${flag} on '${command.name()}')`);
    }
  }
  return { checked, stale };
}

it('every repository path the docs name exists', () => {
  const { checked, stale } = stalePaths();
  assert.ok(checked >= 50, `the docs name ${checked} paths: the extraction broke`);
  assert.deepEqual(stale, [], `stale paths in the docs (relative to ${relative(process.cwd(), packageRoot) || '.'}):\n${stale.join('\n')}`);
});

it('every infra.operator command, subcommand and flag the docs name exists', async () => {
  const program = await cliProgram({ exitCode: EXIT.OK });
  const { checked, stale } = staleInvocations(program);
  assert.ok(checked >= 30, `the docs show ${checked} invocations: the extraction broke`);
  assert.deepEqual(stale, [], `stale commands in the docs:\n${stale.join('\n')}`);
});

it('every npm script the docs name exists', () => {
  const scripts = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const named = code.flatMap((ref) => [...ref.text.matchAll(NPM_SCRIPT)].map((m) => ({ ref, script: m[1]! })));
  assert.ok(named.length >= 2, 'the extraction broke');
  const stale = named.filter(({ script }) => !(script in scripts)).map(({ ref, script }) => `${ref.doc}:${ref.line}: npm run ${script}`);
  assert.deepEqual(stale, [], `stale npm scripts in the docs:\n${stale.join('\n')}`);
});

it('agent/README.md names every program the Makefile builds and every flag the programs parse', () => {
  const readme = readFileSync(join(packageRoot, 'agent', 'README.md'), 'utf8');
  const makefile = readFileSync(join(packageRoot, 'agent', 'Makefile'), 'utf8');
  const programs = [...(/^PROGS :=(.*)$/m.exec(makefile)?.[1] ?? '').matchAll(/\$\(OUT\)\/([\w-]+)/g)].map((m) => m[1]!);
  assert.ok(programs.length >= 5, `the Makefile builds ${programs.join(', ')}: the extraction broke`);
  const sources = readdirSync(join(packageRoot, 'agent', 'src')).filter((f) => f.endsWith('.c'));
  const flags = new Set(sources.flatMap((f) => [...readFileSync(join(packageRoot, 'agent', 'src', f), 'utf8').matchAll(/"(--[a-z][\w-]*)"/g)].map((m) => m[1]!)));
  assert.ok(flags.size >= 8, `the agent's sources parse ${[...flags].join(', ')}: the extraction broke`);
  const missing = [...programs.filter((p) => !readme.includes(`\`${p}\``)), ...[...flags].filter((f) => !new RegExp(`${f}(?![\\w-])`).test(readme))];
  assert.deepEqual(missing, [], 'agent/README.md does not document these');
});

it('the checks catch a stale path, command, subcommand and flag', async () => {
  const program = await cliProgram({ exitCode: EXIT.OK });
  assert.equal(exists(packageRoot, 'src/sandbox/<backend>/backend.ts'.split('/')), true);
  assert.equal(exists(packageRoot, 'src/sandbox/{bwrap,qemu}/plan.ts'.split('/')), true);
  assert.equal(exists(packageRoot, 'src/sandbox/<backend>/no-such-file.ts'.split('/')), false);
  assert.equal(isOutput('bench/results/'), true);
  assert.equal(isOutput('bench/run.ts'), false);
  assert.deepEqual(words(`run --code 'a b' --lang "c d" -- x # note`), ['run', '--code', 'a b', '--lang', 'c d', '--', 'x']);
  const before = code.length;
  code.push(
    { doc: 'fixture', line: 1, text: 'infra.operator runn --lang c' },
    { doc: 'fixture', line: 2, text: 'infra.operator rootfs bild --lang c' },
    { doc: 'fixture', line: 3, text: 'infra.operator run --lang c --no-such-flag' },
    { doc: 'fixture', line: 4, text: 'infra.operator rootfs build --lang c --force [--json] < in' },
    { doc: 'fixture', line: 5, text: 'npx infra.operator setup && npx infra.operator run --langs c' },
  );
  try {
    const stale = staleInvocations(program).stale.filter((s) => s.startsWith('fixture'));
    assert.equal(stale.length, 4, stale.join('\n'));
  } finally {
    code.length = before;
  }
});
