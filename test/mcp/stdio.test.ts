import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { packageRoot } from '../../src/config/paths.js';
import { isProcessAlive, ownerOf } from '../../src/sandbox/names.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';
import { ok, toolTests } from '../helpers/mcp.js';
import { sandboxProcesses } from '../helpers/sandbox-procs.js';

/**
 * `infra.operator mcp`, the real CLI as a child process speaking MCP on stdio, driven by the SDK's
 * own Client with real sandboxes: the tools, a stdout that carries nothing but protocol, and the
 * sessions that end when the host closes the connection, leaving nothing behind.
 */
const CLI = join(packageRoot, 'dist', 'src', 'cli', 'index.js');

async function connect(): Promise<{ client: Client; transport: StdioClientTransport; stderr: () => string }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp'], env: process.env as Record<string, string>, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'runner-codes-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, stderr: () => stderr };
}

async function exited(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (isProcessAlive(pid) && Date.now() < deadline) await sleep(50);
  return !isProcessAlive(pid);
}

let main: Awaited<ReturnType<typeof connect>>;
let languages = '';
before(async () => {
  main = await connect();
  languages = (await ok(main.client, 'list_languages', {})).text;
});
after(async () => {
  const pid = main.transport.pid!;
  await main.client.close();
  assert.ok(await exited(pid, 15_000), 'the server exits when its host closes stdin');
  assert.deepEqual(leftovers(), NOTHING_LEFT);
});

describe('the MCP tools over stdio (infra.operator mcp)', () => {
  toolTests(() => main.client, (id) => new RegExp(`^${id} `, 'm').test(languages));

  it('lists installed languages with their versions and which take run_cell', () => {
    assert.match(languages, /^python 3\.\d+\.\d+ \(aliases: py, python3\) \[run_cell\]$/m);
    assert.match(languages, /^bash \d/m);
  });
});

describe('stdout carries nothing but protocol', () => {
  it('answers initialize and tools/list with JSON-RPC lines only, logs on stderr, and exits 0 at the end of stdin', async () => {
    const child = spawn(process.execPath, [CLI, 'mcp'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
    child.stdin.write(`${JSON.stringify(initialize)}\n${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'run_code', arguments: { language: 'python', code: 'print("hi")' } } })}\n`);
    const deadline = Date.now() + 30_000;
    while (stdout.split('\n').filter(Boolean).length < 2 && Date.now() < deadline) await sleep(50);
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const lines = stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 2, stdout);
    const messages = lines.map((line) => JSON.parse(line));
    assert.ok(messages.every((m) => m.jsonrpc === '2.0'));
    assert.equal(messages[0].result.serverInfo.name, 'runner-codes');
    assert.match(messages[1].result.content[0].text, /--- stdout ---\nhi\n/);
    assert.equal(code, 0);
  });
});

describe('sessions and the stdio connection', () => {
  it('end when the host closes the connection, kept alive or not: their sandboxes are gone', async () => {
    const other = await connect();
    const pid = other.transport.pid!;
    const tied = (await ok(other.client, 'create_session', { language: 'python' })).structured.id as string;
    const kept = (await ok(other.client, 'create_session', { language: 'python', keep_alive: true })).structured.id as string;
    assert.notEqual(tied, kept);
    await ok(other.client, 'run_in_session', { session_id: tied, command: ['sh', '-c', 'sleep 300 & echo started'] });
    const ofChild = (): number => sandboxProcesses(true).filter((p) => ownerOf(p.sandbox) === pid).length;
    assert.ok(ofChild() > 0, 'the sessions run sandboxes of the server process');
    await other.client.close();
    assert.ok(await exited(pid, 15_000), `the server exits with its connection (stderr: ${other.stderr()})`);
    assert.equal(ofChild(), 0);
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });
});
