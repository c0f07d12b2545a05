import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServerProcess } from '../../src/bench/server-process.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';

/**
 * `infra.operator api` started as root keeps the engine (cgroups, sandbox launches) in a root
 * process that parses no HTTP, and serves HTTP from a child running as an unprivileged uid.
 * Judged from /proc: who runs as what, with which capabilities.
 */
interface Proc {
  pid: number;
  ppid: number;
  uid: number;
  capEff: bigint;
}

function proc(pid: number): Proc {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): string => new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(status)![1]!;
  return { pid, ppid: Number(field('PPid')), uid: Number(field('Uid')), capEff: BigInt(`0x${field('CapEff')}`) };
}

function childrenOf(pid: number): Proc[] {
  const found: Proc[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const p = proc(Number(name));
      if (p.ppid === pid) found.push(p);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const post = (url: string, body: unknown): Promise<Response> =>
  fetch(`${url}/api/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

it('serves HTTP from an unprivileged process; only the engine process keeps root', async () => {
  const server = await startServerProcess(['--backend', 'bwrap', '--pool-size', '0']);
  try {
    const parent = proc(server.pid);
    assert.equal(parent.uid, 0, 'the engine side is root (cgroups)');
    const workers = childrenOf(server.pid).filter((p) => readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes('api/worker.js'));
    assert.equal(workers.length, 1, 'one HTTP worker');
    assert.equal(workers[0]!.uid, 65534, 'the HTTP side runs as the unprivileged --api-uid');
    assert.equal(workers[0]!.capEff, 0n, 'with no capabilities');
    // Requests still run, and the engine's own validation answers through the worker.
    const ok = (await (await post(server.url, { language: 'python', code: 'print(6 * 7)' })).json()) as { stdout: string };
    assert.equal(ok.stdout, '42\n');
    const bad = await post(server.url, { language: 'klingon', code: 'x' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'RC_ERR_UNKNOWN_LANGUAGE');
  } finally {
    assert.equal(await server.stop(), 0, 'SIGTERM drains both processes and exits 0');
  }
  assert.deepEqual(leftovers(), NOTHING_LEFT);
});

it('submissions on the HTTP side run on the engine process: running is reported over IPC, DELETE destroys the sandbox', async () => {
  const server = await startServerProcess(['--backend', 'bwrap', '--pool-size', '0']);
  const submissions = `${server.url}/api/v1/submissions`;
  try {
    const created = await fetch(submissions, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language: 'python', code: 'import time\ntime.sleep(50)', timeout: 60_000 }) });
    assert.equal(created.status, 201);
    const { token } = (await created.json()) as { token: string };
    let status = '';
    for (let i = 0; i < 200 && status !== 'running'; i++, await sleep(50)) status = ((await (await fetch(`${submissions}/${token}`)).json()) as { status: string }).status;
    assert.equal(status, 'running', 'the engine process told the HTTP side the execution got its slot');
    const cancelled = (await (await fetch(`${submissions}/${token}`, { method: 'DELETE' })).json()) as { status: string; error: { code: string } };
    assert.equal(cancelled.error.code, 'RC_ERR_CANCELLED');
  } finally {
    assert.equal(await server.stop(), 0);
  }
  assert.deepEqual(leftovers(), NOTHING_LEFT);
});

it('a crash of the HTTP side stops the server and leaves nothing behind', async () => {
  const server = await startServerProcess(['--backend', 'bwrap', '--pool-warm', 'python', '--pool-size', '1']);
  // One execution first: the whole path is up (the worker told the engine process it listens).
  assert.equal(((await (await post(server.url, { language: 'python', code: 'print(1)' })).json()) as { stdout: string }).stdout, '1\n');
  const worker = childrenOf(server.pid).find((p) => p.uid === 65534)!;
  process.kill(worker.pid, 'SIGKILL');
  const code = await new Promise<number | null>((resolve) => {
    const poll = setInterval(() => {
      try {
        process.kill(server.pid, 0);
      } catch {
        clearInterval(poll);
        resolve(null);
      }
    }, 50);
  });
  assert.equal(code, null, 'the engine process exited');
  for (let i = 0; i < 100 && leftovers().processes.length > 0; i++) await sleep(20);
  assert.deepEqual(leftovers(), NOTHING_LEFT, 'the pool was closed: no sandbox, cgroup or mount left');
});
