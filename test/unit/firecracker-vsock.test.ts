import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VsockHandshakeError, connectVsock } from '../../src/sandbox/firecracker/vsock.js';
import { InvalidRequestError } from '../../src/errors.js';

/**
 * A Unix-socket server playing Firecracker's side of the hybrid vsock handshake (Firecracker
 * docs/vsock.md): read `CONNECT <port>\n`, answer `OK <host port>\n` when the guest listens on
 * that port, else close. After OK it relays to the "guest", here an echo.
 */

type Behaviour = (socket: Socket, connectLine: string) => void;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function fakeVsock(behaviour: Behaviour): Promise<{ udsPath: string; lines: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'rc-fc-vsock-'));
  const udsPath = join(dir, 'v.sock');
  const lines: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('latin1');
      const newline = buffered.indexOf('\n');
      if (newline === -1) return;
      socket.off('data', onData);
      const line = buffered.slice(0, newline);
      lines.push(line);
      const rest = buffered.slice(newline + 1);
      behaviour(socket, line);
      if (rest.length > 0) socket.emit('data', Buffer.from(rest, 'latin1'));
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(udsPath, resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });
  return { udsPath, lines };
}

/** Firecracker with a guest listening on `port` whose listener echoes. */
const echoGuest =
  (port: number, greeting = ''): Behaviour =>
  (socket, line) => {
    if (line !== `CONNECT ${port}`) return void socket.end();
    // OK and the guest's first bytes in one write: one packet on the wire.
    socket.write(`OK 1073741824\n${greeting}`);
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
  };

/** Reads `bytes` characters, failing (not hanging) when they do not come within `timeoutMs`. */
function readExactly(socket: Socket, bytes: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      socket.off('data', onData);
      reject(new Error(`expected ${bytes} bytes within ${timeoutMs} ms, got ${JSON.stringify(text)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (text.length >= bytes) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

describe('connectVsock', { timeout: 20_000 }, () => {
  it('sends CONNECT <port>, reads OK <host port> and hands over a working stream', async () => {
    const { udsPath, lines } = await fakeVsock(echoGuest(5000));
    const { socket, hostPort } = await connectVsock({ udsPath, port: 5000, timeoutMs: 2000 });
    try {
      assert.deepEqual(lines, ['CONNECT 5000']);
      assert.equal(hostPort, 1073741824);
      socket.write('ping');
      assert.equal(await readExactly(socket, 4), 'ping');
    } finally {
      socket.destroy();
    }
  });

  it('keeps bytes that arrived in the same packet as the OK line', async () => {
    const { udsPath } = await fakeVsock(echoGuest(5000, 'READY\x00\x01'));
    const { socket } = await connectVsock({ udsPath, port: 5000, timeoutMs: 2000 });
    try {
      // Attach the reader a little later: the early bytes must wait in the socket, not be lost.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await readExactly(socket, 7), 'READY\x00\x01');
      socket.write('after');
      assert.equal(await readExactly(socket, 5), 'after');
    } finally {
      socket.destroy();
    }
  });

  it('works with an OK line split across packets', async () => {
    const { udsPath } = await fakeVsock((socket) => {
      socket.setNoDelay?.(true);
      socket.write('OK 10');
      setTimeout(() => socket.write('73741825\nhi'), 20);
    });
    const { socket, hostPort } = await connectVsock({ udsPath, port: 52, timeoutMs: 2000 });
    try {
      assert.equal(hostPort, 1073741825);
      assert.equal(await readExactly(socket, 2), 'hi');
    } finally {
      socket.destroy();
    }
  });

  it('reports a closed connection (nothing listens on the guest port) clearly', async () => {
    const { udsPath, lines } = await fakeVsock(echoGuest(5000));
    await assert.rejects(connectVsock({ udsPath, port: 5001, timeoutMs: 2000 }), (err: unknown) => {
      assert.ok(err instanceof VsockHandshakeError);
      assert.equal(err.reason, 'closed');
      assert.match(err.message, /closed before 'OK': nothing listens on guest port 5001/);
      return true;
    });
    assert.deepEqual(lines, ['CONNECT 5001']);
  });

  it('reports an answer other than OK', async () => {
    const { udsPath } = await fakeVsock((socket) => socket.write('ERR no such port\n'));
    await assert.rejects(connectVsock({ udsPath, port: 5000, timeoutMs: 2000 }), (err: unknown) => {
      assert.ok(err instanceof VsockHandshakeError);
      assert.equal(err.reason, 'refused');
      assert.match(err.message, /CONNECT 5000 refused: expected 'OK <port>', got "ERR no such port"/);
      return true;
    });
  });

  it('refuses an endless first line', async () => {
    const { udsPath } = await fakeVsock((socket) => socket.write('x'.repeat(200)));
    await assert.rejects(connectVsock({ udsPath, port: 5000, timeoutMs: 2000 }), (err: VsockHandshakeError) => err.reason === 'refused');
  });

  it('times out when no answer comes', async () => {
    const { udsPath } = await fakeVsock(() => undefined);
    const started = Date.now();
    await assert.rejects(connectVsock({ udsPath, port: 5000, timeoutMs: 150 }), (err: unknown) => {
      assert.ok(err instanceof VsockHandshakeError);
      assert.equal(err.reason, 'timeout');
      assert.match(err.message, /no 'OK' for CONNECT 5000 within 150 ms/);
      return true;
    });
    assert.ok(Date.now() - started < 1500);
  });

  it('reports a missing socket as a connect failure', async () => {
    await assert.rejects(connectVsock({ udsPath: '/nonexistent/rc-fc/v.sock', port: 5000, timeoutMs: 1000 }), (err: unknown) => {
      assert.ok(err instanceof VsockHandshakeError);
      assert.equal(err.reason, 'connect');
      assert.match(err.message, /ENOENT/);
      return true;
    });
  });

  it('validates its options before connecting', async () => {
    await assert.rejects(connectVsock({ udsPath: '/tmp/v.sock', port: -1 }), InvalidRequestError);
    await assert.rejects(connectVsock({ udsPath: '/tmp/v.sock', port: 2 ** 32 }), InvalidRequestError);
    await assert.rejects(connectVsock({ udsPath: '', port: 5000 }), InvalidRequestError);
    await assert.rejects(connectVsock({ udsPath: '/tmp/v.sock', port: 5000, timeoutMs: 0 }), InvalidRequestError);
  });
});
