import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { isSandboxUid } from '../helpers/host.js';
import { securityServer } from '../helpers/hostile.js';
import { agentOf, mountinfoOf, sandboxProcesses, settled, waitForProcess, watchSandboxes, type SandboxProcess } from '../helpers/sandbox-procs.js';

/**
 * Privilege tricks. Each program tries to gain something, then renames itself `rc-ready` and
 * waits; the host then reads the kernel's view of it (uids, capabilities, no_new_privs, seccomp,
 * tracer, namespaces, mounts, open descriptors). The program's own report is checked second.
 */

const NO_CAPS = '0000000000000000';
/** CAP_CHOWN | CAP_KILL | CAP_SETGID | CAP_SETUID: the agent's, in the sandbox's own user namespace only. */
const AGENT_CAPS = '00000000000000e1';
const HOST_USER_NS = readlinkSync('/proc/self/ns/user');

/** Tries every syscall the seccomp policy refuses (and some the kernel refuses), keeping results open. */
const BATTERY = String.raw`#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/klog.h>

static char buf[256];
static void report(const char *name, long rc) {
  printf("%s %s\n", name, rc < 0 ? strerrorname_np(errno) : "OK");
}
#define TRY(name, expr) do { errno = 0; long rc_ = (long)(expr); report(name, rc_); } while (0)
/* A clone that succeeded must not run the rest of the battery twice. */
#define TRY_CLONE(name, expr) do { errno = 0; long rc_ = (long)(expr); if (rc_ == 0) _exit(0); report(name, rc_); } while (0)

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pid_t child = fork();
  if (child == 0) { TRY("ptrace-traceme", ptrace(PTRACE_TRACEME, 0, 0, 0)); pause(); _exit(0); }
  usleep(50000);
  TRY("setuid", setuid(0));
  TRY("setgid", setgid(0));
  TRY("setgroups", setgroups(0, NULL));
  TRY("capset", syscall(SYS_capset, buf, buf));
  TRY("unshare", unshare(CLONE_NEWUSER));
  TRY("unshare-mount", unshare(CLONE_NEWNS));
  TRY_CLONE("clone-newuser", syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
  TRY_CLONE("clone-newnet", syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0));
  memset(buf, 0, sizeof buf);
  TRY_CLONE("clone3", syscall(SYS_clone3, buf, 88));
  TRY("setns", setns(open("/proc/1/ns/net", O_RDONLY), 0));
  TRY("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
  TRY("umount2", umount2("/work", MNT_DETACH));
  TRY("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
  TRY("chroot", chroot("/tmp"));
  TRY("ptrace", ptrace(PTRACE_ATTACH, child, 0, 0));
  struct iovec local = {buf, 8}, remote = {buf, 8};
  TRY("process_vm_readv", process_vm_readv(child, &local, 1, &remote, 1, 0));
  TRY("process_vm_writev", process_vm_writev(child, &local, 1, &remote, 1, 0));
  memset(buf, 0, sizeof buf);
  TRY("bpf", syscall(SYS_bpf, 0, buf, 72));
  TRY("keyctl", syscall(SYS_keyctl, 0, -3, 1));
  TRY("add_key", syscall(SYS_add_key, "user", "rcpwn", "x", 1, -3));
  TRY("request_key", syscall(SYS_request_key, "user", "rcpwn", NULL, -3));
  TRY("perf_event_open", syscall(SYS_perf_event_open, buf, 0, -1, -1, 0));
  TRY("userfaultfd", syscall(SYS_userfaultfd, 0));
  TRY("io_uring_setup", syscall(SYS_io_uring_setup, 8, buf));
  TRY("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
  TRY("init_module", syscall(SYS_init_module, buf, 16, ""));
  TRY("finit_module", syscall(SYS_finit_module, 0, "", 0));
  TRY("delete_module", syscall(SYS_delete_module, "ext4", 0));
  TRY("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, buf, O_RDONLY));
  TRY("name_to_handle_at", syscall(SYS_name_to_handle_at, AT_FDCWD, "/etc/passwd", buf, buf + 128, 0));
  TRY("reboot", syscall(SYS_reboot, 0xfee1dead, 672274793, 0 /* CAD_OFF: harmless even if allowed */, NULL));
  TRY("swapon", syscall(SYS_swapon, "/tmp/swap", 0));
  TRY("syslog", klogctl(3, buf, sizeof buf));
  TRY("iopl", syscall(SYS_iopl, 3));
  TRY("sethostname", sethostname("rcpwn", 5));
  TRY("personality", personality(0x0400000));
  TRY("unknown-syscall", syscall(1000));
  TRY("kcmp", syscall(SYS_kcmp, getpid(), child, 0, 0, 0));
  TRY("mknod-block", mknod("/tmp/rcdev", S_IFBLK | 0600, makedev(8, 0)));
  TRY("mknod-char", mknod("/tmp/rcmem", S_IFCHR | 0600, makedev(1, 1)));
  const char *devices[] = {"/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg", "/dev/vda", "/dev/sda", "/dev/loop0",
                           "/dev/net/tun", "/dev/fuse", "/dev/kvm", "/dev/tty", "/dev/console", "/proc/sysrq-trigger",
                           "/proc/sys/kernel/hostname", "/proc/kcore"};
  for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) TRY(devices[i], open(devices[i], O_RDWR));
  TRY("tiocsti", ioctl(0, TIOCSTI, "x"));
  fflush(stdout);
  prctl(PR_SET_NAME, "rc-ready");
  sleep(2);
  kill(child, SIGKILL);
  return 0;
}
`;

/** Syscalls the issue lists as EPERM (seccomp); the rest of the battery may fail in other ways. */
const EPERM = [
  'ptrace-traceme', 'setgroups', 'capset', 'unshare', 'unshare-mount', 'clone-newuser', 'clone-newnet', 'setns', 'mount', 'umount2',
  'pivot_root', 'chroot', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'bpf', 'keyctl', 'add_key', 'request_key',
  'perf_event_open', 'userfaultfd', 'io_uring_setup', 'kexec_load', 'init_module', 'finit_module', 'delete_module',
  'open_by_handle_at', 'name_to_handle_at', 'reboot', 'swapon', 'syslog', 'iopl', 'mknod-block', 'mknod-char',
];
const ENOSYS = ['clone3', 'personality', 'unknown-syscall', 'kcmp'];
/** Host devices and kernel knobs: absent from the sandbox's /dev, masked or read-only in its /proc. */
const UNREACHABLE = ['/dev/mem', '/dev/kmem', '/dev/port', '/dev/kmsg', '/dev/vda', '/dev/sda', '/dev/loop0', '/dev/net/tun', '/dev/fuse', '/dev/kvm', '/dev/console', '/proc/sysrq-trigger', '/proc/sys/kernel/hostname', '/proc/kcore', '/dev/tty'];

function assertUnprivileged(p: SandboxProcess): void {
  const where = `${p.pid} ${p.comm}`;
  // Our launcher is root between joining the cgroup and dropping to the sandbox uid; no sandbox
  // code exists yet (it execs bwrap only after the drop).
  if (p.comm === 'runner-launch') return;
  assert.ok(p.uids.length === 4 && p.uids.every((u) => isSandboxUid(u)), `${where} uids ${p.uids}`);
  assert.ok(p.gids.every((g) => isSandboxUid(g)), `${where} gids ${p.gids}`);
  assert.ok(p.groups.every((g) => isSandboxUid(g)), `${where} groups ${p.groups}`);
  assert.equal(p.noNewPrivs, '1', `${where} no_new_privs`);
  assert.equal(p.tracerPid, 0, `${where} is traced`);
  if (p.comm === 'bwrap') {
    // While it sets the sandbox up, bwrap holds capabilities in the sandbox's new user namespace
    // (which owns nothing on the host); never in the host's. It loads the filter for its child only.
    if (p.ns.user === HOST_USER_NS) for (const caps of [p.capEff, p.capPrm, p.capAmb]) assert.equal(caps, NO_CAPS, `${where} capabilities`);
    return;
  }
  if (p.comm === 'runner-agent') {
    // The agent keeps the few capabilities it needs to run code as another uid and kill what is
    // left, in the sandbox's own user namespace (which owns nothing on the host), under seccomp.
    assert.notEqual(p.ns.user, HOST_USER_NS, `${where} user namespace`);
    for (const caps of [p.capEff, p.capPrm, p.capAmb]) assert.ok(caps === AGENT_CAPS || caps === NO_CAPS, `${where} capabilities ${caps}`);
    assert.equal(p.seccomp, '2', `${where} seccomp filter`);
    return;
  }
  for (const caps of [p.capEff, p.capPrm, p.capAmb]) assert.equal(caps, NO_CAPS, `${where} capabilities`);
  assert.equal(p.seccomp, '2', `${where} seccomp filter`);
}

function keyUsers(): string {
  return readFileSync('/proc/key-users', 'utf8');
}

function dmesg(): string[] {
  return execFileSync('dmesg', { encoding: 'utf8' }).split('\n');
}

describe('privilege tricks', async () => {
  const server = await securityServer();

  it('C: every refused syscall leaves the process unprivileged, untraced, in its own namespaces and mounts', async () => {
    const watch = watchSandboxes();
    const pending = server.attack({ language: 'c', code: BATTERY, timeout: 8000 });
    const ready = await waitForProcess((p) => p.comm === 'rc-ready', 20_000);
    const agent = agentOf(ready);
    assert.ok(agent, 'the agent of the sandbox is visible to the host');
    const samples = watch.stop();
    const mine = sandboxProcesses().filter((p) => p.sandbox === ready.sandbox);
    for (const p of [...mine, ...samples.flat().filter((q) => q.sandbox === ready.sandbox)]) assertUnprivileged(p);
    // Nothing was unshared or entered: the same namespaces as PID 1 of the sandbox.
    assert.deepEqual(ready.ns, agent.ns);
    // Nothing was mounted or unmounted.
    assert.deepEqual(mountinfoOf(ready.pid), mountinfoOf(agent.pid));
    // No bpf map, io_uring, perf event or userfaultfd descriptor came into existence.
    assert.deepEqual(ready.fds.filter((fd) => /bpf|io_uring|perf_event|userfaultfd/.test(fd)), []);
    // No key was added for the sandbox's uid.
    assert.ok(!keyUsers().split('\n').some((line) => isSandboxUid(Number(line.trim().split(':')[0]))), 'a sandbox uid holds kernel keys');

    const result = await pending;
    assert.equal(result.exit_code, 0, result.stderr);
    const outcome = new Map(result.stdout.trim().split('\n').map((line) => [line.slice(0, line.lastIndexOf(' ')), line.slice(line.lastIndexOf(' ') + 1)]));
    for (const name of EPERM) assert.equal(outcome.get(name), 'EPERM', name);
    for (const name of ENOSYS) assert.equal(outcome.get(name), 'ENOSYS', name);
    for (const path of UNREACHABLE) assert.notEqual(outcome.get(path), 'OK', path);
    for (const name of ['setuid', 'setgid', 'sethostname', 'tiocsti']) assert.notEqual(outcome.get(name), 'OK', name);
    assert.deepEqual(await settled(), []);
  });

  it('C: a foreign-architecture syscall (int 0x80) kills the process, and the kernel logs the kill for the sandbox uid', async () => {
    const before = new Set(dmesg());
    const result = await server.attack({
      language: 'c',
      code: String.raw`#include <stdio.h>
int main(void) {
  long ret;
  puts("before"); fflush(stdout);
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory"); /* i386 getpid */
  printf("after %ld\n", ret);
  return 0;
}
`,
    });
    assert.equal(result.signal, 'SIGSYS');
    assert.equal(result.stdout, 'before\n');
    // Host evidence: the seccomp audit record (SIGSYS = 31, i386 = 40000003) names a sandbox uid.
    const audit = dmesg().filter((line) => !before.has(line) && /type=1326/.test(line) && /arch=40000003/.test(line));
    assert.ok(audit.length >= 1, 'no seccomp kill in the kernel log');
    assert.ok(audit.every((line) => isSandboxUid(Number(/ uid=(\d+)/.exec(line)?.[1]))), audit.join('\n'));
  });

  it('bash: a setuid copy of bash, su and sysctl writes give nothing (host: uids and capabilities of every process)', async () => {
    const watch = watchSandboxes();
    const pending = server.attack({
      language: 'bash',
      code: [
        'cp /bin/bash /tmp/rootsh && chmod 4755 /tmp/rootsh; /tmp/rootsh -p -c "id -u"',
        'su -c "id -u" root </dev/null',
        'find / -xdev -perm -4000 -type f 2>/dev/null | while read f; do "$f" --help >/dev/null 2>&1; done',
        'echo 0 > /proc/sys/kernel/randomize_va_space; echo 1 > /proc/sys/net/ipv4/ip_forward',
        'id -u',
        'exec -a rc-ready sleep 1',
      ].join('\n'),
      timeout: 5000,
    });
    const ready = await waitForProcess((p) => p.cmdline.startsWith('rc-ready'));
    const samples = [...watch.stop().flat(), ...sandboxProcesses()].filter((p) => p.sandbox === ready.sandbox);
    for (const p of samples) assertUnprivileged(p);
    const result = await pending;
    assert.doesNotMatch(result.stdout, /^0$/m, 'some command reported uid 0');
    assert.match(result.stdout, /^1000$/m);
  });

  it('python: ptrace of a sibling, setresuid and unshare are refused (host: no tracer, same namespaces)', async () => {
    const pending = server.attack({
      language: 'python',
      code: [
        'import ctypes, os, time',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'child = os.fork()',
        'if child == 0:',
        '    time.sleep(5); os._exit(0)',
        'print("ptrace", libc.ptrace(16, child, 0, 0), ctypes.get_errno())',
        'print("setresuid", libc.setresuid(0, 0, 0), ctypes.get_errno())',
        'print("unshare", libc.unshare(0x10000000 | 0x00020000), ctypes.get_errno())',
        'open("/proc/self/comm", "w").write("rc-ready")',
        'time.sleep(1)',
      ].join('\n'),
      timeout: 5000,
    });
    const ready = await waitForProcess((p) => p.comm === 'rc-ready');
    const all = sandboxProcesses().filter((p) => p.sandbox === ready.sandbox);
    assert.ok(all.length >= 3, 'agent, program and its child');
    for (const p of all) assertUnprivileged(p);
    assert.ok(all.every((p) => p.comm === 'bwrap' || p.ns.user === ready.ns.user), 'a process changed user namespace');
    const result = await pending;
    assert.match(result.stdout, /^ptrace -1 1$/m);
    assert.match(result.stdout, /^unshare -1 1$/m);
    assert.doesNotMatch(result.stdout, /^setresuid 0/m);
  });
});
