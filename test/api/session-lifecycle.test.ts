import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultApiConfig } from '../../src/api/config.js';
import { startServer } from '../../src/api/server.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';
import { sandboxProcesses, settled } from '../helpers/sandbox-procs.js';
import { testServer } from '../helpers/server.js';
import { SessionApi } from '../helpers/sessions.js';

/**
 * A session's life with small configured timeouts and caps: idle reaping, keepalive, the absolute
 * lifetime, the per-key and total caps and the memory budget (429 with Retry-After), and a shutdown
 * that leaves no session behind.
 */
const server = await testServer({
  apiKeys: ['key-a', 'key-b', 'key-c'],
  poolSize: 0,
  sessionIdleTimeoutMs: 1500,
  sessionMaxIdleTimeoutMs: 5000,
  sessionMaxLifetimeMs: 6000,
  sessionsPerKey: 2,
  sessionsMax: 3,
  sessionMemoryMb: 640,
});
const a = new SessionApi(server.base, 'key-a');
const b = new SessionApi(server.base, 'key-b');
const c = new SessionApi(server.base, 'key-c');

/** Sandbox cgroups of this process that hold a process now. */
const liveSandboxes = (): Set<string> => new Set(sandboxProcesses().map((p) => p.sandbox));

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(100);
  }
  return false;
}

describe('lifetimes', () => {
  it('an idle session is reaped after its idle timeout, its sandbox destroyed', async () => {
    const id = await a.create({ language: 'python', idle_timeout_ms: 1000 });
    const info = (await a.get(id)).body;
    assert.equal(info.idle_timeout_ms, 1000);
    assert.ok(Date.parse(info.expires_at) - Date.parse(info.last_used_at) <= 1000);
    await a.run(id, { code: 'import subprocess\nsubprocess.Popen(["sleep", "600"], start_new_session=True)' });
    assert.equal(liveSandboxes().size, 1);
    assert.ok(await until(async () => (await a.get(id)).status === 404, 5000), 'reaped');
    assert.deepEqual(await settled(), [], 'its processes are gone');
  });

  it('the server default idle timeout applies, and keepalive and use hold it off', async () => {
    const id = await a.create({ language: 'python' });
    assert.equal((await a.get(id)).body.idle_timeout_ms, 1500);
    for (let i = 0; i < 6; i++) {
      await sleep(500);
      assert.equal((await a.request('POST', `/api/v1/sessions/${id}/keepalive`)).status, 200, `alive at ${i}`);
    }
    // A running execution is a use: a 2.5 s program outlives the 1.5 s idle timeout.
    const long = await a.run(id, { code: 'import time\ntime.sleep(2.5)\nprint("done")' });
    assert.equal(long.stdout, 'done\n');
    assert.equal((await a.get(id)).status, 200);
    assert.ok(await until(async () => (await a.get(id)).status === 404, 5000), 'reaped once idle');
  });

  it('the absolute lifetime ends a session however it is used, even mid-execution', async () => {
    const id = await a.create({ language: 'python', lifetime_ms: 2500, idle_timeout_ms: 5000 });
    const info = (await a.get(id)).body;
    assert.ok(Date.parse(info.max_expires_at) - Date.parse(info.created_at) <= 2500);
    const started = Date.now();
    const sleeping = a.execute(id, { command: ['sleep', '30'], timeout: 30_000 });
    const reply = await sleeping;
    assert.ok(Date.now() - started < 6000, `the execution ended with the session (${Date.now() - started} ms)`);
    assert.equal(reply.body.status, 'failed', JSON.stringify(reply.body));
    assert.match(reply.body.error.message, /session ended while this execution ran: its lifetime is over/);
    assert.equal((await a.get(id)).status, 404);
    assert.deepEqual(await settled(), []);
  });

  it('timeouts above the server maxima are refused naming the field', async () => {
    for (const [body, field] of [
      [{ language: 'python', idle_timeout_ms: 5001 }, 'idle_timeout_ms'],
      [{ language: 'python', lifetime_ms: 6001 }, 'lifetime_ms'],
    ] as const) {
      const reply = await a.request('POST', '/api/v1/sessions', body);
      assert.equal(reply.status, 400);
      assert.equal(reply.body.error.field, field);
    }
  });
});

describe('caps', () => {
  it('429 past the per-key cap, the total cap and the memory budget, with Retry-After; freed places are reusable', async () => {
    const a1 = await a.create({ language: 'python', limits: { memory: 128 } });
    const a2 = await a.create({ language: 'python', limits: { memory: 128 } });
    const perKey = await a.request('POST', '/api/v1/sessions', { language: 'python' });
    assert.equal(perKey.status, 429, JSON.stringify(perKey.body));
    assert.equal(perKey.body.error.code, 'RC_ERR_SESSION_LIMIT');
    assert.match(perKey.body.error.message, /sessions_per_key 2/);
    assert.ok(Number(perKey.headers.get('retry-after')) > 0);

    const mem = await b.request('POST', '/api/v1/sessions', { language: 'python', limits: { memory: 512 } });
    assert.equal(mem.status, 429, 'the memory budget (640 MiB; 256 charged) has no room for 512 MiB');
    assert.match(mem.body.error.message, /memory/);
    const b1 = await b.create({ language: 'python', limits: { memory: 128 } });
    const total = await c.request('POST', '/api/v1/sessions', { language: 'python', limits: { memory: 16 } });
    assert.equal(total.status, 429, 'three sessions is the server total');
    assert.match(total.body.error.message, /sessions_max 3/);

    assert.equal((await a.remove(a1)).status, 204);
    const c1 = await c.create({ language: 'python', limits: { memory: 128 } });
    for (const [api, id] of [[a, a2], [b, b1], [c, c1]] as const) assert.equal((await api.remove(id)).status, 204);
    assert.deepEqual(await settled(), []);
  });
});

describe('shutdown', () => {
  it('closing the server ends every session: no process, cgroup or mount is left', async () => {
    const other = await startServer({ ...defaultApiConfig(), port: 0, logLevel: 'silent', backend: 'bwrap', poolSize: 0 }, { logger: false });
    const api = new SessionApi(other.url);
    const ids = [await api.create({ language: 'python' }), await api.create({ language: 'bash' })];
    // The exec's process group is killed when its main process ends: wait until the child left it.
    for (const id of ids) await api.run(id, { command: ['sh', '-c', 'setsid sleep 600 > /dev/null 2>&1 & sleep 0.5'] });
    assert.equal(sandboxProcesses().filter((p) => p.cmdline === 'sleep 600').length, 2, 'background processes run');
    await other.close();
    await sleep(200);
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });
});
