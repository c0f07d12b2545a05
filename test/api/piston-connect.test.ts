import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';
import { testServer } from '../helpers/server.js';
import { openSocket } from '../helpers/websocket.js';

const KEY = 'connect-key';
const { base } = await testServer({ apiKeys: [KEY], poolSize: 0 });
const auth = { authorization: `Bearer ${KEY}` };
const connect = () => openSocket(base, '/api/v2/connect', auth);
/** The messages without the data events' chunking: data of each stream joined, in place of its first chunk. */
function joined(messages: any[]): any[] {
  const out: any[] = [];
  for (const m of messages) {
    const last = out[out.length - 1];
    if (m.type === 'data' && last?.type === 'data' && last.stream === m.stream) last.data += m.data;
    else out.push({ ...m });
  }
  return out;
}

describe("Piston's WebSocket /api/v2/connect, with a real WebSocket client", () => {
  it('runs python interactively: runtime, stage, the echo of a line sent on stdin, exit, close 4999', async () => {
    const client = await connect();
    client.send({ type: 'init', language: 'python', version: '*', files: [{ content: 'line = input()\nprint("got", line, flush=True)\n' }] });
    const runtime = await client.next((m) => m.type === 'runtime');
    assert.equal(runtime.language, 'python');
    assert.match(runtime.version, /^3\./);
    await client.next((m) => m.type === 'stage');
    client.send({ type: 'data', stream: 'stdin', data: 'hello\n' });
    assert.deepEqual(await client.closed, { code: 4999, reason: 'Job Completed' });
    assert.deepEqual(joined(client.messages), [
      { type: 'runtime', language: 'python', version: runtime.version },
      { type: 'stage', stage: 'run' },
      { type: 'data', stream: 'stdout', data: 'got hello\n' },
      { type: 'exit', stage: 'run', code: 0, signal: null },
    ]);
  });

  it('reports a compiled language as Piston does: compile stage and exit, then run', async () => {
    const client = await connect();
    client.send({ type: 'init', language: 'c', version: '*', files: [{ name: 'main.c', content: '#include <stdio.h>\nint main(void){char b[64]; if(fgets(b,64,stdin)) printf("C:%s", b); return 3;}\n' }] });
    await client.next((m) => m.type === 'stage' && m.stage === 'run', 60_000);
    client.send({ type: 'data', stream: 'stdin', data: 'x\n' });
    assert.equal((await client.closed).code, 4999);
    assert.deepEqual(joined(client.messages).slice(1), [
      { type: 'stage', stage: 'compile' },
      { type: 'exit', stage: 'compile', code: 0, signal: null },
      { type: 'stage', stage: 'run' },
      { type: 'data', stream: 'stdout', data: 'C:x\n' },
      { type: 'exit', stage: 'run', code: 3, signal: null },
    ]);
  });

  it('delivers a signal to a sleeping program, which ends killed by it', async () => {
    const client = await connect();
    const started = performance.now();
    client.send({ type: 'init', language: 'python', version: '*', files: [{ content: 'import time\nprint("sleeping", flush=True)\ntime.sleep(30)\n' }], run_timeout: 20_000 });
    await client.next((m) => m.type === 'data' && joined(client.messages).some((d) => d.type === 'data' && d.data.includes('sleeping')));
    client.send({ type: 'signal', signal: 'SIGKILL' });
    const exit = await client.next((m) => m.type === 'exit');
    assert.deepEqual(exit, { type: 'exit', stage: 'run', code: null, signal: 'SIGKILL' });
    assert.equal((await client.closed).code, 4999);
    assert.ok(performance.now() - started < 15_000, 'the program ended by the signal, not its timeout');
  });

  it('answers bad messages with an error event and Piston close codes', async () => {
    const cases: { send: unknown[]; code: number; reason: string; error?: RegExp }[] = [
      { send: ['not json'], code: 4002, reason: 'Notified Error', error: /JSON/ },
      { send: [{ type: 'init', language: 'no-such-language', version: '*', files: [{ content: 'x' }] }], code: 4002, reason: 'Notified Error', error: /runtime is unknown/ },
      { send: [{ type: 'init', language: 'python', version: '*' }], code: 4002, reason: 'Notified Error', error: /files/ },
      { send: [{ type: 'init', language: 'python', version: '*', files: [{ content: 5 }] }], code: 4002, reason: 'Notified Error', error: /files\[0\]\.content/ },
      { send: [{ type: 'data', stream: 'stdin', data: 'x' }], code: 4003, reason: 'Not yet initialized' },
      { send: [{ type: 'signal', signal: 'SIGKILL' }], code: 4003, reason: 'Not yet initialized' },
    ];
    const sleeper = { type: 'init', language: 'bash', version: '*', files: [{ content: 'sleep 20' }] };
    cases.push(
      { send: [sleeper, sleeper], code: 4000, reason: 'Already Initialized' },
      { send: [sleeper, { type: 'data', stream: 'stdout', data: 'x' }], code: 4004, reason: 'Can only write to stdin' },
      { send: [sleeper, { type: 'signal', signal: 'SIGNOPE' }], code: 4005, reason: 'Invalid signal' },
      { send: [sleeper, { type: 'signal', signal: 9 }], code: 4005, reason: 'Invalid signal' },
    );
    for (const c of cases) {
      const client = await connect();
      for (const message of c.send) client.send(message);
      assert.deepEqual(await client.closed, { code: c.code, reason: c.reason }, JSON.stringify(c.send));
      const errors = client.messages.filter((m) => m.type === 'error');
      if (c.error) {
        assert.equal(errors.length, 1, JSON.stringify(client.messages));
        assert.match(errors[0].message, c.error);
        assert.deepEqual(Object.keys(errors[0]).sort(), ['message', 'type']);
      } else {
        assert.deepEqual(errors, []);
      }
    }
  });

  it('closes with 4001 when no init comes within a second', async () => {
    const client = await connect();
    const started = performance.now();
    assert.deepEqual(await client.closed, { code: 4001, reason: 'Initialization Timeout' });
    assert.ok(performance.now() - started >= 900);
  });

  it('needs an API key like the other Piston routes', async () => {
    await assert.rejects(openSocket(base, '/api/v2/connect'), (err: { status?: number; body?: string }) => err.status === 401 && JSON.parse(err.body!).message.includes('access_token'));
    await assert.rejects(openSocket(base, '/api/v2/connect', { 'x-api-key': 'wrong' }), (err: { status?: number }) => err.status === 401);
  });

  it('leaves nothing behind when the client goes away mid-run', async () => {
    const client = await connect();
    client.send({ type: 'init', language: 'bash', version: '*', files: [{ content: 'echo up; sleep 30' }], run_timeout: 25_000 });
    await client.next((m) => m.type === 'data');
    client.ws.terminate();
    let left = leftovers();
    for (let i = 0; i < 150 && JSON.stringify(left) !== JSON.stringify(NOTHING_LEFT); i++) {
      await sleep(100);
      left = leftovers();
    }
    assert.deepEqual(left, NOTHING_LEFT);
  });
});
