import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { performance } from 'node:perf_hooks';
import { engine, run } from '../helpers/engine.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';

const MiB = 1024 * 1024;

describe('wall-clock timeout', () => {
  it('kills the whole tree, including an orphaned grandchild holding stdout', async () => {
    const started = performance.now();
    const result = await run({
      language: 'bash',
      code: '(sleep 100; echo late) &\nsetsid sleep 100 &\necho started\nsleep 100\n',
      limits: { timeoutMs: 1000 },
    });
    const elapsed = performance.now() - started;
    assert.equal(result.timed_out, true);
    assert.equal(result.stdout, 'started\n');
    assert.equal(result.signal, 'SIGKILL');
    assert.ok(elapsed < 2000, `returned after ${elapsed} ms, expected within timeout + 1 s`);
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });

  it('does not wait for background processes once the program exits', async () => {
    const started = performance.now();
    const result = await run({ language: 'bash', code: 'sleep 100 &\n(sleep 100 >&2) &\necho done\n', limits: { timeoutMs: 5000 } });
    assert.equal(result.timed_out, false);
    assert.equal(result.exit_code, 0);
    assert.equal(result.stdout, 'done\n');
    assert.ok(performance.now() - started < 2000);
  });

  it('stops a CPU spin', async () => {
    const result = await run({ language: 'python', code: 'while True: pass\n', limits: { timeoutMs: 500 } });
    assert.equal(result.timed_out, true);
  });
});

describe('memory', () => {
  it('reports oom_killed for a 1 GB allocation under a 64 MiB limit', async () => {
    const result = await run({ language: 'python', code: 'x = bytearray(1024 * 1024 * 1024)\nprint("survived")\n', limits: { memoryMb: 64 } });
    assert.equal(result.oom_killed, true);
    assert.equal(result.signal, 'SIGKILL');
    assert.equal(result.stdout, '');
    assert.equal(result.timed_out, false);
  });

  it('does not flag a program that stays within its limit', async () => {
    const result = await run({ language: 'python', code: 'x = bytearray(20 * 1024 * 1024)\nprint(len(x))\n', limits: { memoryMb: 128 } });
    assert.equal(result.oom_killed, false);
    assert.equal(result.stdout, `${20 * MiB}\n`);
    assert.ok(result.memory_peak_bytes >= 20 * MiB, `peak ${result.memory_peak_bytes}`);
  });
});

describe('processes', () => {
  it('contains a fork bomb within the pids limit and cleans it up', async () => {
    const result = await run({
      language: 'python',
      code: [
        'import os, time',
        'n = 0',
        'for _ in range(1000):',
        '    try:',
        '        if os.fork() == 0:',
        '            time.sleep(100); os._exit(0)',
        '        n += 1',
        '    except OSError:',
        '        break',
        'print(n, flush=True)',
        'time.sleep(100)',
      ].join('\n'),
      limits: { timeoutMs: 2000, pids: 32 },
    });
    const forked = Number(result.stdout.trim());
    assert.ok(forked > 0 && forked < 32, `forked ${forked} processes under pids=32`);
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });

  it('survives a shell fork bomb', async () => {
    const result = await run({ language: 'bash', code: 'bomb() { bomb | bomb & }; bomb; sleep 1; echo alive', limits: { timeoutMs: 3000 } });
    assert.ok(result.exit_code !== null);
  });
});

describe('output', () => {
  it('truncates 100 MB of output to the cap and flags it, with bounded host memory', async () => {
    const rssBefore = process.memoryUsage().rss;
    const result = await run({ language: 'python', code: 'import sys\nchunk = "x" * 65536\nfor _ in range(1600): sys.stdout.write(chunk)\nprint("end", file=sys.stderr)\n' });
    assert.equal(result.truncated.stdout, true);
    assert.equal(result.truncated.stderr, false);
    assert.equal(result.stdout.length, MiB);
    assert.equal(result.stderr, 'end\n', 'the program kept running after the cap');
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 64 * MiB, `host RSS grew by ${grown} bytes`);
  });

  it('honours a smaller per-request output limit', async () => {
    const result = await run({ language: 'bash', code: 'yes | head -c 100000', limits: { outputLimitBytes: 1000 } });
    assert.equal(result.stdout.length, 1000);
    assert.equal(result.truncated.stdout, true);
  });
});

describe('network', () => {
  let server: Server;
  let port = 0;
  let connections = 0;
  before(async () => {
    server = createServer((socket) => {
      connections++;
      socket.end('hello\n');
    });
    // Every host address (dual-stack '::'), so each loopback target below would be heard.
    await new Promise<void>((resolve) => server.listen(0, resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => server.close());

  // Only loopback targets: tests send nothing to outside addresses (security/network.test.ts tries an
  // outside host of its own making).
  it("cannot reach the host's loopback", async () => {
    const result = await run({
      language: 'python',
      code: [
        'import socket',
        `for target in [("127.0.0.1", ${port}), ("127.0.0.2", ${port}), ("::1", ${port})]:`,
        '    try:',
        '        socket.create_connection(target, timeout=2); print("connected", target)',
        '    except OSError as e:',
        '        print("blocked", e.errno)',
      ].join('\n'),
    });
    assert.doesNotMatch(result.stdout, /connected/);
    assert.equal(result.stdout.split('\n').filter((l) => l.startsWith('blocked')).length, 3);
    assert.equal(connections, 0, 'the host-side canary server saw a connection');
  });
});

describe('filesystem', () => {
  it('has a read-only root and writable, size-capped /work and /tmp', async () => {
    const result = await run({
      language: 'bash',
      code: [
        'for p in /etc/x /usr/x /x /.runner/x; do (echo 1 > $p) 2>/dev/null && echo "wrote $p"; done',
        'echo ok > /work/f && echo ok > /tmp/f && echo writable',
        'head -c 100M /dev/zero > /tmp/big 2>/dev/null || echo tmp-full',
      ].join('\n'),
    });
    assert.equal(result.stdout, 'writable\ntmp-full\n', result.stderr);
  });

  it('keeps nothing between runs', async () => {
    const write = 'for d in /tmp /work /dev/shm; do echo secret > $d/marker; done; ls /tmp /work /dev/shm';
    await run({ language: 'bash', code: write });
    const result = await run({ language: 'bash', code: 'cat /tmp/marker /work/marker /dev/shm/marker 2>&1; ls -A /tmp /dev/shm' });
    assert.doesNotMatch(result.stdout, /secret/);
    assert.match(result.stdout, /No such file/);
  });

  it('runs as an unprivileged user with a clean environment', async () => {
    const result = await run({ language: 'bash', code: 'id -u; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status | tr -s "\\t" " "; env | sort | cut -d= -f1 | tr "\\n" " "' });
    const [uid, caps, noNewPrivs, seccomp, names] = result.stdout.split('\n');
    assert.equal(uid, '1000');
    assert.equal(caps, 'CapEff: 0000000000000000');
    assert.equal(noNewPrivs, 'NoNewPrivs: 1');
    assert.equal(seccomp, 'Seccomp: 2', 'a seccomp filter is active');
    assert.equal(names?.trim(), 'HOME LANG LC_ALL PATH PWD SHLVL TMPDIR USER _');
  });

  it('refuses namespace and tracing syscalls (seccomp)', async () => {
    const result = await run({
      language: 'python',
      code: [
        'import ctypes, os',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'for name, call in [("unshare", lambda: libc.unshare(0x10000000)), ("ptrace", lambda: libc.ptrace(16, 1, 0, 0)), ("mount", lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))]:',
        '    r = call(); print(name, r, os.strerror(ctypes.get_errno()))',
      ].join('\n'),
    });
    assert.equal(result.stdout, 'unshare -1 Operation not permitted\nptrace -1 Operation not permitted\nmount -1 Operation not permitted\n', result.stderr);
  });
});

describe('cancellation', () => {
  it('destroys the sandbox when the caller aborts', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const pending = (await engine()).execute({ language: 'bash', code: 'sleep 30' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    const result = await pending;
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'RC_ERR_CANCELLED');
    assert.ok(performance.now() - started < 3000);
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });
});
