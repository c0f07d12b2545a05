import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LIMITS } from '../../src/engine/limits.js';
import { securityServer } from '../helpers/hostile.js';
import { agentOf, waitForProcess } from '../helpers/sandbox-procs.js';

/**
 * Kernel-global resources (docs/security.md, "Kernel-global resources"): one sandbox must not take
 * what the whole host shares. A C program asks for the host's whole AIO pool, syncs, reaches for
 * the agent's limits, opens a vsock socket (creation only: nothing is ever connected) and ptys,
 * then renames itself `rc-ready` and waits while the host looks: fs.aio-nr, the host's own
 * io_setup, the dirty pages of a host file, the agent's limits, kernel.pty.nr.
 */

const ATTACK = String.raw`#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *name, long rc) { printf("%s %s\n", name, rc < 0 ? strerrorname_np(errno) : "OK"); }

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  aio_context_t ctx = 0;
  report("io_setup", syscall(SYS_io_setup, 65536, &ctx));
  /* The kernel would say EBADF: 0 means the filter answered without entering it. */
  report("syncfs-bad-fd", syscall(SYS_syncfs, -1));
  report("fsync-bad-fd", syscall(SYS_fsync, -1));
  sync();
  struct rlimit lim, one = {1, 1};
  report("prlimit-self", prlimit(0, RLIMIT_NOFILE, NULL, &lim));
  report("setrlimit", setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0}));
  report("prlimit-agent", prlimit(1, RLIMIT_NOFILE, &one, NULL));
  report("prlimit-parent", prlimit(getppid(), RLIMIT_NOFILE, &one, NULL));
  report("prlimit-own-pid", prlimit(getpid(), RLIMIT_CORE, NULL, &lim));
  report("vsock", socket(AF_VSOCK, SOCK_STREAM, 0));
  int ptys = 0, fd = -1;
  for (int i = 0; i < 8; i++) if ((fd = posix_openpt(O_RDWR | O_NOCTTY)) >= 0) ptys++;
  report("ptmx", fd);
  printf("ptys %d\n", ptys);
  prctl(PR_SET_NAME, "rc-ready");
  sleep(2);
  return 0;
}
`;

/** Fills TCP connections over the sandbox's own loopback (4 MiB buffers, nothing read). */
const TCP_FILL = String.raw`#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[65536];

int main(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int l = socket(AF_INET, SOCK_STREAM, 0), big = 4 << 20, conns = 0;
  if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 64) < 0 || getsockname(l, (struct sockaddr *)&a, &len) < 0) return 1;
  long long queued = 0;
  for (; conns < 48; conns++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) < 0) break;
    int s = accept(l, NULL, NULL);
    setsockopt(c, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    fcntl(c, F_SETFL, O_NONBLOCK);
    for (ssize_t w; (w = write(c, buf, sizeof buf)) > 0;) queued += w;
  }
  printf("connections %d queued %lld\n", conns, queued);
  fflush(stdout);
  prctl(PR_SET_NAME, "rc-ready");
  sleep(2);
  return 0;
}
`;

/** Bytes queued in the TCP sockets of a process's network namespace (send + receive queues), as the host reads them. */
function tcpQueued(pid: number): number {
  let total = 0;
  for (const file of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const queues = line.trim().split(/\s+/)[4];
      if (queues) for (const hex of queues.split(':')) total += parseInt(hex, 16);
    }
  }
  return total;
}

const number = (path: string): number => Number(readFileSync(path, 'utf8').trim());

/** The host's own io_setup(1) now: 'OK' or the errno name. */
function hostIoSetup(): string {
  const script = [
    'import ctypes, errno',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'ctx = ctypes.c_ulong(0)',
    'rc = libc.syscall(206, 1, ctypes.byref(ctx))',
    'print("OK" if rc == 0 else errno.errorcode[ctypes.get_errno()])',
    'if rc == 0: libc.syscall(207, ctx)',
  ].join('\n');
  return execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' }).trim();
}

/** Dirty pages of a host file (cachestat(2), Linux 6.5+), or null where the kernel lacks it. */
function dirtyPages(path: string): number | null {
  const script = [
    'import ctypes, os, sys',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'fd = os.open(sys.argv[1], os.O_RDONLY)',
    'rng = (ctypes.c_uint64 * 2)(0, 0)',
    'cs = (ctypes.c_uint64 * 5)()',
    'rc = libc.syscall(451, fd, ctypes.byref(rng), ctypes.byref(cs), 0)',
    'print(cs[1] if rc == 0 else -1)',
  ].join('\n');
  const dirty = Number(execFileSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' }).trim());
  return dirty < 0 ? null : dirty;
}

describe('kernel-global resources', async () => {
  const server = await securityServer();

  it('C: no host AIO, no host writeback, no other process\'s limits, no vsock, no ptys (host: aio-nr, dirty pages, agent limits, pty.nr)', async (t) => {
    // A host file with dirty pages: a sandbox's sync() would write them back. (The kernel writes
    // them back by itself only after vm.dirty_expire_centisecs, 30 s by default.)
    const dir = mkdtempSync(join('/var/tmp', 'rc-dirty-'));
    server.onTeardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'dirty');
    const fd = openSync(file, 'w');
    writeSync(fd, Buffer.alloc(8 * 1024 * 1024, 1));
    closeSync(fd);
    const dirtyBefore = dirtyPages(file);
    if (dirtyBefore === null) t.diagnostic('cachestat(2) is missing: the writeback check is skipped');

    const aioBefore = number('/proc/sys/fs/aio-nr');
    const ptysBefore = number('/proc/sys/kernel/pty/nr');
    const pending = server.attack({ language: 'c', code: ATTACK, timeout: 8000 });
    const ready = await waitForProcess((p) => p.comm === 'rc-ready', 20_000);

    // Host evidence, while the program holds whatever it got.
    assert.ok(number('/proc/sys/fs/aio-nr') - aioBefore < 65536, 'the sandbox took AIO events from the host pool');
    assert.equal(hostIoSetup(), 'OK', "the host's own io_setup fails meanwhile");
    if (dirtyBefore !== null) {
      assert.ok(dirtyBefore > 0, 'the host file has dirty pages to begin with');
      assert.ok(dirtyPages(file)! > 0, "the sandbox's sync() wrote back a host file");
    }
    const agent = agentOf(ready);
    assert.ok(agent, 'the agent is visible to the host');
    assert.doesNotMatch(readFileSync(`/proc/${agent.pid}/limits`, 'utf8'), /^Max open files\s+1\s+1\s/m, "the agent's limits changed");
    assert.ok(number('/proc/sys/kernel/pty/nr') - ptysBefore < 8, 'the sandbox holds ptys of the host-wide pool');
    assert.ok(!ready.fds.some((f) => f.startsWith('socket:')), 'the program holds a socket');

    const result = await pending;
    assert.equal(result.exit_code, 0, result.stderr);
    const outcome = new Map(result.stdout.trim().split('\n').map((line) => line.split(' ') as [string, string]));
    assert.equal(outcome.get('io_setup'), 'ENOSYS');
    assert.equal(outcome.get('syncfs-bad-fd'), 'OK', 'syncfs reached the kernel');
    assert.equal(outcome.get('fsync-bad-fd'), 'OK', 'fsync reached the kernel');
    assert.equal(outcome.get('prlimit-self'), 'OK');
    assert.equal(outcome.get('setrlimit'), 'OK');
    for (const call of ['prlimit-agent', 'prlimit-parent', 'prlimit-own-pid']) assert.equal(outcome.get(call), 'EPERM', call);
    assert.equal(outcome.get('vsock'), 'EAFNOSUPPORT');
    assert.equal(outcome.get('ptys'), '0');
    assert.equal(outcome.get('ptmx'), 'ENOENT');
  });

  it('C: TCP buffers over the sandbox\'s loopback stay within its memory limit (host: queued bytes of its namespace)', async () => {
    // cgroup v1 does not charge TCP buffers to the memory limit: without a limit of their own they
    // draw on the host-wide tcp_mem pool (48 connections queue about 500 MiB here).
    const pending = server.attack({ language: 'c', code: TCP_FILL, timeout: 8000 });
    const ready = await waitForProcess((p) => p.comm === 'rc-ready', 20_000);
    const queued = tcpQueued(ready.pid);
    const result = await pending;
    assert.equal(result.exit_code, 0, result.stderr);
    assert.match(result.stdout, /^connections 48 queued \d+\n$/);
    assert.ok(queued > 0, 'the host sees the queued bytes');
    assert.ok(queued <= DEFAULT_LIMITS.memoryBytes, `${(queued / 2 ** 20).toFixed(0)} MiB queued in TCP buffers, memory limit ${DEFAULT_LIMITS.memoryBytes / 2 ** 20} MiB`);
  });
});
