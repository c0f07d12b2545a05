import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Type } from 'typebox';
import { packageRoot } from '../../config/paths.js';
import { ErrorCodes, RunnerError } from '../../errors.js';
import type { Api } from '../types.js';

/** Where `npm run build` puts the bundled browser playground (src/playground/bundle.mjs). */
const PLAYGROUND_DIR = join(packageRoot, 'dist', 'playground');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * SECURITY: the page runs only its own bundled script and styles and talks only to this origin.
 * Two narrow exceptions: `img-src data:`, because a cell's PNG comes back as base64 inside its JSON
 * result and is shown as a data: image (an image context runs no script, even for SVG); and a
 * per-response nonce for the <style> elements CodeMirror writes its theme into (EditorView.cspNonce),
 * since inline styles are otherwise refused. Program output is only ever inserted as text
 * (src/playground/dom.ts), never as markup.
 */
const contentSecurityPolicy = (nonce: string) => [
  "default-src 'none'",
  "script-src 'self'",
  `style-src 'self' 'nonce-${nonce}'`,
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // The page names its assets by content hash: it must be revalidated, they never change.
  'cache-control': 'no-cache',
};
const ASSET_HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'public, max-age=31536000, immutable' };

interface Bundle {
  /** The page, with `{{nonce}}` where each response puts its own. */
  page: string;
  assets: Map<string, { body: Buffer; type: string }>;
}

/** The built playground, read once into memory: requests never name a path on disk. Null when not built. */
function loadBundle(dir: string): Bundle | null {
  let manifest: { page: string; assets: string[] };
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch {
    return null;
  }
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const name of manifest.assets) {
    const type = CONTENT_TYPES[extname(name)];
    if (type) assets.set(name, { body: readFileSync(join(dir, name)), type });
  }
  return { page: readFileSync(join(dir, manifest.page), 'utf8'), assets };
}

const notBuilt = () => new RunnerError(ErrorCodes.NOT_FOUND, 'the web playground is not built here: run `npm run build`');

/** The web playground at `/` (docs/playground.md): a static page that calls this server's API. */
export async function playgroundRoutes(app: Api): Promise<void> {
  const bundle = loadBundle(PLAYGROUND_DIR);
  const open = { rateLimit: false } as const;
  app.get('/', { config: open, schema: { hide: true } }, async (_request, reply) => {
    if (!bundle) throw notBuilt();
    const nonce = randomBytes(16).toString('base64');
    reply.headers({ ...PAGE_HEADERS, 'content-security-policy': contentSecurityPolicy(nonce) }).type(CONTENT_TYPES['.html']!);
    return bundle.page.replaceAll('{{nonce}}', nonce);
  });
  app.get('/playground/:asset', { config: open, schema: { hide: true, params: Type.Object({ asset: Type.String({ maxLength: 128 }) }) } }, async (request, reply) => {
    const asset = bundle?.assets.get(request.params.asset);
    if (!asset) throw bundle ? new RunnerError(ErrorCodes.NOT_FOUND, `no playground asset '${request.params.asset}'`) : notBuilt();
    reply.headers(ASSET_HEADERS).type(asset.type);
    return asset.body;
  });
}
