import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageRoot } from '../../src/config/paths.js';
import { testServer } from '../helpers/server.js';

/**
 * docs/mcp.md's examples run as documented: the stdio transcript is replayed through the real
 * `infra.operator mcp`, the curl example against a real server, and the host configurations name
 * the real command. Documented fields must match; fields a doc leaves out, `"…"` and times are free.
 */
const doc = readFileSync(join(packageRoot, 'docs', 'mcp.md'), 'utf8');
const CLI = join(packageRoot, 'dist', 'src', 'cli', 'index.js');
const run = promisify(execFile);
const server = await testServer({ apiKeys: ['my-secret-key'] });

const volatile = (text: string): string => text.replace(/time: [\d.]+ ms/g, 'time: N ms');

/** Every field `documented` gives equals `actual`'s (objects: the documented keys; "…": anything). */
function assertDocumented(actual: unknown, documented: unknown, at: string): void {
  if (documented === '…') return;
  if (typeof documented === 'string') return assert.equal(volatile(String(actual)), volatile(documented), at);
  if (Array.isArray(documented)) {
    assert.ok(Array.isArray(actual) && actual.length === documented.length, `${at}: ${JSON.stringify(actual)}`);
    documented.forEach((item, i) => assertDocumented((actual as unknown[])[i], item, `${at}[${i}]`));
    return;
  }
  if (documented !== null && typeof documented === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${at}: ${JSON.stringify(actual)}`);
    for (const [key, value] of Object.entries(documented)) assertDocumented((actual as Record<string, unknown>)[key], value, `${at}.${key}`);
    return;
  }
  assert.equal(actual, documented, at);
}

it('the stdio transcript answers as documented, line for line', async () => {
  const transcript = /```mcp\n([\s\S]*?)```/.exec(doc)![1]!.split('\n').filter(Boolean);
  const sent = transcript.filter((line) => line.startsWith('→ ')).map((line) => line.slice(2));
  const expected = transcript.filter((line) => line.startsWith('← ')).map((line) => JSON.parse(line.slice(2)));
  assert.ok(sent.length >= 4 && expected.length >= 3);
  const child = spawn(process.execPath, [CLI, 'mcp'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stdin.end(sent.join('\n') + '\n');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const answers = new Map(stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line)).map((m) => [m.id, m]));
  assert.equal(answers.size, expected.length, stdout);
  for (const want of expected) assertDocumented(answers.get(want.id), want, `reply ${want.id}`);
  assert.equal(code, 0);
});

it('the curl example over HTTP answers as documented', async () => {
  const [, command, reply] = /```sh\n\$ (curl .*\/mcp .*)\n([\s\S]*?)```/.exec(doc)!;
  // The command is this repository's own documentation, run through bash exactly as a reader would.
  const { stdout } = await run('bash', ['-c', command!.replaceAll('http://localhost:8080', server.base)]);
  const [head, body] = stdout.split('\r\n\r\n');
  const [documentedHead, documentedBody] = reply!.trim().split('\n\n');
  const lines = head!.split('\r\n').map((line) => line.toLowerCase());
  for (const line of documentedHead!.split('\n')) {
    const name = line.split(':')[0]!.toLowerCase();
    if (line.startsWith('HTTP/')) assert.equal(head!.split('\r\n')[0], line);
    else if (name === 'mcp-session-id') assert.ok(lines.some((l) => /^mcp-session-id: [0-9a-f-]{36}$/.test(l)), head);
    else assert.ok(lines.includes(line.toLowerCase()), `${line} in ${head}`);
  }
  assertDocumented(JSON.parse(body!), JSON.parse(documentedBody!), 'body');
  await sleep(0);
});

it('the host configurations name the real command and the real route', () => {
  const configs = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!).mcpServers['runner-codes']);
  assert.deepEqual(configs[0], { command: 'npx', args: ['infra.operator', 'mcp'] });
  assert.equal(new URL(configs[1].url).pathname, '/mcp');
  assert.match(configs[1].headers.Authorization, /^Bearer /);
});
