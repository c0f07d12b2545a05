import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from '../../src/config/paths.js';
import { startCanary, type Canary } from '../helpers/canary.js';
import { MARKER, securityServer } from '../helpers/hostile.js';
import { startOutsideHost, type OutsideHost } from '../helpers/outside-host.js';
import { netOf, waitForProcess } from '../helpers/sandbox-procs.js';

/**
 * Network egress, judged on the host. Sandboxed programs try every way out they have, but only
 * towards addresses that are loopback or that this test made: canary listeners on the host (its
 * loopback addresses, an abstract Unix socket, the API port) and an "outside" host in a network
 * namespace of the test's own, joined to the host by a veth pair (helpers/outside-host.ts), which the
 * host reaches before and after each attack. No listener may log a contact; the sandbox's network
 * namespace, read by the host's own `ip` inside it, holds only `lo`, only loopback addresses and
 * routes, no way to the outside host, and no raw or packet socket. No test traffic goes anywhere else.
 */

const PYTHON = String.raw`import json, socket, sys, time
cfg = json.load(sys.stdin)
out = []
def attempt(name, fn):
    try:
        fn(); out.append(name + " OK")
    except OSError as e:
        out.append(name + " " + str(e.errno))
def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET
def tcp(host, port, payload=b""):
    s = socket.socket(family(host), socket.SOCK_STREAM); s.settimeout(1); s.connect((host, port)); s.sendall(payload); s.close()
def udp(host, port):
    socket.socket(family(host), socket.SOCK_DGRAM).sendto(b"x", (host, port))
for host in cfg["targets"]:
    attempt("tcp " + host, lambda: tcp(host, cfg["port"]))
    attempt("udp " + host, lambda: udp(host, cfg["port"]))
for host in cfg["outside"]:
    attempt("outside tcp " + host, lambda: tcp(host, cfg["outsidePort"], b"GET /MARKER HTTP/1.0\r\n\r\n"))
    attempt("outside udp " + host, lambda: udp(host, cfg["outsidePort"]))
    attempt("outside dns-udp " + host, lambda: udp(host, 53))
    attempt("outside dns-tcp " + host, lambda: tcp(host, 53))
attempt("api", lambda: tcp("127.0.0.1", cfg["api"], b"GET /MARKER HTTP/1.1\r\nHost: x\r\n\r\n"))
attempt("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attempt("raw6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6))
attempt("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0))
attempt("ping", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP))
attempt("abstract", lambda: socket.socket(socket.AF_UNIX).connect("\0" + cfg["abstract"]))
print("\n".join(out), flush=True)
open("/proc/self/comm", "w").write("rc-ready")
time.sleep(1)
`.replaceAll('MARKER', MARKER);

const NODE = String.raw`const net = require('net'), dgram = require('dgram'), dns = require('dns');
const cfg = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const tcp = (host, port) => new Promise((resolve) => {
  const s = net.connect({ host, port, timeout: 1000 }, () => { s.destroy(); resolve('OK'); });
  s.on('error', (e) => resolve(e.code)).on('timeout', () => { s.destroy(); resolve('timeout'); });
});
const udp = (host, port) => new Promise((resolve) => {
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  s.send('x', port, host, (e) => { s.close(); resolve(e ? e.code : 'sent'); });
});
(async () => {
  for (const host of cfg.targets) console.log('tcp', host, await tcp(host, cfg.port), 'udp', await udp(host, cfg.port));
  for (const host of cfg.outside) {
    console.log('outside tcp', host, await tcp(host, cfg.outsidePort), 'udp', await udp(host, cfg.outsidePort));
    // A resolver on the outside host: the query must not reach it.
    const resolver = new dns.promises.Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([host.includes(':') ? '[' + host + ']:53' : host + ':53']);
    console.log('dns', host, await resolver.resolve4('runner-codes.test').then(() => 'OK', (e) => e.code));
  }
  console.log('api', await tcp('127.0.0.1', cfg.api));
  console.log('abstract', await new Promise((r) => net.connect({ path: '\0' + cfg.abstract }).on('connect', () => r('OK')).on('error', (e) => r(e.code))));
})();
`;

const BASH = (cfg: { targets: string[]; port: number; outside: string[]; outsidePort: number; api: number }): string =>
  [
    ...cfg.targets.map((host) => `(exec 3<>/dev/tcp/${host}/${cfg.port}) 2>/dev/null && echo "tcp ${host} OK" || echo "tcp ${host} refused"`),
    ...cfg.targets.map((host) => `(echo x >/dev/udp/${host}/${cfg.port}) 2>/dev/null; echo "udp ${host} tried"`),
    ...cfg.outside.map((host) => `(exec 3<>/dev/tcp/${host}/${cfg.outsidePort}) 2>/dev/null && echo "outside tcp ${host} OK" || echo "outside tcp ${host} refused"`),
    ...cfg.outside.map((host) => `(echo x >/dev/udp/${host}/${cfg.outsidePort}) 2>/dev/null && echo "outside udp ${host} OK" || echo "outside udp ${host} refused"`),
    `(exec 3<>/dev/tcp/127.0.0.1/${cfg.api}) 2>/dev/null && echo "api OK" || echo "api refused"`,
  ].join('\n');

interface Namespace {
  inode: string;
  links: string[];
  addresses: string[];
  /** Every route of every table, as `table dev destination`. */
  routes: string[];
  /** Whether the kernel finds a route from the namespace to each address (a lookup: nothing is sent). */
  routeTo: Record<string, boolean>;
}

/**
 * A network namespace as the host's own `ip` sees it from inside (nsenter joins the network namespace
 * only: the binary, its libraries and its view of files stay the host's).
 */
function namespaceOf(pid: number, destinations: string[]): Namespace {
  // SECURITY: /proc/<pid>/ns/net is made by the kernel; nothing of the sandbox's file tree is opened.
  const ip = (...args: string[]): string => execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'ip', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const json = (...args: string[]): any[] => JSON.parse(ip('-j', ...args) || '[]');
  const routes = [...json('-4', 'route', 'show', 'table', 'all'), ...json('-6', 'route', 'show', 'table', 'all')];
  const reachable = (address: string): boolean => {
    try {
      ip('route', 'get', address);
      return true;
    } catch {
      return false; // "Network is unreachable"
    }
  };
  return {
    inode: readlinkSync(`/proc/${pid}/ns/net`),
    links: json('link', 'show').map((l) => l.ifname),
    addresses: json('addr', 'show').flatMap((l) => (l.addr_info ?? []).map((a: { local: string; prefixlen: number }) => `${l.ifname} ${a.local}/${a.prefixlen}`)),
    routes: routes.map((r) => `${r.table ?? 'main'} ${r.dev ?? '-'} ${r.gateway ? `via ${r.gateway} ` : ''}${r.dst}`),
    routeTo: Object.fromEntries(destinations.map((d) => [d, reachable(d)])),
  };
}

/** Files that write an outside address without sending anything to it. */
const NAMES_ONLY: Record<string, string> = {
  'test/unit/api-config.test.ts': 'isLoopback() on address strings',
  'test/fixtures/firecracker/firecracker-v1.16.1.yaml': "Firecracker's vendored API spec (MMDS's documented default address); data, never a target",
  'test/api/callbacks.test.ts': 'isForbiddenAddress() and resolveCallbackAddress() on literals: refused before any lookup or connection',
  'test/api/submissions.test.ts': 'a callback_url refused by validation (400): nothing is queued or sent',
  'test/unit/queue-options.test.ts': 'redisOptionsOf() parsing a URL string',
  'test/unit/remote-ref.test.ts': 'parseRemoteRef()/parseChallenge() on reference and header strings',
  'test/integration/registry-client.test.ts': 'an S3 endpoint the client refuses at construction (plain HTTP off loopback): never contacted',
};

/** IPv4 literals a test may use: loopback, the unspecified address, the outside host's 198.18.0.0/15. */
const allowedV4 = (octets: number[]): boolean => octets[0] === 127 || octets.every((o) => o === 0) || (octets[0] === 198 && (octets[1] === 18 || octets[1] === 19));
const PUBLIC_NAMES = /\b(example\.(com|org|net)|(google|cloudflare|quad9|opendns)\.(com|net|dns))\b/i;

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else files.push(path);
  }
  return files;
}

describe('the tests, benches and CI scripts', () => {
  it('name no address outside loopback and the ranges the tests make themselves', () => {
    const found: string[] = [];
    for (const file of ['test', 'bench', '.ci'].flatMap((dir) => sourceFiles(join(packageRoot, dir)))) {
      const name = relative(packageRoot, file);
      if (NAMES_ONLY[name]) continue;
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        for (const m of line.matchAll(/\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b/g)) {
          const octets = m.slice(1).map(Number);
          if (octets.every((o) => o <= 255) && !allowedV4(octets)) found.push(`${name}:${i + 1}: ${m[0]}`);
        }
        const host = PUBLIC_NAMES.exec(line);
        if (host) found.push(`${name}:${i + 1}: ${host[0]}`);
      });
    }
    assert.deepEqual(found, []);
  });
});

describe('network egress', async () => {
  const server = await securityServer();
  const outside: OutsideHost = await startOutsideHost();
  const canary: Canary = await startCanary(outside.hostAddresses);
  // Removed before the host (its addresses included) is compared with its state at the start.
  server.onTeardown(async () => {
    await canary.close();
    outside.close();
  });
  const api = Number(new URL(server.base).port);
  before(async () => {
    await canary.selfTest();
    await outside.reachableFromHost();
  });
  after(() => assert.deepEqual(outside.contacts, []));

  const config = { targets: canary.targets, port: canary.port, abstract: canary.abstractName, outside: outside.addresses, outsidePort: outside.port, api };
  const input = (): string => JSON.stringify(config);

  /** Nothing reached a listener, and the outside host was up and reachable from the host all along. */
  async function nothingReached(): Promise<void> {
    assert.deepEqual(canary.contacts, [], 'the host-side canary was contacted');
    assert.deepEqual(outside.contacts, [], 'the outside host was contacted');
    await outside.reachableFromHost();
  }

  it('python: TCP, UDP, DNS, raw and packet sockets, IPv6, the API port and the outside host reach nothing', async () => {
    const connectionsBefore = server.connections();
    const pending = server.attack({ language: 'python', code: PYTHON, stdin: input(), timeout: 15_000 });
    const ready = await waitForProcess((p) => p.comm === 'rc-ready', 15_000);
    const ns = namespaceOf(ready.pid, [...outside.addresses, ...outside.hostAddresses]);
    const raw = netOf(ready.pid);
    const result = await pending;

    assert.notEqual(ns.inode, readlinkSync('/proc/self/ns/net'), 'the sandbox shares the host network namespace');
    assert.deepEqual(ns.links, ['lo'], 'interfaces of the sandbox network namespace');
    assert.deepEqual(ns.addresses.sort(), ['lo 127.0.0.1/8', 'lo ::1/128'], 'addresses of the sandbox network namespace');
    assert.deepEqual(ns.routes.filter((r) => !/^\S+ lo /.test(r) || r.includes(' via ')), [], 'routes other than loopback');
    assert.deepEqual(ns.routeTo, Object.fromEntries(Object.keys(ns.routeTo).map((a) => [a, false])), 'a route out of the sandbox');
    // The same lookups on the host find the outside host: the test's network is really there.
    for (const address of outside.addresses) execFileSync('ip', ['route', 'get', address], { stdio: 'ignore' });
    assert.deepEqual(raw.raw, []);
    assert.deepEqual(raw.packet, []);

    await nothingReached();
    assert.ok(server.connections() - connectionsBefore <= 1, 'the API server accepted a connection from the sandbox');
    assert.ok(!server.logs.some((line) => line.includes(`/${MARKER}`)), 'the API server logged a request from the sandbox');
    // The program's own view agrees: nothing connected, privileged socket types refused. (A UDP
    // datagram to the sandbox's own loopback is "sent" to nobody.)
    assert.doesNotMatch(result.stdout.replace(/^udp .*$/gm, ''), / OK$/m, result.stdout);
    for (const kind of ['raw', 'raw6', 'packet']) assert.match(result.stdout, new RegExp(`^${kind} 1$`, 'm'), kind);
    for (const host of outside.addresses) assert.match(result.stdout, new RegExp(`^outside tcp ${host} 101$`, 'm'), `tcp to ${host}: ENETUNREACH`);
  });

  it('node: TCP, UDP, a DNS query and the abstract socket reach nothing', async () => {
    const result = await server.attack({ language: 'javascript', code: NODE, stdin: input(), timeout: 15_000 });
    await nothingReached();
    assert.doesNotMatch(result.stdout, /\bOK\b/, result.stdout);
    assert.equal(result.stdout.match(/^dns /gm)?.length, outside.addresses.length, result.stdout + result.stderr);
  });

  it('bash: /dev/tcp and /dev/udp to every address reach nothing', async () => {
    const result = await server.attack({ language: 'bash', code: BASH(config), timeout: 15_000 });
    await nothingReached();
    assert.doesNotMatch(result.stdout, / OK$/m, result.stdout);
    assert.match(result.stdout, /^api refused$/m);
  });
});
