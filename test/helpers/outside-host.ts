import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

/**
 * A host of the test's own outside the host: a network namespace joined to the host by a veth pair,
 * with addresses in ranges nobody routes (198.18.0.0/15, benchmarking, RFC 2544; an fd00::/8 unique
 * local prefix), and a listener in it recording every TCP connection and UDP datagram on its port and
 * on port 53 (a resolver's). The host can reach it; a sandbox must not. Made and removed by the test:
 * no test traffic ever goes to an address it did not create.
 */
export interface OutsideHost {
  /** The namespace's addresses (v4, and v6 where the host has IPv6). */
  addresses: string[];
  /** The host's own end of the veth pair. */
  hostAddresses: string[];
  port: number;
  /** `tcp <port> from <address>`, `udp <port> from <address>` */
  contacts: string[];
  /** Connects to each address from the host and waits until the listener logged it; then clears the log. */
  reachableFromHost(): Promise<void>;
  close(): void;
}

// The listener, run inside the namespace. It prints `ready` once all sockets are bound.
const LISTENER = String.raw`const net = require('net'), dgram = require('dgram');
const ports = process.argv.slice(1).map(Number);
let pending = ports.length * 2;
const up = () => { if (--pending === 0) console.log('ready'); };
const peer = (a) => a.replace(/^::ffff:/, '');
for (const port of ports) {
  net.createServer((s) => { console.log('tcp ' + port + ' from ' + peer(s.remoteAddress)); s.destroy(); }).listen({ port, host: '::' }, up);
  const udp = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  udp.on('message', (_m, info) => console.log('udp ' + port + ' from ' + peer(info.address)));
  udp.bind(port, '::', up);
}`;

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

function ipv6Enabled(): boolean {
  try {
    return readFileSync('/proc/sys/net/ipv6/conf/all/disable_ipv6', 'utf8').trim() === '0';
  } catch {
    return false;
  }
}

export async function startOutsideHost(): Promise<OutsideHost> {
  const tag = randomBytes(3).toString('hex');
  const ns = `rc-test-outside-${tag}`;
  const hostEnd = `rco${tag}h`; // interface names: at most 15 characters
  const nsEnd = `rco${tag}n`;
  const subnet = randomInt(1, 255);
  const v4 = { host: `198.18.${subnet}.1`, ns: `198.18.${subnet}.2` };
  // Each group without leading zeros and never 0 (which `::` would swallow): the form the kernel,
  // and so the listener's log, prints.
  const groups = /(..)(....)(....)/.exec(randomBytes(5).toString('hex'))!.slice(1);
  const prefix = `fd${groups[0]}:${groups.slice(1).map((g) => g.replace(/^0+/, '') || '1').join(':')}`;
  const v6 = { host: `${prefix}::1`, ns: `${prefix}::2` };
  const withV6 = ipv6Enabled();
  const port = randomInt(20_000, 60_000);

  const remove = (): void => {
    for (const args of [['netns', 'del', ns], ['link', 'del', hostEnd]]) {
      try {
        ip(...args);
      } catch {
        // already gone (deleting the namespace deletes both ends of the pair)
      }
    }
  };
  ip('netns', 'add', ns);
  try {
    ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd);
    ip('link', 'set', nsEnd, 'netns', ns);
    ip('addr', 'add', `${v4.host}/24`, 'dev', hostEnd);
    ip('-n', ns, 'addr', 'add', `${v4.ns}/24`, 'dev', nsEnd);
    if (withV6) {
      ip('-6', 'addr', 'add', `${v6.host}/64`, 'dev', hostEnd, 'nodad');
      ip('-n', ns, '-6', 'addr', 'add', `${v6.ns}/64`, 'dev', nsEnd, 'nodad');
    }
    ip('link', 'set', hostEnd, 'up');
    ip('-n', ns, 'link', 'set', nsEnd, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  } catch (err) {
    remove();
    throw err;
  }

  const listener = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', LISTENER, String(port), '53'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const contacts: string[] = [];
  const lines = createInterface({ input: listener.stdout });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => (line === 'ready' ? resolve() : contacts.push(line)));
    listener.once('exit', (code) => reject(new Error(`the outside host's listener exited (${code})`)));
  }).catch((err: Error) => {
    remove();
    throw err;
  });

  const addresses = [v4.ns, ...(withV6 ? [v6.ns] : [])];
  const hostAddresses = [v4.host, ...(withV6 ? [v6.host] : [])];
  return {
    addresses,
    hostAddresses,
    port,
    contacts,
    async reachableFromHost() {
      for (const host of addresses) {
        await new Promise<void>((resolve, reject) => {
          const socket = connect({ host, port, timeout: 5000 }, () => {
            socket.destroy();
            resolve();
          });
          socket.on('error', reject).on('timeout', () => reject(new Error(`the host could not reach ${host}:${port}`)));
        });
      }
      const deadline = Date.now() + 5000;
      while (contacts.length < addresses.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const expected = addresses.map((_a, i) => `tcp ${port} from ${hostAddresses[i]}`);
      if (JSON.stringify(contacts) !== JSON.stringify(expected)) throw new Error(`outside host logged ${JSON.stringify(contacts)}, expected ${JSON.stringify(expected)}`);
      contacts.length = 0;
    },
    close() {
      listener.kill();
      remove();
    },
  };
}
