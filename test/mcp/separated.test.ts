import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startServerProcess } from '../../src/bench/server-process.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';
import { ok } from '../helpers/mcp.js';
import { SessionApi } from '../helpers/sessions.js';

/**
 * /mcp on a server started as root: the HTTP side (uid 65534) holds the service only over IPC, and
 * the MCP tools work through it as the REST routes do: one-shot runs, a session's files and cells,
 * and the end of the MCP session ending its sessions, with nothing left after the server stops.
 */
it('the MCP tools work over the privilege-separated server, and its sessions end with the MCP session', async () => {
  const server = await startServerProcess(['--backend', 'bwrap', '--pool-size', '0', '--api-key', 'key-a']);
  try {
    const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: 'Bearer key-a' } } });
    const client = new Client({ name: 'runner-codes-test', version: '1.0.0' });
    await client.connect(transport);
    assert.match((await ok(client, 'run_code', { language: 'python', code: 'print(6 * 7)' })).text, /--- stdout ---\n42\n/);
    const id = (await ok(client, 'create_session', { language: 'python' })).structured.id as string;
    await ok(client, 'write_file', { session_id: id, path: 'n.txt', content: '20' });
    assert.match((await ok(client, 'run_cell', { session_id: id, code: 'n = int(open("n.txt").read())' })).text, /no output/);
    assert.match((await ok(client, 'run_cell', { session_id: id, code: 'n + 1' })).text, /^21\n/);
    const rest = new SessionApi(server.url, 'key-a');
    assert.equal((await rest.get(id)).status, 200);
    await transport.terminateSession();
    await client.close();
    for (let i = 0; i < 200 && (await rest.get(id)).status !== 404; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await rest.get(id)).status, 404, 'the session ended with its MCP session');
  } finally {
    assert.equal(await server.stop(), 0);
  }
  assert.deepEqual(leftovers(), NOTHING_LEFT);
});
