/* runner-launch: the privileged step the host runs before bwrap. It joins the sandbox's cgroups,
 * drops to an unprivileged uid/gid for good, and execs PROG (normally bwrap).
 *
 *   runner-launch [--cgroup-procs FILE]... [--supplementary-group GID] --uid UID --gid GID [--program-id ID]
 *                 -- PROG [ARGS...]
 *
 * With --program-id it first makes the sandbox's user namespace, owned by UID, in which uid/gid 0
 * is UID/GID (the agent) and uid/gid 1000 is ID (the user's program), and hands it to PROG as fd 4
 * (bwrap --userns 4). Two host ids keep the program from signalling, tracing or
 * limiting the agent that reports on it, with or without Yama.
 *
 * --supplementary-group gives PROG exactly that one supplementary group (else none): a VMM that
 * must open /dev/kvm where only the device's group may (Debian's udev: 0660 root:kvm).
 *
 * --mount-ns-fd FD (the fork server's): once the cgroups are joined, enter the mount namespace open
 * on FD, the host's without the mounts no sandbox is made from (/sys, /dev/pts, ...), so that the
 * copy bwrap's unshare(CLONE_NEWNS) makes of it, and every mount table bwrap reads, is small.
 *
 * --require-sandbox-dev: refuse to exec PROG unless the mount namespace entered has the sandboxes'
 * own /dev (sandbox-dev.c), for a bwrap argv that binds /dev whole: never the host's /dev.
 *
 * Any failure: "runner-launch: ..." on stderr and exit status 125 (PROG never runs). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"
#include "sandbox-dev.h"

#define EXIT_LAUNCH 125
#define MAX_CGROUPS 16
/* The program's uid and gid inside the sandbox (the agent is 0 there). */
#define PROGRAM_ID_IN_SANDBOX 1000
/* bwrap gets the user namespace on this fd (0-2 stdio, 3 the seccomp filter). */
#define USERNS_FD 4

struct opts {
  const char *cgroups[MAX_CGROUPS];
  int n_cgroups;
  uid_t uid;
  gid_t gid;
  uid_t program; /* 0: no user namespace of our own */
  gid_t supplementary; /* 0: none */
  int mount_ns;       /* -1: stay in the mount namespace we were started in */
  int require_sandbox_dev;
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
    if (strcmp(argv[i], "--require-sandbox-dev") == 0) {
      o->require_sandbox_dev = 1;
      i--;
      continue;
    }
    if (i + 1 >= argc) fail("option %s needs a value", argv[i]);
    if (strcmp(argv[i], "--cgroup-procs") == 0) {
      if (o->n_cgroups == MAX_CGROUPS) fail("too many --cgroup-procs");
      o->cgroups[o->n_cgroups++] = argv[i + 1];
    } else if (strcmp(argv[i], "--uid") == 0) {
      o->uid = (uid_t)parse_id("uid", argv[i + 1]), have_uid = 1;
    } else if (strcmp(argv[i], "--gid") == 0) {
      o->gid = (gid_t)parse_id("gid", argv[i + 1]), have_gid = 1;
    } else if (strcmp(argv[i], "--program-id") == 0) {
      o->program = (uid_t)parse_id("program id", argv[i + 1]);
    } else if (strcmp(argv[i], "--mount-ns-fd") == 0) {
      unsigned long fd = parse_id("mount namespace fd", argv[i + 1]);
      if (fd < 3 || fd == USERNS_FD || fd > 1023) fail("invalid mount namespace fd: %lu", fd);
      o->mount_ns = (int)fd;
    } else if (strcmp(argv[i], "--supplementary-group") == 0) {
      o->supplementary = (gid_t)parse_id("supplementary group", argv[i + 1]);
    } else {
      fail("usage: runner-launch [--cgroup-procs FILE]... [--supplementary-group GID] [--mount-ns-fd FD] [--require-sandbox-dev] --uid UID "
           "--gid GID [--program-id ID] -- PROG [ARGS...]");
    }
  }
  if (!have_uid || !have_gid) fail("--uid and --gid are required");
  // SECURITY: the whole point of a program id is that it is not the agent's.
  if (o->program != 0 && (o->program == o->uid || o->program == o->gid)) fail("--program-id must differ from --uid and --gid");
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

static void close_extra_fds(int first) {
  // SECURITY: no host descriptor leaks into the sandbox; fds 0-2 are stdio, fd 3 the seccomp
  // filter, fd 4 the user namespace (when we made one).
  if (close_range((unsigned)first, ~0U, 0) == 0) return;
  struct rlimit rl;
  long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : 65536;
  for (long fd = first; fd < max; fd++) close((int)fd);
}

static void write_proc(pid_t pid, const char *file, const char *text) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("open %s: %s", path, strerror(errno));
  ssize_t n = write(fd, text, strlen(text));
  if (n != (ssize_t)strlen(text)) fail("write %s: %s", path, n < 0 ? strerror(errno) : "short write");
  close(fd);
}

/* The helper child: becomes the agent's uid, makes the namespace (so the agent's uid owns it, and
 * bwrap running as that uid may join it), waits for the maps, and forbids nested namespaces.
 * Reports one byte per step on `up`; exits 0 when done. Never returns. */
static __attribute__((noreturn)) void userns_child(const struct opts *o, int up, int down) {
  char ok = 'u';
  drop_ids(o->uid, o->gid, 0);
  if (unshare(CLONE_NEWUSER) < 0) fail("unshare(CLONE_NEWUSER): %s", strerror(errno));
  if (write(up, &ok, 1) != 1 || read(down, &ok, 1) != 1) _exit(EXIT_LAUNCH); /* parent gone */
  // SECURITY: no user namespace can be made inside the sandbox's (what bwrap --disable-userns
  // does, which needs --unshare-user). Only a process with CAP_SYS_RESOURCE in this namespace
  // could raise it again; the agent and the program have none. Seccomp refuses it as well.
  int fd = open("/proc/sys/user/max_user_namespaces", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, "0", 1) != 1) fail("max_user_namespaces in the sandbox's namespace: %s", strerror(errno));
  close(fd);
  ok = 's';
  if (write(up, &ok, 1) != 1) _exit(EXIT_LAUNCH);
  _exit(0);
}

/* Makes the sandbox's user namespace and returns an fd of it. Runs as root: only root (CAP_SETUID
 * and CAP_SETGID in the parent namespace) may write maps that name two host ids. */
static int make_userns(const struct opts *o) {
  int up[2], down[2];
  if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0) fail("pipe: %s", strerror(errno));
  pid_t child = fork();
  if (child < 0) fail("fork: %s", strerror(errno));
  if (child == 0) userns_child(o, up[1], down[0]);
  close(up[1]);
  close(down[0]);
  char step = 0;
  if (read(up[0], &step, 1) != 1 || step != 'u') fail("the user namespace helper failed");
  char path[64], map[128];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) fail("open %s: %s", path, strerror(errno));
  // SECURITY: exactly two ids exist in the sandbox: 0 (the agent, host uid --uid) and 1000 (the
  // program, host uid --program-id). Host root is not mapped, so nothing in the sandbox can ever
  // act as it; every other id shows as the overflow id and owns nothing.
  snprintf(map, sizeof map, "0 %u 1\n%u %u 1\n", (unsigned)o->uid, PROGRAM_ID_IN_SANDBOX, (unsigned)o->program);
  write_proc(child, "uid_map", map);
  snprintf(map, sizeof map, "0 %u 1\n%u %u 1\n", (unsigned)o->gid, PROGRAM_ID_IN_SANDBOX, (unsigned)o->program);
  write_proc(child, "gid_map", map);
  if (write(down[1], &step, 1) != 1) fail("the user namespace helper exited early");
  if (read(up[0], &step, 1) != 1 || step != 's') fail("the user namespace helper failed");
  int status;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR) fail("waitpid: %s", strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("the user namespace helper failed");
  close(up[0]);
  close(down[1]);
  return ns;
}

/* Puts the namespace fd where bwrap is told to find it (bwrap joins it before it runs anything;
 * the agent closes its inherited copy first thing). */
static void place_userns_fd(int ns) {
  if (ns != USERNS_FD) {
    if (dup2(ns, USERNS_FD) < 0) fail("dup2: %s", strerror(errno));
    close(ns);
  }
  if (fcntl(USERNS_FD, F_SETFD, 0) < 0) fail("fcntl: %s", strerror(errno));
}

int main(int argc, char **argv) {
  struct opts o = {0};
  o.mount_ns = -1;
  parse_args(argc, argv, &o);
  pid_t parent = getppid();
  // SECURITY: join the sandbox cgroups (memory/pids/cpu limits) before any untrusted code exists,
  // so every descendant is accounted and limited from its first instruction.
  for (int i = 0; i < o.n_cgroups; i++) join_cgroup(o.cgroups[i]);
  int ns = o.program != 0 ? make_userns(&o) : -1;
  // After the cgroups (their files are not in the smaller namespace), while still root (setns needs
  // CAP_SYS_ADMIN). What the sandbox is made from there is the same: the root filesystem and /proc
  // are the host's own mounts; /dev is the sandboxes' own (sandbox-dev.c).
  if (o.mount_ns >= 0) {
    if (setns(o.mount_ns, CLONE_NEWNS) < 0) fail("setns(mount namespace): %s", strerror(errno));
    close(o.mount_ns);
  }
  // SECURITY: bwrap is about to bind this /dev whole into the sandbox: it must be the sandboxes'
  // read-only one (an older fork server, or none, would leave the host's with all its devices).
  if (o.require_sandbox_dev) {
    if (o.mount_ns < 0) fail("--require-sandbox-dev: no launch mount namespace (--mount-ns-fd; the fork server could not make one, see its stderr)");
    int dev = is_sandbox_dev();
    if (dev < 0) fail("statfs /dev: %s", strerror(errno));
    if (dev == 0) fail("--require-sandbox-dev: /dev in the launch mount namespace is not the sandboxes' (an older runner-forkserver? run setup)");
  }
  drop_ids(o.uid, o.gid, o.supplementary);
  // SECURITY: no setuid/file-capability binary inside the sandbox can regain privileges.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
  // SECURITY: if the host supervisor dies the sandbox dies too (set after the uid change, which
  // clears it); the getppid() check closes the race where the parent died before this call.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail("PR_SET_PDEATHSIG: %s", strerror(errno));
  if (getppid() != parent) fail("parent exited during launch");
  if (ns >= 0) place_userns_fd(ns);
  close_extra_fds(ns >= 0 ? USERNS_FD + 1 : USERNS_FD);
  execvp(o.prog[0], o.prog);
  fail("exec %s: %s", o.prog[0], strerror(errno));
}
