import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';

/** The cloud metadata address; the canary puts it on the host's loopback for the duration. */
export const METADATA_ADDRESS = '169.254.169.254';

/**
 * Listeners on the host that record every contact: a TCP server on all addresses (IPv4 and IPv6,
 * so the host loopback, its LAN address and ::1 alike), a UDP socket likewise, an abstract Unix
 * socket, and, when the address can be added, a TCP server on 169.254.169.254:80 and :port. What
 * they log is the verdict of the network tests: sandboxed code must never appear there.
 */
export interface Canary {
  port: number;
  abstractName: string;
  /** Host addresses a program might try (loopback, LAN, IPv6, metadata when set up). */
  targets: string[];
  contacts: string[];
  close(): Promise<void>;
  /** Proves the canary records: contacts it from the host itself, then clears the log. */
  selfTest(): Promise<void>;
}

function hostAddresses(): string[] {
  const found = new Set(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.address.startsWith('fe80')) found.add(a.address);
  }
  return [...found];
}

function listen(server: Server, port: number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(host === undefined ? { port } : { port, host }, () => resolve());
  });
}

function addMetadataAddress(): boolean {
  try {
    execFileSync('ip', ['addr', 'add', `${METADATA_ADDRESS}/32`, 'dev', 'lo'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function startCanary(): Promise<Canary> {
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
  const servers: Server[] = [tcp, abstract];
  const targets = hostAddresses();
  const metadata = addMetadataAddress();
  if (metadata) {
    targets.push(METADATA_ADDRESS);
    const http = createServer(record('metadata :80'));
    if (await listen(http, 80, METADATA_ADDRESS).then(() => true, () => false)) servers.push(http);
  }
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
      if (metadata) await poke({ host: METADATA_ADDRESS, port: 80 });
      const sender = createSocket('udp4');
      await new Promise<void>((resolve) => sender.send('x', port, '127.0.0.1', () => resolve()));
      sender.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const expected = targets.length + 1 + (servers.length > 2 ? 1 : 0) + 1;
      if (contacts.length < expected) throw new Error(`canary recorded ${contacts.length} of ${expected} host contacts: ${contacts.join(', ')}`);
      contacts.length = 0;
    },
    async close() {
      udp.close();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      if (metadata) execFileSync('ip', ['addr', 'del', `${METADATA_ADDRESS}/32`, 'dev', 'lo'], { stdio: 'ignore' });
    },
  };
}
