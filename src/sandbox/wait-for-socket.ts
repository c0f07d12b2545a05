import { connect, type Socket } from 'node:net';
import type { SandboxLiveness } from './launched-sandbox.js';
import { holdVmSocket, type HeldSocket } from './vm-socket.js';

/**
 * Polls until the VMM's Unix socket at `path` accepts a connection (a VMM creates it while it
 * starts); connects only to a socket the VM's uid made (holdVmSocket).
 */
export async function connectWhenListening(path: string, uid: number, live: SandboxLiveness): Promise<Socket> {
  for (;;) {
    live.check();
    const held = holdVmSocket(path, uid);
    const socket = held && (await tryConnect(held));
    if (socket) return socket;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function tryConnect(held: HeldSocket): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(held.path);
    socket.once('connect', () => {
      held.close();
      resolve(socket);
    });
    socket.once('error', () => {
      held.close();
      socket.destroy();
      resolve(undefined);
    });
  });
}
