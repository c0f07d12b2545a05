import type { Socket } from 'node:net';
import type { SandboxLiveness } from '../launched-sandbox.js';
import { holdVmSocket, type HeldSocket } from '../vm-socket.js';
import { FirecrackerApiClient } from './api-client.js';
import { connectVsock } from './vsock.js';

/** The guest's agent listens here (runner-vminit's rc.vsock). */
export const AGENT_VSOCK_PORT = 5000;

/** A socket Firecracker makes: its host path, and the VM's uid, which must own it. */
export interface VmmSocket {
  host: string;
  uid: number;
}

/** Waits for Firecracker's API socket, then runs `use` with a client on it (each request bounded by `timeoutMs`). */
export async function withApi(api: VmmSocket, live: SandboxLiveness, use: (client: FirecrackerApiClient) => Promise<void>, timeoutMs = 5000): Promise<void> {
  let held: HeldSocket | null;
  while (!(held = holdVmSocket(api.host, api.uid))) {
    live.check();
    await pause(10);
  }
  const client = new FirecrackerApiClient({ socketPath: held.path, timeoutMs });
  try {
    await use(client);
  } finally {
    await client.close();
    held.close();
  }
}

/** Connects to the guest's agent through Firecracker's vsock socket, once the guest listens. */
export async function connectAgent(vsock: VmmSocket, live: SandboxLiveness): Promise<Socket> {
  // Until the guest's init listens on the port, Firecracker closes a CONNECT: try again.
  for (;;) {
    live.check();
    const held = holdVmSocket(vsock.host, vsock.uid);
    try {
      const timeoutMs = Math.max(100, Math.min(5000, live.deadline - Date.now()));
      if (held) return (await connectVsock({ udsPath: held.path, port: AGENT_VSOCK_PORT, timeoutMs })).socket;
    } catch {
      // not listening yet
    } finally {
      held?.close();
    }
    await pause(50);
  }
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
