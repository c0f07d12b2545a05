import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServerProcess } from '../../src/bench/server-process.js';
import { allEvents, postEventStream } from '../helpers/event-stream.js';
import { leftovers } from '../helpers/host.js';
import { post, testServer } from '../helpers/server.js';

// A pool, as a server runs: the streamed execution takes a warm sandbox like any other.
const { base } = await testServer({ poolSize: 1 });
const execute = `${base}/api/v1/execute`;
const LIVE = 'import time\nprint("first", flush=True)\ntime.sleep(1)\nprint("last", flush=True)\n';

/**
 * The LIVE program's events: stage, its output (a line may come in several chunks, numbered from 0),
 * the result; the first chunk arrived at least 0.8 s before the last (measured here, on the client).
 */
function assertLive(events: { event: string; data: any; at: number }[]): void {
  const names = events.map((e) => e.event);
  assert.equal(names[0], 'stage');
  assert.deepEqual(events[0]!.data, { stage: 'run' });
  assert.equal(names[names.length - 1], 'result');
  const chunks = events.slice(1, -1);
  assert.ok(chunks.every((e) => e.event === 'stdout'), names.join(' '));
  assert.deepEqual(chunks.map((e) => e.data.seq), chunks.map((_, i) => i));
  assert.equal(chunks.map((e) => e.data.data).join(''), 'first\nlast\n');
  assert.ok(chunks[0]!.data.data.startsWith('f') && chunks[chunks.length - 1]!.data.data.endsWith('\n'));
  const gap = chunks[chunks.length - 1]!.at - chunks[0]!.at;
  assert.ok(gap >= 800, `first and last output ${gap.toFixed(0)} ms apart`);
  assert.equal(events[events.length - 1]!.data.stdout, 'first\nlast\n');
}

/** Polls until the host shows no sandbox but the pool's idle ones (none on a server without a pool). */
async function nothingRunning(poolIdle: () => Promise<number>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const left = leftovers();
    if (left.cgroups.length <= (await poolIdle())) return;
    await sleep(100);
  }
  assert.fail(`left behind: ${JSON.stringify(leftovers())}`);
}

describe('POST /api/v1/execute with Accept: text/event-stream', () => {
  it('streams output live: the first line arrives at least 0.8 s before the last, then the usual result', async () => {
    const reply = await postEventStream(execute, { language: 'python', code: LIVE });
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type')!, /^text\/event-stream/);
    const events = await allEvents(reply);
    assertLive(events);
    const result = events[events.length - 1]!.data;
    assert.equal(result.status, 'success');
    assert.equal(result.stdout, 'first\nlast\n');
    assert.equal(result.exit_code, 0);
    assert.equal(result.trace_id, reply.headers.get('x-trace-id'));
    // The same fields as the JSON reply.
    const plain = await post(base, '/api/v1/execute', { language: 'python', code: 'print(1)' });
    assert.deepEqual(Object.keys(result).sort(), Object.keys(plain.body).sort());
  });

  it('streams both streams and every stage of a compiled language, in order', async () => {
    const code = '#include <stdio.h>\n#include <unistd.h>\nint main(void){puts("out");fflush(stdout);fputs("err\\n",stderr);return 2;}\n';
    const events = await allEvents(await postEventStream(execute, { language: 'c', code }));
    const names = events.map((e) => e.event);
    assert.deepEqual(names.slice(0, 2), ['stage', 'stage']);
    assert.deepEqual(events.slice(0, 2).map((e) => e.data.stage), ['compile', 'run']);
    assert.deepEqual(events.filter((e) => e.event === 'stdout').map((e) => e.data.data).join(''), 'out\n');
    assert.deepEqual(events.filter((e) => e.event === 'stderr').map((e) => e.data.data).join(''), 'err\n');
    assert.deepEqual(events.filter((e) => e.event === 'stdout' || e.event === 'stderr').map((e) => e.data.seq), [0, 1]);
    assert.equal(names[names.length - 1], 'result');
    assert.equal(events[events.length - 1]!.data.exit_code, 2);
  });

  it('holds streamed output to the output cap and flags the result truncated', async () => {
    const events = await allEvents(await postEventStream(execute, { language: 'python', code: 'import sys\nfor i in range(2000):\n    sys.stdout.write("x" * 100 + "\\n"); sys.stdout.flush()\n', output_limit: 1000 }));
    const streamed = events.filter((e) => e.event === 'stdout').map((e) => e.data.data).join('');
    assert.equal(streamed.length, 1000);
    const result = events[events.length - 1]!.data;
    assert.equal(result.stdout.length, 1000);
    assert.equal(result.truncated.stdout, true);
  });

  it('streams base64 chunks for output_encoding base64', async () => {
    const events = await allEvents(await postEventStream(execute, { language: 'bash', code: 'printf "\\377\\376ok"', output_encoding: 'base64' }));
    const bytes = Buffer.concat(events.filter((e) => e.event === 'stdout').map((e) => Buffer.from(e.data.data, 'base64')));
    assert.deepEqual(bytes, Buffer.from([0xff, 0xfe, 0x6f, 0x6b]));
    assert.equal(events[events.length - 1]!.data.stdout, bytes.toString('base64'));
  });

  it('refuses bad input before anything runs with the usual JSON error', async () => {
    const unknown = await postEventStream(execute, { language: 'klingon', code: 'x' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.headers.get('content-type')!, /^application\/json/);
    assert.equal((await unknown.json()).error.code, 'RC_ERR_UNKNOWN_LANGUAGE');
    const schema = await postEventStream(execute, { language: 'python', code: 'print(1)', timeout: 'soon' });
    assert.equal(schema.status, 400);
    assert.equal((await schema.json()).error.field, 'timeout');
  });

  it('cancels the execution when the client disconnects, leaving nothing behind', async () => {
    const controller = new AbortController();
    const reply = await postEventStream(execute, { language: 'bash', code: 'echo up; sleep 30', timeout: 25_000 }, { signal: controller.signal });
    for await (const event of reply.events) if (event.event === 'stdout') break;
    controller.abort();
    const started = performance.now();
    await nothingRunning(async () => ((await (await fetch(`${base}/api/v1/pool`)).json()) as { idle_total: number }).idle_total);
    assert.ok(performance.now() - started < 10_000);
  });
});

describe('event streams through the privilege-separated server (the service over IPC)', () => {
  it('streams live and cancels on disconnect', async () => {
    const server = await startServerProcess(['--backend', 'bwrap', '--pool-size', '0']);
    try {
      const events = await allEvents(await postEventStream(`${server.url}/api/v1/execute`, { language: 'python', code: LIVE }));
      assertLive(events);
      const controller = new AbortController();
      const reply = await postEventStream(`${server.url}/api/v1/execute`, { language: 'bash', code: 'echo up; sleep 30', timeout: 25_000 }, { signal: controller.signal });
      for await (const event of reply.events) if (event.event === 'stdout') break;
      controller.abort();
      // Its sandboxes belong to the server process (the leak check below judges them once it is gone).
      let metrics = '';
      for (let i = 0; i < 100 && !/^runner_codes_sandboxes_in_use 0$/m.test(metrics); i++) {
        await sleep(100);
        metrics = await (await fetch(`${server.url}/metrics`)).text();
      }
      assert.match(metrics, /^runner_codes_sandboxes_in_use 0$/m, 'the cancelled execution ended');
    } finally {
      assert.equal(await server.stop(), 0);
    }
    // The in-process server above keeps its warm pool in this process's cgroups: only the other server's count here.
    const others = leftovers().cgroups.filter((name) => !name.startsWith(`rc-${process.pid}-`));
    assert.deepEqual(others, [], 'the privilege-separated server left sandboxes behind');
  });
});

describe('POST /api/v1/sessions/{id}/execute with Accept: text/event-stream', () => {
  it('streams live in a session, and a disconnect kills the execution while the session lives on', async () => {
    const created = await post(base, '/api/v1/sessions', { language: 'python' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const url = `${base}/api/v1/sessions/${created.body.id}/execute`;
    const events = await allEvents(await postEventStream(url, { code: LIVE }));
    assertLive(events);
    const controller = new AbortController();
    const reply = await postEventStream(url, { command: ['sh', '-c', 'echo up; sleep 30'], timeout: 25_000 }, { signal: controller.signal });
    for await (const event of reply.events) if (event.event === 'stdout') break;
    const cut = performance.now();
    controller.abort();
    const after = await post(base, `/api/v1/sessions/${created.body.id}/execute`, { command: ['echo', 'still here'] });
    assert.equal(after.body.stdout, 'still here\n');
    assert.ok(performance.now() - cut < 10_000, 'the cancelled execution ended at once');
    const unknown = await postEventStream(`${base}/api/v1/sessions/no-such-session/execute`, { code: 'print(1)' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.headers.get('content-type')!, /^application\/json/);
    assert.equal((await fetch(`${base}/api/v1/sessions/${created.body.id}`, { method: 'DELETE' })).status, 204);
  });
});

describe('POST /api/v1/sessions/{id}/run_code with Accept: text/event-stream', () => {
  it("streams a cell's output live and ends with the cell's result", async () => {
    const created = await post(base, '/api/v1/sessions', { language: 'python' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const url = `${base}/api/v1/sessions/${created.body.id}/run_code`;
    const events = await allEvents(await postEventStream(url, { code: 'x = 41' }));
    assert.deepEqual(events.map((e) => e.event), ['result']);
    const cell = await allEvents(await postEventStream(url, { code: 'import time\nprint("first", flush=True)\ntime.sleep(1)\nprint("last", flush=True)\nx + 1' }));
    const chunks = cell.filter((e) => e.event === 'stdout');
    assert.equal(chunks.map((e) => e.data.data).join(''), 'first\nlast\n');
    assert.ok(chunks[chunks.length - 1]!.at - chunks[0]!.at >= 800, 'live');
    const result = cell[cell.length - 1]!;
    assert.equal(result.event, 'result');
    assert.equal(result.data.stdout, 'first\nlast\n');
    assert.equal(result.data.error, null);
    assert.deepEqual(result.data.outputs.map((o: Record<string, string>) => o['text/plain']), ['42']);
    assert.equal((await fetch(`${base}/api/v1/sessions/${created.body.id}`, { method: 'DELETE' })).status, 204);
  });
});
