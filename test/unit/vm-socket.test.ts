import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { holdVmSocket } from '../../src/sandbox/vm-socket.js';

/** The host connects only to a socket the VM's uid made, never through a path the VMM could swap. */
describe('VMM sockets held by descriptor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rc-vmsock-'));
  const uid = process.getuid!();
  let server: Server;
  after(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects to the socket itself through /proc/self/fd', async () => {
    const path = join(dir, 'api.sock');
    server = createServer((socket) => socket.end('hello')).listen(path);
    await new Promise((resolve) => server.once('listening', resolve));
    const held = holdVmSocket(path, uid)!;
    assert.match(held.path, /^\/proc\/self\/fd\/\d+$/);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(held.path);
      socket.on('data', (chunk) => resolve(chunk.toString()));
      socket.on('error', reject);
    });
    held.close();
    held.close();
    assert.equal(answer, 'hello');
  });

  it('waits for a socket that is not there yet', () => {
    assert.equal(holdVmSocket(join(dir, 'later.sock'), uid), null);
  });

  it('refuses a symlink, a plain file, and a socket of another uid', () => {
    const link = join(dir, 'vsock.sock');
    symlinkSync(join(dir, 'api.sock'), link);
    assert.throws(() => holdVmSocket(link, uid), /is not a socket made by the VM/);
    const file = join(dir, 'file.sock');
    writeFileSync(file, '');
    assert.throws(() => holdVmSocket(file, uid), /is not a socket made by the VM/);
    assert.throws(() => holdVmSocket(join(dir, 'api.sock'), uid + 1), /is not a socket made by the VM \(uid \d+\); refusing to connect/);
  });
});
