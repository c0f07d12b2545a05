import { it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServerProcess } from '../../src/bench/server-process.js';
import { openEngine } from '../../src/compose/open-engine.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';
import { sandboxProcesses } from '../helpers/sandbox-procs.js';
import { SessionApi } from '../helpers/sessions.js';

/**
 * Sessions on a server started as root: the HTTP side (uid 65534) forwards every session call to the
 * service in the engine process over IPC; files, errors (with their field), isolation and
 * cancellation survive the trip, and neither a shutdown nor a crash leaves a session behind.
 */
const everyOwner = (): ReturnType<typeof sandboxProcesses> => sandboxProcesses(true);

it('every session call works over the privilege-separated IPC', async () => {
  const server = await startServerProcess(['--backend', 'bwrap', '--pool-size', '0', '--api-key', 'key-a', 'key-b']);
  try {
    const a = new SessionApi(server.url, 'key-a');
    const b = new SessionApi(server.url, 'key-b');
    const id = await a.create({ language: 'python', files: [{ name: 'seed.txt', content: 'seed' }] });
    assert.equal((await a.run(id, { code: 'print(open("seed.txt").read())' })).stdout, 'seed\n');
    await a.request('POST', `/api/v1/sessions/${id}/run_code`, { code: 'y = 6' });
    const cell = await a.request('POST', `/api/v1/sessions/${id}/run_code`, { code: 'y * 7' });
    assert.equal(cell.body.outputs.at(-1)['text/plain'], '42', 'interpreter cells over the IPC');
    const binary = Buffer.from([0, 255, 1, 254, 10, 13]);
    assert.equal((await a.put(id, 'bin/blob', binary)).status, 200);
    assert.deepEqual([...(await a.file(id, 'bin/blob')).bytes], [...binary], 'bytes intact both ways');
    assert.deepEqual((await a.file(id, 'bin')).body.entries.map((e: { path: string }) => e.path), ['bin/blob']);
    assert.equal((await a.run(id, { command: ['cat', 'bin/blob'], output_encoding: 'base64' })).stdout, binary.toString('base64'));
    const bad = await a.put(id, '../escape', Buffer.from('x'));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'path', 'the field survives the IPC');
    await a.run(id, { command: ['ln', '-s', '/etc/shadow', 'shadow'] });
    const link = await a.file(id, 'shadow');
    assert.equal(link.status, 400);
    assert.equal(link.body.error.field, 'path');
    assert.equal((await b.get(id)).status, 404, 'another key sees nothing');
    assert.deepEqual((await b.list()).body.sessions, []);
    assert.equal((await a.request('POST', `/api/v1/sessions/${id}/keepalive`)).status, 200);

    // A client that goes away kills its execution; the session lives on.
    const controller = new AbortController();
    const hanging = fetch(`${server.url}/api/v1/sessions/${id}/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer key-a' },
      body: JSON.stringify({ command: ['sleep', '45'], timeout: 50_000 }),
      signal: controller.signal,
    }).catch(() => 'aborted');
    for (let i = 0; i < 100 && !everyOwner().some((p) => p.cmdline === 'sleep 45'); i++) await sleep(20);
    assert.ok(everyOwner().some((p) => p.cmdline === 'sleep 45'), 'the execution runs');
    controller.abort();
    assert.equal(await hanging, 'aborted');
    for (let i = 0; i < 100 && everyOwner().some((p) => p.cmdline === 'sleep 45'); i++) await sleep(20);
    assert.ok(!everyOwner().some((p) => p.cmdline === 'sleep 45'), 'its process was killed');
    assert.equal((await a.run(id, { code: 'print("still here")' })).stdout, 'still here\n');

    // Left running at shutdown: SIGTERM must end it.
    await a.run(id, { command: ['sh', '-c', 'setsid sleep 600 > /dev/null 2>&1 & sleep 0.5'] });
  } finally {
    assert.equal(await server.stop(), 0);
  }
  for (let i = 0; i < 100 && leftovers().processes.length > 0; i++) await sleep(20);
  assert.deepEqual(leftovers(), NOTHING_LEFT, 'the shutdown ended the session');
});

it('a crashed server leaves no session process, and the next start removes its cgroups', async () => {
  const server = await startServerProcess(['--backend', 'bwrap', '--pool-size', '0']);
  try {
    const api = new SessionApi(server.url);
    const ids = [await api.create({ language: 'python' }), await api.create({ language: 'bash' })];
    // The exec's process group is killed when its main process ends: wait until the child left it.
    for (const id of ids) await api.run(id, { command: ['sh', '-c', 'setsid sleep 600 > /dev/null 2>&1 & sleep 0.5'] });
    const sleepers = (): number => everyOwner().filter((p) => p.cmdline === 'sleep 600').length;
    for (let i = 0; i < 100 && sleepers() < 2; i++) await sleep(20);
    assert.equal(sleepers(), 2, 'a background process in each session');
  } finally {
    process.kill(server.pid, 'SIGKILL');
  }
  // bwrap dies with its launcher (PDEATHSIG, --die-with-parent), and every process of a sandbox with its PID 1.
  // Generous: on a loaded host the kernel takes its time to tear namespaces down.
  for (let i = 0; i < 500 && leftovers().processes.length > 0; i++) await sleep(20);
  const after = leftovers();
  assert.deepEqual(after.processes, [], 'no session process survived the crash');
  const engine = await openEngine({ backend: 'bwrap' });
  await engine.close();
  assert.deepEqual(leftovers(), NOTHING_LEFT, "the next start's stale clean-up removed the sessions' cgroups");
});
