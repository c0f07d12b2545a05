import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCanary, type Canary } from '../helpers/canary.js';
import { MARKER, securityServer } from '../helpers/hostile.js';
import { netOf, waitForProcess } from '../helpers/sandbox-procs.js';

/**
 * Network egress. The verdict is the host's: canary listeners on every host address (loopback,
 * LAN, IPv6, an abstract Unix socket, 169.254.169.254) must log no contact, the API server must
 * accept no connection from a sandbox, and the sandbox's network namespace, read through the
 * host's /proc, must hold only `lo`, no route and no raw or packet socket.
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
for port in (80, 443):
    attempt("metadata %d" % port, lambda: tcp("169.254.169.254", port, b"GET /latest/meta-data/ HTTP/1.0\r\n\r\n"))
attempt("api", lambda: tcp("127.0.0.1", cfg["api"], b"GET /MARKER HTTP/1.1\r\nHost: x\r\n\r\n"))
attempt("internet", lambda: tcp("1.1.1.1", 443))
attempt("dns", lambda: socket.getaddrinfo("example.com", 80))
for ns in [l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver")]:
    attempt("dns-udp " + ns, lambda: udp(ns, 53))
attempt("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attempt("raw6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6))
attempt("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0))
attempt("ping", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP))
attempt("broadcast", lambda: udp("255.255.255.255", cfg["port"]))
attempt("abstract", lambda: socket.socket(socket.AF_UNIX).connect("\0" + cfg["abstract"]))
print("\n".join(out), flush=True)
open("/proc/self/comm", "w").write("rc-ready")
time.sleep(1)
`.replace('MARKER', MARKER);

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
  console.log('api', await tcp('127.0.0.1', cfg.api));
  console.log('abstract', await new Promise((r) => net.connect({ path: '\0' + cfg.abstract }).on('connect', () => r('OK')).on('error', (e) => r(e.code))));
  console.log('dns', await dns.promises.lookup('example.com').then(() => 'OK', (e) => e.code));
})();
`;

const BASH = (port: number, targets: string[], api: number): string => [
  ...targets.map((host) => `(exec 3<>/dev/tcp/${host}/${port}) 2>/dev/null && echo "tcp ${host} OK" || echo "tcp ${host} refused"`),
  ...targets.map((host) => `(echo x >/dev/udp/${host}/${port}) 2>/dev/null; echo "udp ${host} tried"`),
  `(exec 3<>/dev/tcp/127.0.0.1/${api}) 2>/dev/null && echo "api OK" || echo "api refused"`,
  `(exec 3<>/dev/tcp/169.254.169.254/80) 2>/dev/null && echo "metadata OK" || echo "metadata refused"`,
].join('\n');

describe('network egress', async () => {
  const server = await securityServer();
  const canary: Canary = await startCanary();
  // Closed (and the metadata address removed) before the host is compared with its state at the start.
  server.onTeardown(() => canary.close());
  const api = Number(new URL(server.base).port);
  before(() => canary.selfTest());

  const input = (): string => JSON.stringify({ targets: canary.targets, port: canary.port, abstract: canary.abstractName, api });

  it('python: TCP, UDP, DNS, raw and packet sockets, IPv6, the API port and the metadata address reach nothing', async () => {
    const connectionsBefore = server.connections();
    const pending = server.attack({ language: 'python', code: PYTHON, stdin: input(), timeout: 15_000 });
    const ready = await waitForProcess((p) => p.comm === 'rc-ready', 15_000);
    const net = netOf(ready.pid);
    assert.deepEqual(net.interfaces, ['lo'], 'interfaces of the sandbox network namespace');
    assert.deepEqual(net.routes, [], 'routes besides loopback');
    assert.deepEqual(net.raw, []);
    assert.deepEqual(net.packet, []);
    const result = await pending;
    assert.deepEqual(canary.contacts, [], 'the host-side canary was contacted');
    assert.ok(server.connections() - connectionsBefore <= 1, 'the API server accepted a connection from the sandbox');
    assert.ok(!server.logs.some((line) => line.includes(`/${MARKER}`)), 'the API server logged a request from the sandbox');
    // The program's own view agrees: nothing connected, privileged socket types refused.
    assert.doesNotMatch(result.stdout.replace(/^udp .*$/gm, ''), / OK$/m, result.stdout);
    for (const kind of ['raw', 'raw6', 'packet']) assert.match(result.stdout, new RegExp(`^${kind} 1$`, 'm'), kind);
  });

  it('node: TCP, UDP, DNS and the abstract socket reach nothing', async () => {
    const result = await server.attack({ language: 'javascript', code: NODE, stdin: input(), timeout: 15_000 });
    assert.deepEqual(canary.contacts, []);
    assert.doesNotMatch(result.stdout, /\bOK\b/, result.stdout);
    assert.match(result.stdout, /^dns /m, result.stderr);
  });

  it('bash: /dev/tcp and /dev/udp to every host address reach nothing', async () => {
    const result = await server.attack({ language: 'bash', code: BASH(canary.port, canary.targets, api), timeout: 15_000 });
    assert.deepEqual(canary.contacts, []);
    assert.doesNotMatch(result.stdout, / OK$/m, result.stdout);
    assert.match(result.stdout, /^api refused$/m);
  });
});
