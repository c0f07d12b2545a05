/* runner-launch: the privileged step the host runs before bwrap. It joins the sandbox's cgroups,
 * drops to an unprivileged uid/gid for good, and execs PROG (normally bwrap).
 *
 *   runner-launch [--cgroup-procs FILE]... [--supplementary-group GID] --uid UID --gid GID -- PROG [ARGS...]
 *
 * --supplementary-group gives PROG exactly that one supplementary group (else none): a VMM that
 * must open /dev/kvm where only the device's group may (Debian's udev: 0660 root:kvm).
 *
 * Any failure: "runner-launch: ..." on stderr and exit status 125 (PROG never runs). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "die.h"

#define EXIT_LAUNCH 125
#define MAX_CGROUPS 16

struct opts {
  const char *cgroups[MAX_CGROUPS];
  int n_cgroups;
  uid_t uid;
  gid_t gid;
  gid_t supplementary; /* 0: none */
  char **prog;
};

#define fail(...) die("runner-launch", EXIT_LAUNCH, __VA_ARGS__)

static unsigned long parse_id(const char *what, const char *s) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v >= UINT_MAX) fail("invalid %s: '%s'", what, s);
  // SECURITY: never "drop" to root: the sandbox must not run with uid or gid 0.
  if (v == 0) fail("refusing %s 0", what);
  return v;
}

static void parse_args(int argc, char **argv, struct opts *o) {
  int have_uid = 0, have_gid = 0, i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
    if (i + 1 >= argc) fail("option %s needs a value", argv[i]);
    if (strcmp(argv[i], "--cgroup-procs") == 0) {
      if (o->n_cgroups == MAX_CGROUPS) fail("too many --cgroup-procs");
      o->cgroups[o->n_cgroups++] = argv[i + 1];
    } else if (strcmp(argv[i], "--uid") == 0) {
      o->uid = (uid_t)parse_id("uid", argv[i + 1]), have_uid = 1;
    } else if (strcmp(argv[i], "--gid") == 0) {
      o->gid = (gid_t)parse_id("gid", argv[i + 1]), have_gid = 1;
    } else if (strcmp(argv[i], "--supplementary-group") == 0) {
      o->supplementary = (gid_t)parse_id("supplementary group", argv[i + 1]);
    } else {
      fail("usage: runner-launch [--cgroup-procs FILE]... [--supplementary-group GID] --uid UID --gid GID -- PROG [ARGS...]");
    }
  }
  if (!have_uid || !have_gid) fail("--uid and --gid are required");
  if (i >= argc - 1) fail("missing -- PROG");
  o->prog = &argv[i + 1];
}

static void join_cgroup(const char *file) {
  char pid[32];
  int n = snprintf(pid, sizeof pid, "%d", (int)getpid());
  int fd = open(file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("open %s: %s", file, strerror(errno));
  if (write(fd, pid, (size_t)n) != n) fail("write %s: %s", file, strerror(errno));
  if (close(fd) < 0) fail("close %s: %s", file, strerror(errno));
}

/* SECURITY: replaces root's supplementary groups (which would otherwise survive the drop) with
 * none, or with the one group asked for (never 0: parse_id refuses it). */
static void set_supplementary_group(gid_t group) {
  if (setgroups(group ? 1 : 0, &group) < 0) fail("setgroups: %s", strerror(errno));
}

/* SECURITY: verify rather than trust the return code: exactly the groups set above, no more. */
static void check_supplementary_group(gid_t group) {
  gid_t groups[2];
  int n = getgroups(2, groups);
  if (n != (group ? 1 : 0) || (group && groups[0] != group)) fail("supplementary groups are not as set");
}

static void drop_ids(uid_t uid, gid_t gid, gid_t supplementary) {
  set_supplementary_group(supplementary);
  // SECURITY: gid before uid (after the uid change we could no longer change gid); all three ids
  // (real, effective, saved) so nothing can switch back.
  if (setresgid(gid, gid, gid) < 0) fail("setresgid: %s", strerror(errno));
  if (setresuid(uid, uid, uid) < 0) fail("setresuid: %s", strerror(errno));
  uid_t r, e, s;
  gid_t rg, eg, sg;
  if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0) fail("getresuid: %s", strerror(errno));
  // SECURITY: verify rather than trust the return codes.
  if (r != uid || e != uid || s != uid || rg != gid || eg != gid || sg != gid) fail("privilege drop did not stick");
  check_supplementary_group(supplementary);
}

static void close_extra_fds(void) {
  // SECURITY: no host descriptor leaks into the sandbox; fds 0-2 are stdio, fd 3 the seccomp filter.
  if (close_range(4, ~0U, 0) == 0) return;
  struct rlimit rl;
  long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : 65536;
  for (long fd = 4; fd < max; fd++) close((int)fd);
}

int main(int argc, char **argv) {
  struct opts o = {0};
  parse_args(argc, argv, &o);
  pid_t parent = getppid();
  // SECURITY: join the sandbox cgroups (memory/pids/cpu limits) before any untrusted code exists,
  // so every descendant is accounted and limited from its first instruction.
  for (int i = 0; i < o.n_cgroups; i++) join_cgroup(o.cgroups[i]);
  drop_ids(o.uid, o.gid, o.supplementary);
  // SECURITY: no setuid/file-capability binary inside the sandbox can regain privileges.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
  // SECURITY: if the host supervisor dies the sandbox dies too (set after the uid change, which
  // clears it); the getppid() check closes the race where the parent died before this call.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail("PR_SET_PDEATHSIG: %s", strerror(errno));
  if (getppid() != parent) fail("parent exited during launch");
  close_extra_fds();
  execvp(o.prog[0], o.prog);
  fail("exec %s: %s", o.prog[0], strerror(errno));
}
