import { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dataPaths, packageRoot } from '../../src/config/paths.js';
import type { ApiConfig } from '../../src/api/config.js';
import type { ExecutionResult } from '../../src/engine/result.js';
import { DEFAULT_HOST_ID_RANGE } from '../../src/sandbox/host-ids.js';
import { leftovers, NOTHING_LEFT } from './host.js';
import { post, testServer, type Reply } from './server.js';

/** Every host path a hostile program tries to create carries this in its name; none may ever exist. */
export const MARKER = 'rcpwn';

/** Host directories whose entries must be the same after an attack file as before it. */
const WATCHED_DIRS = ['/', '/etc', '/root', '/home', '/var/tmp', '/dev/shm', '/run/lock', '/usr/local/bin'];

export interface HostSnapshot {
  entries: Record<string, string[]>;
  addresses: string;
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Network addresses of the host, without the counters and lifetimes that change on their own. */
function addresses(): string {
  return execFileSync('ip', ['-o', 'addr'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.replace(/\\\s+valid_lft.*$/, '').trim())
    .join('\n');
}

export function hostSnapshot(): HostSnapshot {
  return { entries: Object.fromEntries(WATCHED_DIRS.map((dir) => [dir, entries(dir)])), addresses: addresses() };
}

/**
 * Files on the host, outside our data dir, that sandboxed code could have made: owned by a sandbox
 * uid, or named with the attack marker. `dirs` bounds the walk; the full-host walk runs once, in
 * zz-host-unchanged.test.ts.
 */
export function planted(dirs: string[]): string[] {
  const { first, count } = DEFAULT_HOST_ID_RANGE;
  // Our data dir is ours to write (images, VM run dirs); the bar is the rest of the host.
  const prune = ['/proc', '/sys', dataPaths().root];
  const args = [
    ...dirs, '-xdev',
    '(', ...prune.flatMap((p, i) => [...(i ? ['-o'] : []), '-path', p]), ')', '-prune', '-o',
    '(', '(', '-uid', `+${first - 1}`, '-uid', `-${first + count}`, ')', '-o', '-name', `*${MARKER}*`, ')', '-print',
  ];
  try {
    return execFileSync('find', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean);
  } catch (err) {
    // find exits 1 when some directory was unreadable (e.g. a file vanished mid-walk): keep what it printed.
    return String((err as { stdout?: string }).stdout ?? '').split('\n').filter(Boolean);
  }
}

const NEAR_DIRS = ['/tmp', '/var/tmp', '/dev/shm', '/run', '/root', '/etc', '/home', packageRoot];

export interface SecurityServer {
  base: string;
  /** Submits a hostile program through the public API; asserts the service itself did not fail. */
  attack(body: Record<string, unknown>): Promise<ExecuteReply>;
  /** POST without assertions (bad-input cases). */
  send(body: unknown, path?: string): Promise<Reply>;
  /** TCP connections the API server has accepted so far (sandboxed code must never add one). */
  connections(): number;
  logs: string[];
  /** Runs `fn` at the end of the file, before the host is compared with its state at the start. */
  onTeardown(fn: () => unknown): void;
}

/** The API's result body is the engine's result object as JSON. */
export type ExecuteReply = ExecutionResult;

/**
 * The API server the security suite attacks (a real server on loopback, pool on, as deployed),
 * with the host checked after the file: nothing left running, mounted or in a cgroup, no watched
 * host directory changed, no file of a sandbox uid or with the marker near the usual targets.
 */
export async function securityServer(overrides: Partial<ApiConfig> = {}): Promise<SecurityServer> {
  const before = hostSnapshot();
  const logs: string[] = [];
  const server = await testServer({ logLevel: 'info', ...overrides }, { logStream: { write: (line) => void logs.push(line) } });
  let connections = 0;
  server.app.server.on('connection', () => connections++);
  const teardown: (() => unknown)[] = [];
  after(async () => {
    for (const fn of teardown) await fn();
    // Runs after testServer's own hook has closed the server and checked for leftovers.
    assert.deepEqual(leftovers(), NOTHING_LEFT);
    assert.deepEqual(hostSnapshot(), before, 'a watched host directory or the host addresses changed');
    assert.deepEqual(planted(NEAR_DIRS), [], 'files of a sandbox uid or with the attack marker on the host');
  });
  return {
    base: server.base,
    logs,
    connections: () => connections,
    onTeardown: (fn) => void teardown.push(fn),
    send: (body, path = '/api/v1/execute') => post(server.base, path, body),
    async attack(body) {
      const reply = await post(server.base, '/api/v1/execute', body);
      assert.equal(reply.status, 200, `HTTP ${reply.status}: ${JSON.stringify(reply.body).slice(0, 500)}`);
      assert.equal(reply.body.status, 'success');
      return reply.body as ExecuteReply;
    },
  };
}
