import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS } from '../../src/engine/limits.js';
import { DEV_NODES, WRITABLE_MOUNTS } from '../../src/sandbox/bwrap/plan.js';
import { securityServer } from '../helpers/hostile.js';
import { mountinfoOf, waitForProcess } from '../helpers/sandbox-procs.js';

/**
 * Only the documented writable places are writable, each up to its cap. A program tries to create
 * a file and a directory in every directory two levels down from /, in every mount point and in a
 * few deeper system paths; where it can, it fills the place with 8 MiB files until a write fails
 * (or 16 MiB past the cap).
 * The host reads the sandbox's mount table meanwhile: every writable directory mount must be one
 * of WRITABLE_MOUNTS, a tmpfs with a size cap, and /dev itself read-only.
 */

const MiB = 1024 * 1024;

/** Stops filling a place 16 MiB past the cap (an uncapped place must not run the sandbox out of memory). */
const PROBE = (cap: number): string => String.raw`#define _GNU_SOURCE
#define STOP_AT (${cap}LL + (16LL << 20))
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static char buf[1 << 20];

static long long fill(const char *dir, int *err) {
  char path[4096];
  long long total = 0;
  int n;
  for (n = 0; !*err && total < STOP_AT; n++) {
    snprintf(path, sizeof path, "%s/rcw-fill-%d", dir, n);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) { *err = errno; break; }
    for (int i = 0; i < 8 && !*err; i++) {
      ssize_t w = write(fd, buf, sizeof buf);
      if (w < 0) *err = errno;
      else total += w;
    }
    close(fd);
  }
  while (n >= 0) { snprintf(path, sizeof path, "%s/rcw-fill-%d", dir, n--); unlink(path); }
  return total;
}

static void probe(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/rcw-probe-dir", dir);
  int dir_ok = mkdir(path, 0700) == 0;
  if (dir_ok) rmdir(path);
  snprintf(path, sizeof path, "%s/rcw-probe", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    printf("%s %s %s\n", dir_ok ? "dir-only" : "refused", dir, strerrorname_np(errno));
    return;
  }
  close(fd);
  unlink(path);
  int err = 0;
  long long total = fill(dir, &err);
  printf("writable %s %lld %s\n", dir, total, strerrorname_np(err));
}

static int is_dir(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void walk(const char *dir, int depth) {
  probe(dir);
  if (depth == 0) return;
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
    if (strcmp(dir, "/proc") == 0 && e->d_name[0] >= '0' && e->d_name[0] <= '9') continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") ? dir : "", e->d_name);
    if (is_dir(path)) walk(path, depth - 1);
  }
  if (d) closedir(d);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  walk("/", 2);
  const char *deeper[] = {"/proc/self", "/proc/1", "/proc/sys/kernel", "/proc/sys/fs", "/proc/sys/vm", "/usr/local/bin",
                          "/var/lib", "/run/lock", "/.runner"};
  for (size_t i = 0; i < sizeof deeper / sizeof deeper[0]; i++) probe(deeper[i]);
  FILE *m = fopen("/proc/self/mountinfo", "r");
  char line[4096], target[4096];
  while (m && fgets(line, sizeof line, m))
    if (sscanf(line, "%*s %*s %*s %*s %4095s", target) == 1 && is_dir(target)) probe(target);
  prctl(PR_SET_NAME, "rc-ready");
  sleep(2);
  return 0;
}
`;

interface Mount {
  target: string;
  options: string;
  type: string;
  superOptions: string;
}

function mountsOf(pid: number): Mount[] {
  return mountinfoOf(pid).map((line) => {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    return { target: f[4]!, options: f[5]!, type: f[dash + 1]!, superOptions: f[dash + 3]! };
  });
}

describe('writable places', async () => {
  const server = await securityServer();
  const cap = DEFAULT_LIMITS.diskBytes;
  const documented = WRITABLE_MOUNTS.map((m) => m.path).sort();

  it('C: only /work, /tmp and /dev/shm take files, each up to its cap then ENOSPC; /dev and the rest refuse', async () => {
    const pending = server.attack({ language: 'c', code: PROBE(cap), timeout: 20_000 });
    const ready = await waitForProcess((p) => p.comm === 'rc-ready', 30_000);
    const mounts = mountsOf(ready.pid);
    const result = await pending;
    assert.equal(result.exit_code, 0, result.stderr);

    // Host evidence: every writable directory mount is a documented, size-capped tmpfs. /proc is
    // the kernel's (nothing can be created in it, checked below); device nodes are file mounts.
    const writable = mounts.filter((m) => /(^|,)rw(,|$)/.test(m.options) && m.target !== '/proc' && !DEV_NODES.includes(m.target));
    assert.deepEqual(writable.map((m) => m.target).sort(), documented, 'writable mounts');
    for (const m of writable) {
      assert.equal(m.type, 'tmpfs', m.target);
      assert.match(m.superOptions, new RegExp(`(^|,)size=${cap / 1024}k(,|$)`), `${m.target} cap`);
    }
    assert.match(mounts.find((m) => m.target === '/dev')?.options ?? '', /^ro,/, '/dev is read-only');
    assert.ok(!mounts.some((m) => m.type === 'devpts'), 'no devpts instance (host-wide kernel.pty.max)');

    // The program's view: the same three places, each full at its cap.
    const lines = result.stdout.trim().split('\n').map((line) => line.split(' '));
    const probed = new Set(lines.map(([, dir]) => dir));
    for (const dir of ['/', '/dev', '/etc', '/proc', '/proc/sys/kernel', '/proc/self', '/.runner', '/usr', '/var/tmp', ...documented]) {
      assert.ok(probed.has(dir), `${dir} was not probed`);
    }
    const took = lines.filter(([verdict]) => verdict !== 'refused');
    assert.deepEqual([...new Set(took.map(([, dir]) => dir))].sort(), documented, took.map((l) => l.join(' ')).join('\n'));
    for (const [verdict, dir, bytes, errno] of took) {
      assert.equal(verdict, 'writable', dir);
      assert.equal(errno, 'ENOSPC', `${dir} ended with ${errno}`);
      assert.ok(Number(bytes) <= cap && Number(bytes) > cap - MiB, `${dir} took ${bytes} bytes, cap ${cap}`);
    }
  });

  it('python and bash: what runtimes need from /dev still works (shm semaphores, urandom, null, the fd links)', async () => {
    const python = await server.attack({
      language: 'python',
      code: [
        'import multiprocessing as mp, os, sys',
        'q = mp.Queue(); q.put(41)',
        'with mp.Pool(2) as pool: print(q.get() + sum(pool.map(abs, [-1])))',
        'print(len(os.urandom(16)), open("/dev/urandom", "rb").read(4) != b"", open("/dev/null", "w").write("x"))',
        'print(sys.stdin.read().strip(), file=open("/dev/stdout", "w"))',
      ].join('\n'),
      stdin: 'via /dev/stdin',
    });
    assert.equal(python.stdout, '42\n16 True 1\nvia /dev/stdin\n', python.stderr);
    const bash = await server.attack({ language: 'bash', code: 'read -r line < /dev/stdin; echo "$line" > /dev/stderr; head -c 3 /dev/zero | wc -c; ls /dev/fd/ >/dev/null && echo fd', stdin: 'err\n' });
    assert.equal(bash.stdout, '3\nfd\n');
    assert.equal(bash.stderr, 'err\n');
  });
});
