import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { post, testServer } from '../helpers/server.js';
import { openSocket } from '../helpers/websocket.js';

const { base } = await testServer({ poolSize: 0 });
const created = await post(base, '/api/v1/sessions', { language: 'python' });
assert.equal(created.status, 201, JSON.stringify(created.body));
const id: string = created.body.id;
const connect = (session = id) => openSocket(base, `/api/v1/sessions/${session}/connect`);
/** All stdout received so far (a line may come in several chunks). */
const stdoutOf = (messages: any[]): string => messages.filter((m) => m.type === 'stdout').map((m) => m.data).join('');
const ECHO = 'import sys\nfor line in sys.stdin:\n    print("echo:", line.strip(), flush=True)\nprint("bye")\n';

describe('the interactive process WebSocket of a session', () => {
  it('drives a program line by line over stdin, then ends it with EOF', async () => {
    const client = await connect();
    client.send({ type: 'start', code: ECHO });
    await client.next((m) => m.type === 'stage');
    client.send({ type: 'stdin', data: 'one\n' });
    await client.next((m) => m.type === 'stdout' && stdoutOf(client.messages).includes('echo: one\n'));
    client.send({ type: 'stdin', data: 'two\n' });
    await client.next((m) => m.type === 'stdout' && stdoutOf(client.messages).includes('echo: two\n'));
    client.send({ type: 'stdin', eof: true });
    const exit = await client.next((m) => m.type === 'exit');
    assert.equal(exit.exit_code, 0);
    assert.equal(exit.result.stdout, 'echo: one\necho: two\nbye\n');
    assert.deepEqual(await client.closed, { code: 1000, reason: 'exited' });
    const seqs = client.messages.filter((m) => m.type === 'stdout').map((m) => m.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => i));
  });

  it('sends a signal to a long-running command; the session lives on', async () => {
    const client = await connect();
    const started = performance.now();
    client.send({ type: 'start', command: ['sh', '-c', 'echo ready; exec sleep 30'], timeout: 25_000 });
    await client.next((m) => m.type === 'stdout');
    client.send({ type: 'signal', signal: 'SIGINT' });
    const exit = await client.next((m) => m.type === 'exit');
    assert.equal(exit.signal, 'SIGINT');
    assert.ok(performance.now() - started < 15_000);
    const after = await post(base, `/api/v1/sessions/${id}/execute`, { command: ['echo', 'alive'] });
    assert.equal(after.body.stdout, 'alive\n');
  });

  it('kills the process when the socket closes, and answers bad messages with an error and 4000 + status', async () => {
    const client = await connect();
    client.send({ type: 'start', command: ['sleep', '30'], timeout: 25_000 });
    await client.next((m) => m.type === 'stage');
    client.ws.terminate();
    const cut = performance.now();
    const after = await post(base, `/api/v1/sessions/${id}/execute`, { command: ['echo', 'next'] });
    assert.equal(after.body.stdout, 'next\n');
    assert.ok(performance.now() - cut < 10_000, 'the killed process no longer held the session');

    const early = await connect();
    early.send({ type: 'stdin', data: 'x' });
    assert.deepEqual(await early.closed, { code: 4400, reason: 'RC_ERR_INVALID_REQUEST' });
    assert.equal(early.messages[0].error.field, 'type');
    const bad = await connect();
    bad.send({ type: 'start', code: 'print(1)', timeout: 'soon' });
    assert.equal((await bad.closed).code, 4400);
    assert.equal(bad.messages[0].error.field, 'timeout');
    const missing = await connect('no-such-session');
    missing.send({ type: 'start', code: 'print(1)' });
    assert.equal((await missing.closed).code, 4404);
  });
});
