import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';
import { get, post, testServer } from '../helpers/server.js';
import type { Api } from '../../src/api/types.js';

const { base } = await testServer({ apiKeys: ['key-one', 'key-two'], rateLimit: 5 });
const job = { language: 'bash', code: 'echo ok' };

describe('API keys', () => {
  it('refuses a request without a key: 401 E004', async () => {
    const r = await post(base, '/api/v1/execute', job);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'RC_ERR_API_KEY_MISSING');
    assert.equal(r.body.error.legacy_code, 'E004');
    const run = await post(base, '/api/v1/run', { language: 'bash', files: [{ name: 'a.sh', content: 'true' }] });
    assert.deepEqual([run.status, run.body.code], [401, 'E004']);
  });

  it('refuses a wrong key: 401 E003', async () => {
    const r = await post(base, '/api/v1/execute', job, { authorization: 'Bearer nope' });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.legacy_code, 'E003');
  });

  it('accepts a key as Bearer token or X-API-Key', async () => {
    assert.equal((await post(base, '/api/v1/execute', job, { authorization: 'Bearer key-one' })).body.stdout, 'ok\n');
    assert.equal((await post(base, '/api/v1/execute', job, { 'x-api-key': 'key-two' })).body.stdout, 'ok\n');
  });

  it('leaves health open', async () => {
    assert.equal((await get(base, '/health')).status, 200);
  });
});

describe('per-key rate limit', () => {
  it('answers 429 E002 with Retry-After past the limit, per key', async () => {
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 6; i++) {
      const r = await get(base, '/api/v1/languages', { authorization: 'Bearer key-one' });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    // key-one made 2 requests above already; its 5-per-minute budget runs out within these 6.
    assert.ok(statuses.includes(429), statuses.join(','));
    assert.equal(limited!.body.error.code, 'RC_ERR_RATE_LIMITED');
    assert.equal(limited!.body.error.legacy_code, 'E002');
    assert.match(limited!.headers.get('retry-after') ?? '', /^\d+$/);
    const other = await get(base, '/api/v1/languages', { 'x-api-key': 'key-two' });
    assert.equal(other.status, 200, 'another key has its own budget');
  });
});

// ---------------------------------------------------------------------------------------------
// Every route the app serves, against every spelling of its request target. The routes come from
// the app's own router, so a route added later is covered (and must be declared open below, or it
// is expected to need a key). Requests go over a raw socket: the target is sent exactly as written.

/** The routes that need no key (the playground's page at / and its assets too). Everything else the router serves must answer 401 without one. */
const OPEN = /^\/(health|ready|metrics|openapi\.json|docs(\/.*)?|playground\/:asset)?$/;

/** Request bodies that run `echo ok` on each executing route; any other POST route gets `{}`. */
const BODIES: Record<string, unknown> = {
  '/api/v1/execute': job,
  '/api/v1/run': { language: 'bash', files: [{ name: 'a.sh', content: 'echo ok' }] },
  '/api/v2/execute': { language: 'bash', version: '*', files: [{ content: 'echo ok' }] },
  '/api/v1/sessions/:id/execute': { command: ['echo', 'ok'] },
};
/** Bodies of the other POST routes that need one to succeed. */
const CREATE_BODIES: Record<string, unknown> = {
  '/api/v1/sessions': { language: 'bash' },
  '/api/v1/sessions/:id/run_code': { code: '6 * 7' },
  '/api/v1/submissions': job,
  '/mcp': { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'auth-test', version: '1' } } },
};
/** Headers a route needs to succeed besides the key (MCP's Streamable HTTP asks for both media types). */
const ROUTE_HEADERS: Record<string, Record<string, string>> = { '/mcp': { accept: 'application/json, text/event-stream' } };

interface Route {
  path: string;
  methods: string[];
}

/** Reads the routes from the router's own listing (`printRoutes`: a tree of path segments). */
function routesOf(app: Api): Route[] {
  const stack: string[] = [];
  const routes: Route[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    stack.length = m[1]!.length / 4;
    stack.push(m[2]!);
    if (m[3]) routes.push({ path: stack.join(''), methods: m[3].split(', ') });
  }
  return routes;
}

/** The session the session routes' `:id` names (created with key-one before the routes are tried). */
let sessionId = '';
/** The submission the submission routes' `:token` names (likewise). */
let submissionToken = '';

/** A request path for the route pattern: parameters get a real value. */
const concrete = (pattern: string): string => pattern.replace(/\/sessions\/:id/, `/sessions/${sessionId}`).replace(/\/submissions\/:token/, `/submissions/${submissionToken}`).replace(/:\w+/g, 'bash').replace(/\*/g, 'x');

const encode = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/** Spellings the router resolves to the route itself: each must be refused with 401. */
function matchingTargets(path: string, port: number): string[] {
  const targets = [path, `${path}?x=1`, `${path}?api_key=key-one`, `${path}?`];
  for (let i = 0; i < path.length; i++) {
    if (path[i] === '/') continue;
    targets.push(path.slice(0, i) + encode(path[i]!) + path.slice(i + 1));
    if (/[a-z]/.test(path[i]!)) targets.push(path.slice(0, i) + encode(path[i]!).toLowerCase() + path.slice(i + 1));
  }
  const everyChar = path.replace(/[^/]/g, encode);
  targets.push(everyChar);
  for (const authority of [`127.0.0.1:${port}`, 'x', 'localhost', `[::1]:${port}`]) {
    targets.push(`http://${authority}${path}`, `http://${authority}${everyChar}`, `http://${authority}${path}?x=1`);
  }
  return targets;
}

/** Spellings the router may or may not resolve: each must be refused (401) or not found (404/400). */
function otherTargets(path: string, port: number): string[] {
  const segments = path.split('/');
  return [
    `/${path}`,
    path.replace(/\//g, '//'),
    `${path}/`,
    `${path}//`,
    path.toUpperCase(),
    path.replace(/\/(\w)/g, (_m, c: string) => `/${c.toUpperCase()}`),
    `${path};x=1`,
    segments.map((s, i) => (i === 1 ? `${s};x` : s)).join('/'),
    `/x/..${path}`,
    `/.${path}`,
    path.replace(/\/v/, '/./v'),
    path.replace(/\//g, '%2F'),
    path.replace(/\//g, '%2f'),
    path.replace(/[^/]/, (c) => `%25${encode(c).slice(1)}`),
    `${path}%00`,
    `${path}%20`,
    `${path}#x`,
    `${path}.json`,
    `HTTP://X${path}`,
    `https://x${path}`,
    `http://x:1${path}`,
    `http://user:pw@x${path}`,
    `//127.0.0.1:${port}${path}`,
    `http://x//${path}`,
    `http://x${path}/`,
  ];
}

interface RawReply {
  status: number;
  body: string;
}

/** One request over its own connection, the target sent verbatim. */
function raw(port: number, method: string, target: string, headers: Record<string, string> = {}, body?: unknown): Promise<RawReply> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const head = [
    `${method} ${target} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Connection: close',
    ...(body === undefined ? [] : ['Content-Type: application/json', `Content-Length: ${Buffer.byteLength(payload)}`]),
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(text);
      if (!status) return reject(new Error(`${method} ${target}: no HTTP reply: ${JSON.stringify(text.slice(0, 200))}`));
      resolve({ status: Number(status[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
    // Not end(): a half-closed connection is a client gone away, and the server cancels its execution.
    socket.write(`${head}\r\n\r\n${payload}`);
  });
}

async function executions(url: string): Promise<number> {
  const metrics = (await get(url, '/metrics')).text;
  return [...metrics.matchAll(/^runner_codes_executions_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

// No rate limit on this server: the budget above would run out long before these requests do. No pool
// either: each server's teardown checks the host for leftover sandboxes while the other still runs.
const server = await testServer({ apiKeys: ['key-one'], poolSize: 0 });
sessionId = (await post(server.url, '/api/v1/sessions', { language: 'python' }, { 'x-api-key': 'key-one' })).body.id;
submissionToken = (await post(server.url, '/api/v1/submissions', job, { 'x-api-key': 'key-one' })).body.token;
// Finished before the first count of executions is taken.
await get(server.url, `/api/v1/submissions/${submissionToken}?wait=true`, { 'x-api-key': 'key-one' });

describe('every protected route, every spelling of its path', async () => {
  // The first server's teardown checks the host while this one runs: its sessions must be gone by then.
  after(async () => {
    const keyed = { 'x-api-key': 'key-one' };
    const { sessions } = (await get(server.url, '/api/v1/sessions', keyed)).body as { sessions: { id: string }[] };
    await Promise.all(sessions.map((s) => fetch(`${server.url}/api/v1/sessions/${s.id}`, { method: 'DELETE', headers: keyed })));
  });
  const port = Number(new URL(server.url).port);
  const routes = routesOf(server.app);
  const isProtected = (route: Route): boolean => !OPEN.test(route.path);
  const protectedRoutes = routes.filter(isProtected);

  it("reads the router's routes", () => {
    const paths = routes.map((r) => r.path);
    for (const known of ['/health', '/api/v1/execute', '/api/v1/run', '/api/v1/languages/:id', '/api/v1/pool', '/api/v2/runtimes', '/api/v2/execute']) {
      assert.ok(paths.includes(known), `${known} missing from ${paths.join(' ')}`);
    }
  });

  it('refuses every spelling without a key (401, or 404/400 where nothing matches) and runs nothing', async () => {
    const before = await executions(server.url);
    const wrong: string[] = [];
    let tried = 0;
    for (const route of protectedRoutes) {
      const path = concrete(route.path);
      for (const method of new Set([...route.methods, 'HEAD', 'OPTIONS', 'GET', 'POST'])) {
        const routed = route.methods.includes(method);
        const body = method === 'POST' ? (BODIES[route.path] ?? {}) : undefined;
        for (const target of matchingTargets(path, port)) {
          const reply = await raw(port, method, target, {}, body);
          tried++;
          // A method the route lacks is simply not found; one it has must meet the key check.
          if (routed ? reply.status !== 401 : ![401, 404].includes(reply.status)) wrong.push(`${method} ${target} -> ${reply.status}`);
        }
        for (const target of otherTargets(path, port)) {
          const reply = await raw(port, method, target, {}, body);
          tried++;
          if (![400, 401, 404].includes(reply.status)) wrong.push(`${method} ${target} -> ${reply.status}`);
        }
      }
    }
    assert.deepEqual(wrong, [], `${wrong.length} of ${tried} keyless requests were not refused`);
    assert.equal(await executions(server.url), before, 'a keyless request ran a program');
  });

  it('serves every protected route, in each matching spelling, with a valid key', async () => {
    const before = await executions(server.url);
    const failed: string[] = [];
    for (const route of protectedRoutes) {
      const path = concrete(route.path);
      const method = route.methods.includes('POST') ? 'POST' : 'GET';
      const body = method === 'POST' ? (BODIES[route.path] ?? CREATE_BODIES[route.path] ?? {}) : undefined;
      for (const target of [path, path.replace(/[a-z]/, encode), `http://127.0.0.1:${port}${path}`]) {
        const reply = await raw(port, method, target, { 'x-api-key': 'key-one', ...ROUTE_HEADERS[route.path] }, body);
        // A WebSocket route passed the key check when it asks for the upgrade (426): its sockets are tested in *-connect.test.ts.
        const ok = route.path.endsWith('/connect') ? reply.status === 426 : [200, 201].includes(reply.status) && (BODIES[route.path] === undefined || reply.body.includes('ok\\n'));
        if (!ok) failed.push(`${method} ${target} -> ${reply.status} ${reply.body.slice(0, 200)}`);
      }
    }
    assert.deepEqual(failed, []);
    const executing = protectedRoutes.filter((r) => BODIES[r.path] !== undefined).length;
    assert.equal(executing, Object.keys(BODIES).length, 'every executing route is among the protected ones');
    // Each spelling of POST /api/v1/submissions queued one more execution, which runs after its 201.
    const expected = before + executing * 3 + 3;
    for (let i = 0; i < 200 && (await executions(server.url)) < expected; i++) await sleep(50);
    assert.equal(await executions(server.url), expected);
  });

  it('leaves the open routes open', async () => {
    // A parameter's value is the route's own (a playground asset's hashed name: test/api/playground.test.ts).
    for (const route of routes.filter((r) => !isProtected(r) && !r.path.includes('*') && !r.path.includes(':'))) {
      const reply = await raw(port, 'GET', route.path);
      assert.ok(reply.status < 400 || (route.path === '/ready' && reply.status === 503), `${route.path} -> ${reply.status}`);
    }
  });

  it('documents in OpenAPI exactly the key requirement it enforces', async () => {
    const doc = (await get(server.url, '/openapi.json')).body;
    const documented: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>)) {
      const pattern = path.replace(/\{(\w+)\}/g, ':$1');
      const route = routes.find((r) => r.path === pattern);
      assert.ok(route, `documented ${path} is not a route`);
      for (const [method, operation] of Object.entries(operations)) {
        documented.push(`${method} ${pattern}`);
        assert.ok(Array.isArray(operation.security), `${method} ${path} has no security requirement`);
        assert.equal(operation.security.length > 0, isProtected(route), `${method} ${path}: documented security ${JSON.stringify(operation.security)}`);
      }
    }
    assert.ok(documented.includes('post /api/v2/execute') && documented.includes('get /health'), documented.join(', '));
  });
});
