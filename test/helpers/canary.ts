import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { randomBytes } from 'node:crypto';

/** Loopback addresses of the host a program might try: 127.0.0.0/8 is loopback as a whole. */
const LOOPBACK = ['127.0.0.1', '127.1.2.3', '::1'];

/**
 * Listeners on the host that record every contact: a TCP server and a UDP socket on one port of every
 * host address (IPv4 and IPv6), and an abstract Unix socket. What they log is the verdict of the
 * network tests: sandboxed code must never appear there. The targets are the host's loopback
 * addresses and whatever addresses the test made itself (`extraTargets`): tests send nothing to any
 * other address, not even from inside a sandbox.
 */
export interface Canary {
  port: number;
  abstractName: string;
  /** The host addresses a program tries: loopback, and the test's own. */
  targets: string[];
  contacts: string[];
  close(): Promise<void>;
  /** Proves the canary records: contacts it from the host itself, then clears the log. */
  selfTest(): Promise<void>;
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port }, () => resolve());
  });
}

export async function startCanary(extraTargets: string[] = []): Promise<Canary> {
  const contacts: string[] = [];
  const record = (what: string) => (socket: { remoteAddress?: string | undefined; end(): void }) => {
    contacts.push(`${what} from ${socket.remoteAddress}`);
    socket.end();
  };
  const tcp = createServer(record('tcp'));
  await listen(tcp, 0); // '::' dual-stack: every host address, v4 and v6
  const port = (tcp.address() as { port: number }).port;
  const udp: UdpSocket = createSocket({ type: 'udp6', ipv6Only: false });
  udp.on('message', (_msg, info) => contacts.push(`udp from ${info.address}`));
  await new Promise<void>((resolve) => udp.bind(port, '::', resolve));
  const abstractName = `rc-canary-${randomBytes(4).toString('hex')}`;
  const abstract = createServer(record('abstract unix'));
  await new Promise<void>((resolve) => abstract.listen({ path: `\0${abstractName}` }, resolve));
  const targets = [...LOOPBACK, ...extraTargets];
  return {
    port,
    abstractName,
    targets,
    contacts,
    async selfTest() {
      const poke = (options: { host?: string; port?: number; path?: string }): Promise<void> =>
        new Promise((resolve) => connect(options as never).on('close', () => resolve()).on('error', () => resolve()).resume());
      for (const host of targets) await poke({ host, port });
      await poke({ path: `\0${abstractName}` });
      for (const host of targets) {
        const sender = createSocket(host.includes(':') ? 'udp6' : 'udp4');
        await new Promise<void>((resolve) => sender.send('x', port, host, () => resolve()));
        sender.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const expected = targets.length * 2 + 1;
      if (contacts.length < expected) throw new Error(`canary recorded ${contacts.length} of ${expected} host contacts: ${contacts.join(', ')}`);
      contacts.length = 0;
    },
    async close() {
      udp.close();
      await Promise.all([tcp, abstract].map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}
