import { it } from 'node:test';
import assert from 'node:assert/strict';
import { testServer } from '../helpers/server.js';
import { SessionApi } from '../helpers/sessions.js';

/** POST /api/v1/sessions/{id}/run_code: a notebook-like kernel in the session, over HTTP with real sandboxes. */
const server = await testServer({ poolSize: 0 });
const api = new SessionApi(server.base);
const cell = async (id: string, code: string, timeout?: number): Promise<any> => {
  const reply = await api.request('POST', `/api/v1/sessions/${id}/run_code`, { code, ...(timeout ? { timeout } : {}) });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body;
};

it('python: state persists between cells, the last value comes back, errors and timeouts leave it usable', async () => {
  const id = await api.create({ language: 'python' });
  const first = await cell(id, 'import math\nx = 41\ndef double(n):\n    return 2 * n\nprint("set")');
  assert.equal(first.stdout, 'set\n');
  assert.equal(first.error, null);
  const value = await cell(id, 'double(x) - x + math.floor(1.5)');
  assert.deepEqual(value.outputs.at(-1)['text/plain'], '42');
  const failed = await cell(id, '1 / 0');
  assert.equal(failed.error.name, 'ZeroDivisionError');
  assert.match(failed.error.traceback, /ZeroDivisionError/);
  const slow = await cell(id, 'while True:\n    pass', 1000);
  assert.equal(slow.timed_out, true);
  assert.equal((await cell(id, 'x')).outputs.at(-1)['text/plain'], '41', 'the interrupted kernel kept its state');
  // execute and run_code share the session's files.
  await cell(id, 'open("from-cell.txt", "w").write("cell")');
  assert.equal((await api.run(id, { command: ['cat', 'from-cell.txt'] })).stdout, 'cell');
  await api.remove(id);
});

it('javascript keeps its variables too', async () => {
  const id = await api.create({ language: 'javascript' });
  await cell(id, 'let y = 21');
  assert.equal((await cell(id, 'y * 2')).outputs.at(-1)['text/plain'], '42');
  await api.remove(id);
});

it('python-datascience is the default: a matplotlib figure comes back as PNG, a DataFrame as HTML', async () => {
  const created = await api.request('POST', '/api/v1/sessions', {});
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.language, 'python-datascience');
  const id = created.body.id;
  const plot = await cell(id, 'import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()', 60_000);
  const png = plot.outputs.find((o: Record<string, string>) => 'image/png' in o);
  assert.ok(png, JSON.stringify(plot).slice(0, 500));
  assert.deepEqual([...Buffer.from(png['image/png'], 'base64').subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  const frame = await cell(id, 'import pandas as pd\npd.DataFrame({"a": [1, 2]})', 60_000);
  assert.match(frame.outputs.at(-1)['text/html'], /<table/);
  await api.remove(id);
});

it('a session of a language without a kernel is refused naming the field', async () => {
  const id = await api.create({ language: 'bash' });
  const reply = await api.request('POST', `/api/v1/sessions/${id}/run_code`, { code: 'echo 1' });
  assert.equal(reply.status, 400);
  assert.equal(reply.body.error.field, 'language');
  assert.equal((await api.request('POST', `/api/v1/sessions/${id}/run_code`, { code: 1 })).body.error.field, 'code');
  await api.remove(id);
});
