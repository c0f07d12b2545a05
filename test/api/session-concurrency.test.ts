import { it } from 'node:test';
import assert from 'node:assert/strict';
import { sandboxProcesses, settled } from '../helpers/sandbox-procs.js';
import { testServer } from '../helpers/server.js';
import { SessionApi } from '../helpers/sessions.js';

/** Fifty sessions at once, each doing an execution, on a two-core host: all answer, none mixes up another's state. */
const COUNT = 50;
const server = await testServer({ poolSize: 0, sessionsPerKey: COUNT, sessionsMax: COUNT, queueLimit: 4 * COUNT, sessionMemoryMb: COUNT * 64 });
const api = new SessionApi(server.base);

it(`${COUNT} concurrent sessions each create, execute and read back their own state`, async () => {
  const started = Date.now();
  const ids = await Promise.all(Array.from({ length: COUNT }, (_, i) => api.create({ language: 'python', limits: { memory: 64 }, env: { N: String(i) } })));
  assert.equal(new Set(ids).size, COUNT);
  assert.equal(new Set(sandboxProcesses().map((p) => p.sandbox)).size, COUNT, 'one sandbox per session');
  const results = await Promise.all(ids.map((id) => api.run(id, { code: 'import os\nn = int(os.environ["N"])\nopen("n.txt", "w").write(str(n * n))\nprint(n)' })));
  assert.deepEqual(results.map((r) => r.stdout), Array.from({ length: COUNT }, (_, i) => `${i}\n`));
  const files = await Promise.all(ids.map((id) => api.file(id, 'n.txt')));
  assert.deepEqual(files.map((f) => f.bytes.toString()), Array.from({ length: COUNT }, (_, i) => String(i * i)));
  assert.equal((await api.list()).body.sessions.length, COUNT);
  const deleted = await Promise.all(ids.map((id) => api.remove(id)));
  assert.ok(deleted.every((d) => d.status === 204));
  assert.deepEqual(await settled(5000), [], 'no session process left');
  process.stderr.write(`# ${COUNT} sessions created, executed, read and deleted in ${Date.now() - started} ms\n`);
});
