import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { isSandboxUid } from '../helpers/host.js';
import { securityServer } from '../helpers/hostile.js';
import { agentOf, sandboxProcesses, settled, waitForProcess } from '../helpers/sandbox-procs.js';

/**
 * User code against the agent that reports on it (PID 1 of the sandbox): its memory, descriptors,
 * environment, limits, signals and scheduling. Every attempt must fail, and the execution must
 * still be reported truthfully (a program that sleeps past its timeout is reported as timed out).
 * Judged by the program's own report and, on the host, by the agent's uid, capabilities and limits.
 */

const HOST_USER_NS = readlinkSync('/proc/self/ns/user');
/** CAP_CHOWN | CAP_KILL | CAP_SETGID | CAP_SETUID: the agent's only ones, in the sandbox's namespace. */
const AGENT_CAPS = '00000000000000e1';

const TAMPER = String.raw`#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>

static void report(const char *name, long rc) {
  printf("%s %s\n", name, rc < 0 ? strerrorname_np(errno) : "OK");
}
#define TRY(name, expr) do { errno = 0; long rc_ = (long)(expr); report(name, rc_); } while (0)

/* Reads a file of the agent's; returns the bytes read, or -1. */
static long slurp(const char *path) {
  char buf[4096];
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  long n = read(fd, buf, sizeof buf);
  close(fd);
  return n;
}

static long list_dir(const char *path) {
  DIR *d = opendir(path);
  if (d == NULL) return -1;
  long n = 0;
  while (readdir(d) != NULL) n++;
  closedir(d);
  return n;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  TRY("mem-rdwr", open("/proc/1/mem", O_RDWR));
  TRY("mem-read", slurp("/proc/1/mem"));
  TRY("maps", slurp("/proc/1/maps"));
  TRY("environ", slurp("/proc/1/environ"));
  TRY("fd", list_dir("/proc/1/fd"));
  TRY("fdinfo", list_dir("/proc/1/fdinfo"));
  TRY("fd0", open("/proc/1/fd/0", O_RDONLY));
  TRY("fd1", open("/proc/1/fd/1", O_WRONLY));
  char byte;
  struct iovec local = {&byte, 1}, remote = {(void *)0x400000, 1};
  TRY("process_vm_readv", process_vm_readv(1, &local, 1, &remote, 1, 0));
  struct rlimit one = {1, 1}, small = {1, 1};
  TRY("prlimit-nofile", prlimit(1, RLIMIT_NOFILE, &one, NULL));
  TRY("prlimit-cpu", prlimit(1, RLIMIT_CPU, &small, NULL));
  TRY("prlimit-as", prlimit(1, RLIMIT_AS, &small, NULL));
  int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGSTOP, SIGCONT, SIGCHLD, SIGPIPE, SIGKILL};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    char name[32];
    snprintf(name, sizeof name, "kill-%s", sigabbrev_np(sigs[i]));
    TRY(name, kill(1, sigs[i]));
  }
  int pidfd = (int)syscall(SYS_pidfd_open, 1, 0);
  TRY("pidfd_send_signal", pidfd < 0 ? -1 : syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0));
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  TRY("sched_setaffinity", sched_setaffinity(1, sizeof set, &set));
  TRY("setpriority", setpriority(PRIO_PROCESS, 1, 19));
  struct sched_param param = {0};
  TRY("sched_setscheduler", sched_setscheduler(1, SCHED_IDLE, &param));
  TRY("ioprio_set", syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 1, 3 << 13 /* IOPRIO_CLASS_IDLE */));
  fflush(stdout);
  prctl(PR_SET_NAME, "rc-tamper");
  sleep(60); /* past the timeout: the result must still say so */
  puts("woke up");
  return 0;
}
`;

const ATTACKS = [
  'mem-rdwr', 'mem-read', 'maps', 'environ', 'fd', 'fdinfo', 'fd0', 'fd1', 'process_vm_readv',
  'prlimit-nofile', 'prlimit-cpu', 'prlimit-as',
  ...['TERM', 'INT', 'HUP', 'USR1', 'STOP', 'CONT', 'CHLD', 'PIPE', 'KILL'].map((s) => `kill-${s}`),
  'pidfd_send_signal', 'sched_setaffinity', 'setpriority', 'sched_setscheduler', 'ioprio_set',
];

function limitOf(pid: number, name: string): string {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith(name));
  return line?.slice(name.length).trim().split(/\s+/).slice(0, 2).join(' ') ?? '';
}

function statusField(pid: number, name: string): string {
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.trim() ?? '';
}

describe('user code against its agent', async () => {
  const server = await securityServer();

  it('C: /proc/1 (mem, maps, environ, fd), prlimit, signals and scheduling of PID 1 all fail; the timeout is still reported', async () => {
    const pending = server.attack({ language: 'c', code: TAMPER, timeout: 4000 });
    const ready = await waitForProcess((p) => p.comm === 'rc-tamper', 30_000);
    const agent = agentOf(ready);
    assert.ok(agent, 'the agent of the sandbox is visible to the host');
    // Host evidence: two different sandbox uids, and the agent's capabilities exist only in the
    // sandbox's own user namespace; its limits are what they were, not what the program asked.
    assert.ok(isSandboxUid(agent.uids[0]!) && isSandboxUid(ready.uids[0]!));
    assert.ok(ready.uids.every((u) => !agent.uids.includes(u)), `program uids ${ready.uids} vs agent uids ${agent.uids}`);
    assert.ok(ready.gids.every((g) => !agent.gids.includes(g)), `program gids ${ready.gids} vs agent gids ${agent.gids}`);
    assert.notEqual(agent.ns.user, HOST_USER_NS);
    assert.equal(agent.capEff, AGENT_CAPS);
    assert.equal(ready.capEff, '0000000000000000');
    assert.equal(statusField(agent.pid, 'State').slice(0, 1) === 'T', false, 'the agent was stopped');
    assert.notEqual(limitOf(agent.pid, 'Max open files'), '1 1');
    assert.notEqual(limitOf(agent.pid, 'Max cpu time'), '1 1');
    assert.notEqual(limitOf(agent.pid, 'Max address space'), '1 1');
    assert.equal(statusField(agent.pid, 'Cpus_allowed_list'), statusField(process.pid, 'Cpus_allowed_list'), 'the agent was pinned');
    assert.match(readFileSync(`/proc/${agent.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]!, /^0$/, 'the agent was reniced');

    const result = await pending;
    const outcome = new Map(result.stdout.trim().split('\n').map((line) => [line.slice(0, line.lastIndexOf(' ')), line.slice(line.lastIndexOf(' ') + 1)]));
    for (const name of ATTACKS) {
      assert.ok(outcome.has(name), `${name} was not tried: ${result.stdout}`);
      assert.notEqual(outcome.get(name), 'OK', `${name} succeeded`);
    }
    // The report is the truth: the program slept past its timeout and was killed.
    assert.equal(result.timed_out, true, JSON.stringify(result));
    assert.doesNotMatch(result.stdout, /woke up/);
    assert.deepEqual(await settled(), []);
    assert.deepEqual(sandboxProcesses().filter((p) => p.sandbox === ready.sandbox), []);
  });
});
