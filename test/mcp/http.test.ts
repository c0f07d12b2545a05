import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { getLanguage } from '../../src/languages/lookup.js';
import { DEFAULT_MCP_HTTP_OPTIONS, McpHttpEndpoint } from '../../src/mcp/http-endpoint.js';
import { testServer } from '../helpers/server.js';
import { SessionApi } from '../helpers/sessions.js';
import { call, ok, toolTests } from '../helpers/mcp.js';

/**
 * The MCP server at /mcp of a real API server on loopback (Streamable HTTP), driven by the SDK's own
 * Client, with real sandboxes: the tools, the API key in front of it, the rate limit, MCP sessions
 * that belong to their key, and sessions that end with their MCP connection unless kept alive.
 */
const server = await testServer({ apiKeys: ['key-a', 'key-b'] });
// Closed after the first (hooks run in order): neither sees the other's sandboxes when it checks for leftovers.
const limited = await testServer({ apiKeys: ['key-r'], rateLimit: 3, poolSize: 0 });
const endpoint = new URL(`${server.base}/mcp`);
const ownerOf = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 12);

async function connect(key: string | undefined): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: key ? { authorization: `Bearer ${key}` } : {} } });
  const client = new Client({ name: 'runner-codes-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

let main: { client: Client; transport: StreamableHTTPClientTransport };
before(async () => {
  main = await connect('key-a');
});
after(async () => {
  await main.client.close();
});

describe('the MCP tools over Streamable HTTP', () => {
  toolTests(() => main.client, (id) => server.service.images.manifest(getLanguage(id).image) !== null);
});

describe('/mcp behind the API keys', () => {
  it('refuses a request without a key or with a wrong one (401), like every keyed route', async () => {
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
    const reply = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(initialize) });
    assert.equal(reply.status, 401);
    assert.equal(((await reply.json()) as any).error.code, 'RC_ERR_API_KEY_MISSING');
    await assert.rejects(connect('wrong-key'), /401|invalid access_token/);
  });

  it("one key's MCP session is no other key's: its id is unknown to them", async () => {
    const id = main.transport.sessionId!;
    assert.ok(id);
    const list = { jsonrpc: '2.0', id: 9, method: 'tools/list' };
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' };
    const stranger = await fetch(endpoint, { method: 'POST', headers: { ...headers, authorization: 'Bearer key-b' }, body: JSON.stringify(list) });
    assert.equal(stranger.status, 404);
    const own = await fetch(endpoint, { method: 'POST', headers: { ...headers, authorization: 'Bearer key-a' }, body: JSON.stringify(list) });
    assert.equal(own.status, 200);
    assert.equal(((await own.json()) as any).result.tools.length, 9);
  });
});

describe('the MCP connections of one key', () => {
  it('are capped (429 past 32), and a DELETE frees one', async () => {
    const headers = { authorization: 'Bearer key-b', 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cap', version: '1' } } });
    const open = async (): Promise<{ status: number; id: string | null }> => {
      const reply = await fetch(endpoint, { method: 'POST', headers, body: initialize });
      await reply.arrayBuffer();
      return { status: reply.status, id: reply.headers.get('mcp-session-id') };
    };
    const end = (id: string): Promise<Response> => fetch(endpoint, { method: 'DELETE', headers: { authorization: 'Bearer key-b', 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' } });
    const ids: string[] = [];
    for (let i = 0; i < 32; i++) {
      const opened = await open();
      assert.equal(opened.status, 200);
      ids.push(opened.id!);
    }
    assert.equal((await open()).status, 429);
    assert.equal((await end(ids.pop()!)).status, 200);
    const again = await open();
    assert.equal(again.status, 200);
    ids.push(again.id!);
    // Another key is not held back by this one's connections.
    assert.equal((await connect('key-a').then(async ({ client }) => (await client.close(), 'connected'))), 'connected');
    for (const id of ids) assert.equal((await end(id)).status, 200);
  });
});

describe('sessions and the MCP connection', () => {
  it('end with the connection unless kept alive; a kept one serves another connection of the key', async () => {
    const rest = new SessionApi(server.base, 'key-a');
    const other = await connect('key-a');
    const tied = (await ok(other.client, 'create_session', { language: 'python' })).structured.id as string;
    const kept = (await ok(other.client, 'create_session', { language: 'python', keep_alive: true })).structured.id as string;
    await ok(other.client, 'write_file', { session_id: kept, path: 'note.txt', content: 'kept' });
    const before = (await rest.list()).body.sessions.map((s: { id: string }) => s.id);
    assert.ok(before.includes(tied) && before.includes(kept));

    await other.transport.terminateSession();
    await other.client.close();
    const deadline = Date.now() + 10_000;
    while ((await rest.get(tied)).status !== 404 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await rest.get(tied)).status, 404, 'the tied session ended with its connection');
    assert.equal((await rest.get(kept)).status, 200, 'the kept one lives on');
    assert.equal((await ok(main.client, 'read_file', { session_id: kept, path: 'note.txt' })).text, 'kept');
    const stranger = await connect('key-b');
    assert.equal((await call(stranger.client, 'read_file', { session_id: kept, path: 'note.txt' })).isError, true, "another key's connection cannot use it");
    await stranger.client.close();
    await ok(main.client, 'close_session', { session_id: kept });
    assert.deepEqual(await server.service.sessions.list(ownerOf('key-a')), []);
  });
});

describe('an idle MCP connection', () => {
  it('ends once unused past its idle time, and its sessions with it', async () => {
    // The endpoint /mcp mounts, with a short idle time, on a plain HTTP server on loopback over the same service.
    const owner = 'idle-test';
    const idle = new McpHttpEndpoint(server.service, { ...DEFAULT_MCP_HTTP_OPTIONS, idleMs: 300, log: () => undefined });
    const http = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => void idle.handle(req, res, body === '' ? undefined : JSON.parse(body), owner));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const client = new Client({ name: 'runner-codes-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`)));
      const id = (await ok(client, 'create_session', { language: 'python' })).structured.id as string;
      assert.deepEqual((await server.service.sessions.list(owner)).map((s) => s.id), [id]);
      for (let i = 0; i < 100 && (await server.service.sessions.list(owner)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(await server.service.sessions.list(owner), [], 'the session ended with its idle connection');
      await assert.rejects(client.listTools(), /404|not found/i, 'the connection is gone');
      await client.close();
    } finally {
      await idle.close();
      await new Promise((resolve) => http.close(resolve));
    }
  });
});

describe('/mcp behind the rate limit', () => {
  it('answers 429 past the per-key quota, as every keyed route does', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const reply = await fetch(`${limited.base}/mcp`, { method: 'POST', headers: { authorization: 'Bearer key-r', 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
      statuses.push(reply.status);
      await reply.arrayBuffer();
    }
    assert.deepEqual(statuses, [400, 400, 400, 429, 429]);
  });
});
