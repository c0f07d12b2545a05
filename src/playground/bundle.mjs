// Bundles the browser playground (src/playground/) into dist/playground/ with esbuild: one script
// and one stylesheet with content hashes in their names (served as immutable), the page that names
// them, and manifest.json, the list of files the API server serves (src/api/routes/playground.ts).
// Everything comes from node_modules at build time: the page loads nothing from any other origin.
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const outdir = join(root, 'dist', 'playground');

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await build({
  entryPoints: { app: join(here, 'main.ts'), style: join(here, 'style.css') },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  legalComments: 'linked',
  entryNames: '[name]-[hash]',
  outdir,
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
const script = outputs.find((name) => name.startsWith('app-') && name.endsWith('.js'));
const style = outputs.find((name) => name.startsWith('style-') && name.endsWith('.css'));
if (!script || !style) throw new Error(`esbuild wrote no app script or stylesheet: ${outputs.join(', ')}`);
const page = (await readFile(join(here, 'index.html'), 'utf8')).replace('{{script}}', script).replace('{{style}}', style);
await writeFile(join(outdir, 'index.html'), page);
await writeFile(join(outdir, 'manifest.json'), JSON.stringify({ page: 'index.html', assets: outputs.sort() }, null, 2) + '\n');
