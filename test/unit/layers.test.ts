import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../src/config/paths.js';

/*
 * The import rule of docs/architecture.md ("Layers"), checked over every import in src/: a file
 * imports only from its own layer or one below it, never up or sideways, and no files import each
 * other in a circle (type-only imports count too: a circle of types is still a circle to read).
 */

/** The layers, one row each from the top: a file may import only from rows below its own; the layers of one row are siblings and do not import each other. */
const ROWS: readonly (readonly string[])[] = [
  ['index.ts', 'cli', 'client'],
  ['api', 'bench'],
  ['mcp', 'queue'],
  ['compose'],
  ['engine', 'host'],
  ['sandbox'],
  ['images'],
  ['languages', 'protocol'],
  ['config', 'errors.ts', 'safe-text.ts'],
];
/** The CLI is the process entry: its `api` command starts the HTTP edge. The one edge that may call another. */
const EDGE_STARTS: readonly [from: string, to: string][] = [['cli', 'api']];
/** The backends' folders in src/sandbox/: none imports another's, and only the registry loads them. */
const BACKEND_FOLDERS = ['bwrap', 'qemu', 'firecracker'];
/** What the engine may use of src/sandbox/: the contract, not any backend's insides nor the registry that opens them. */
const SANDBOX_CONTRACT = ['backend.ts', 'limits.ts', 'workdir.ts', 'agent-session.ts'];
/** Opening backends is wiring: done by the composition root (src/compose/), which hands them to the engine. */
const REGISTRY = 'sandbox/registry.ts';
const OPENS_BACKENDS = ['compose', 'sandbox'];
/** The HTTP client (src/client/) is an edge of its own that runs in browsers: of the server it reads only the schemas, as types. */
const CLIENT_READS = (to: string): boolean => to.startsWith('api/schemas/') || to === 'engine/result-schema.ts' || to === 'errors.ts';
/** Browser code (the web playground, bundled into the page): it imports only its own folder, and no server file imports it. */
const BROWSER = 'playground';

const srcDir = join(packageRoot, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [relative(srcDir, path).split('\\').join('/')] : [];
  });
}

export interface ImportEdge {
  /** Importing file, relative to src/. */
  from: string;
  line: number;
  /** Imported file, relative to src/ (`.js` specifiers name their `.ts` source). */
  to: string;
  /** `import('…')`: loaded when called, not when the importer loads. */
  lazy: boolean;
}

const STATIC = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm;
const DYNAMIC = /import\(\s*'([^']+)'\s*\)/g;

/** Every relative import of one file: `import … from`, `export … from`, bare `import '…'` and `import('…')`. */
export function importsOf(file: string, text: string): ImportEdge[] {
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  const edges: ImportEdge[] = [];
  for (const [pattern, lazy] of [[STATIC, false], [DYNAMIC, true]] as const) {
    for (const match of text.matchAll(pattern)) {
      const specifier = match[1]!;
      if (!specifier.startsWith('.')) continue;
      const to = posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.ts');
      edges.push({ from: file, line: lineAt(match.index! + match[0].lastIndexOf(specifier)), to, lazy });
    }
  }
  return edges;
}

/** The top-level layer of a file under src/: its first folder, or the file itself at the top. */
export function layerOf(file: string): string {
  return file.split('/')[0]!;
}

/** How high a layer sits: the number of rows below it. */
const rankOf = (layer: string): number | undefined => {
  const row = ROWS.findIndex((r) => r.includes(layer));
  return row < 0 ? undefined : ROWS.length - 1 - row;
};
const backendOf = (file: string): string | undefined => {
  const [top, folder] = file.split('/');
  return top === 'sandbox' && folder && BACKEND_FOLDERS.includes(folder) ? folder : undefined;
};

/** Why one import breaks the rule, or null when it keeps it. */
export function violation({ from, to, lazy }: ImportEdge): string | null {
  const [a, b] = [layerOf(from), layerOf(to)];
  if ((a === BROWSER) !== (b === BROWSER)) {
    return a === BROWSER ? `browser code (src/${BROWSER}/) imports server code` : `server code imports the browser's src/${BROWSER}/`;
  }
  if (a === BROWSER) return null;
  const [ra, rb] = [rankOf(a), rankOf(b)];
  if (ra === undefined) return `${a} is in no layer (add it to docs/architecture.md and ROWS)`;
  if (rb === undefined) return `${b} is in no layer (add it to docs/architecture.md and ROWS)`;
  if (a === b) {
    const [ba, bb] = [backendOf(from), backendOf(to)];
    if (bb && ba !== bb && !(from === 'sandbox/registry.ts' && lazy)) {
      return ba ? `the ${ba} backend reaches into the ${bb} backend's folder` : `only sandbox/registry.ts loads a backend's folder (lazily)`;
    }
    return null;
  }
  if (to === REGISTRY && !OPENS_BACKENDS.includes(a)) return `only the composition root (src/compose/) opens backends through ${REGISTRY}`;
  if (EDGE_STARTS.some(([x, y]) => x === a && y === b)) return null;
  if (a === 'client' && !CLIENT_READS(to)) return `the client reads only the server's schemas (api/schemas/, engine/result-schema.ts, errors.ts), not ${to}`;
  if (rb > ra) return `${a} imports up, from ${b}`;
  if (rb === ra) return `${a} imports sideways, from its sibling ${b}`;
  if (a === 'engine' && b === 'sandbox' && !SANDBOX_CONTRACT.includes(to.slice('sandbox/'.length))) {
    return `the engine uses only the sandbox contract (${SANDBOX_CONTRACT.join(', ')}), not ${to}`;
  }
  return null;
}

/** Import circles among files, lazy import() included: a circle a reader must follow is one even when it loads late. */
export function cycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const to of next.get(file) ?? []) {
      if (state.get(to) === 'open') found.push([...stack.slice(stack.indexOf(to)), to]);
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...next.keys()].sort()) if (!state.has(file)) visit(file);
  return found;
}

describe('the import rule (docs/architecture.md, "Layers")', () => {
  const files = sourceFiles(srcDir);
  const edges = files.flatMap((file) => importsOf(file, readFileSync(join(srcDir, file), 'utf8')));

  it('reads the imports of every source file, multi-line and lazy ones too', () => {
    assert.ok(files.length > 100, `only ${files.length} files under ${srcDir}`);
    const sample = "import {\n  a,\n  b,\n} from './x.js';\nexport type { C } from '../y/z.js';\nconst m = await import('../w.js');\nimport 'node:fs';\n";
    assert.deepEqual(importsOf('engine/f.ts', sample), [
      { from: 'engine/f.ts', line: 4, to: 'engine/x.ts', lazy: false },
      { from: 'engine/f.ts', line: 5, to: 'y/z.ts', lazy: false },
      { from: 'engine/f.ts', line: 6, to: 'w.ts', lazy: true },
    ]);
    for (const e of edges) assert.ok(files.includes(e.to), `${e.from}:${e.line} imports ${e.to}, which is not a source file`);
  });

  it('judges imports up, sideways and across backend folders as violations', () => {
    const edge = (from: string, to: string, lazy = false): ImportEdge => ({ from, line: 1, to, lazy });
    assert.match(violation(edge('sandbox/backend.ts', 'engine/limits.ts'))!, /imports up/);
    assert.match(violation(edge('engine/job.ts', 'host/setup.ts'))!, /sideways/);
    assert.match(violation(edge('sandbox/qemu/backend.ts', 'sandbox/bwrap/plan.ts'))!, /bwrap backend's folder/);
    assert.match(violation(edge('engine/job.ts', 'sandbox/bwrap/plan.ts'))!, /sandbox contract/);
    assert.match(violation(edge('sandbox/registry.ts', 'sandbox/qemu/open.ts'))!, /lazily/);
    assert.match(violation(edge('engine/engine.ts', 'sandbox/registry.ts'))!, /composition root/);
    assert.match(violation(edge('api/server.ts', 'sandbox/registry.ts'))!, /composition root/);
    assert.match(violation(edge('engine/service.ts', 'compose/open-service.ts'))!, /imports up/);
    assert.match(violation(edge('client/session.ts', 'engine/sessions/session-service.ts'))!, /client reads only the server's schemas/);
    assert.match(violation(edge('client/session.ts', 'api/routes/sessions.ts'))!, /client reads only the server's schemas/);
    assert.equal(violation(edge('client/types.ts', 'api/schemas/sessions.ts')), null);
    assert.equal(violation(edge('compose/open-engine.ts', 'sandbox/registry.ts')), null);
    assert.equal(violation(edge('cli/commands/run.ts', 'compose/open-service.ts')), null);
    assert.equal(violation(edge('sandbox/registry.ts', 'sandbox/qemu/open.ts', true)), null);
    assert.equal(violation(edge('cli/commands/api.ts', 'api/server.ts', true)), null);
    assert.equal(violation(edge('sandbox/qemu/backend.ts', 'sandbox/vm-backend.ts')), null);
    assert.match(violation(edge('playground/main.ts', 'api/types.ts'))!, /browser code/);
    assert.match(violation(edge('api/routes/playground.ts', 'playground/api.ts'))!, /server code imports/);
    assert.equal(violation(edge('playground/main.ts', 'playground/api.ts')), null);
    assert.deepEqual(cycles([edge('a.ts', 'b.ts'), edge('b.ts', 'a.ts')]), [['a.ts', 'b.ts', 'a.ts']]);
  });

  it('every import in src/ points down (or stays in its layer)', () => {
    const broken = edges.flatMap((e) => {
      const why = violation(e);
      return why ? [`src/${e.from}:${e.line} imports src/${e.to}: ${why}`] : [];
    });
    assert.deepEqual(broken, [], `imports against the layer rule:\n${broken.join('\n')}`);
  });

  it('no files import each other in a circle', () => {
    const circles = cycles(edges).map((c) => c.map((f) => `src/${f}`).join(' -> '));
    assert.deepEqual(circles, [], `import circles:\n${circles.join('\n')}`);
  });
});

/*
 * `runner-codes/client` runs in browsers: what it loads must be fetch-only code. Checked on the
 * built JavaScript (what a bundler or Node actually loads, type imports erased) and on the sources'
 * imports including types (what its .d.ts files make a TypeScript user read).
 */

/** Every module specifier of a file, relative or bare, static or lazy (the patterns importsOf reads). */
function specifiersOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [STATIC, DYNAMIC].flatMap((pattern) => [...text.matchAll(pattern)].map((m) => m[1]!));
}

/** Every file reachable from `entry` through relative imports, and every bare specifier met on the way. */
function graphOf(entry: string, resolveFile: (from: string, specifier: string) => string): { files: string[]; bare: Map<string, string> } {
  const files = new Set<string>();
  const bare = new Map<string, string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const specifier of specifiersOf(file)) {
      if (specifier.startsWith('.')) visit(resolveFile(file, specifier));
      else bare.set(specifier, file);
    }
  };
  visit(entry);
  return { files: [...files], bare };
}

describe('the client (runner-codes/client) loads no server code and no Node module', () => {
  it('its built JavaScript imports only its own files: no node: module, no package, no server file', () => {
    const dist = join(packageRoot, 'dist', 'src');
    const entry = join(dist, 'client', 'index.js');
    assert.ok(existsSync(entry), `${entry} is built`);
    const { files, bare } = graphOf(entry, (from, specifier) => resolve(dirname(from), specifier));
    const outside = files.map((f) => relative(dist, f)).filter((f) => !f.startsWith('client/'));
    assert.deepEqual(outside, [], 'the client loads server files');
    assert.deepEqual([...bare.keys()], [], `the client loads packages or Node modules: ${[...bare].map(([s, f]) => `${s} (from ${relative(dist, f)})`).join(', ')}`);
    assert.ok(files.length >= 5, `followed ${files.length} files`);
  });

  it('its types read only the schemas, which import only typebox and each other', () => {
    const src = join(packageRoot, 'src');
    const { files, bare } = graphOf(join(src, 'client', 'index.ts'), (from, specifier) => resolve(dirname(from), specifier.replace(/\.js$/, '.ts')));
    const read = files.map((f) => relative(src, f)).filter((f) => !f.startsWith('client/'));
    assert.ok(read.includes('engine/result-schema.ts') && read.includes('api/schemas/sessions.ts'), `the types come from the schemas: ${read.join(', ')}`);
    // The schemas' own imports: the backend names their `backend` field lists, nothing that runs the server.
    const beyond = read.filter((f) => !CLIENT_READS(f) && f !== 'sandbox/backend-names.ts');
    assert.deepEqual(beyond, [], 'the client\'s types reach past the schemas');
    assert.deepEqual([...bare.keys()], ['typebox'], 'packages or Node modules behind the client\'s types');
  });
});
