/* runner-forkserver: starts sandboxes for the engine, so that starting one does not fork the Node
 * process (a fork of a large process costs milliseconds of its event loop and CPU).
 *
 *   runner-forkserver --launcher PATH [--fd-file PATH]... [--launch-mount-ns]
 *
 * The engine starts it once, as root, with Node's IPC channel on fd 3, and stops it by closing
 * that channel; it also dies with the engine (PR_SET_PDEATHSIG). Requests are JSON lines, the
 * framing of Node's IPC channel:
 *
 *   {"type":"launch","id":N,"args":[...],"fd_file":K}   run PATH ARGS..., fd 3 = a fresh open of
 *                                                        the K-th --fd-file (-1: none)
 *   {"type":"kill","id":N,"signal":S}                    signal launch N (until it is reaped)
 *
 * and it answers, for each launch, two messages that carry a descriptor each (Node's own handle
 * passing: {"cmd":"NODE_HANDLE","type":"net.Socket","msg":...} with SCM_RIGHTS): the child's
 * stderr, then its stdin+stdout (one socket); then, once reaped, {"type":"exit",...}. A launch
 * it cannot make gets {"type":"error","id":N,"message":...}.
 *
 * With --launch-mount-ns (the launcher is runner-launch) it holds one mount namespace for its
 * launches, made once at start: the host's, with the mounts no sandbox is made from detached (/sys
 * and its cgroup hierarchies, /dev/pts, /dev/shm, ...), and hands it to each launcher
 * (`--mount-ns-fd 5`), which enters it once it has joined the sandbox's cgroups: bwrap's
 * unshare(CLONE_NEWNS) then copies a few mounts instead of the host's whole table, and each mount
 * table bwrap reads back while it builds the sandbox is that much shorter. Its /dev is not the
 * host's but the sandboxes' own, read-only (sandbox-dev.c), which bwrap binds whole: one mount
 * per sandbox instead of fourteen.
 *
 * It is a child subreaper: a process that a launch leaves behind when it dies becomes its child,
 * and it kills it (kill_orphans). That makes killing a bwrap sandbox's first process enough to
 * kill the sandbox (docs/security.md, "Killing a sandbox").
 *
 * SECURITY: it can run one program only, the launcher it was started with (runner-launch, which
 * joins the sandbox's cgroups and drops to its uid before anything runs), with an argv the engine
 * built; no shell, no environment, no descriptor but the three stdio ones, the one file and the
 * launch mount namespace. It
 * signals only its own children that it has not reaped (so never a reused pid). It holds no
 * secret: it is started with an empty environment. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"
#include "sandbox-dev.h"

#define IPC_FD 3
#define MAX_FD_FILES 4
#define MAX_ARGS 256
#define MAX_ARG_BYTES 4096
#define MAX_LINE (256 * 1024)
#define MAX_CHILDREN 4096
#define EXIT_EXEC 127
/* Where a launcher gets the launch mount namespace (0-2 stdio, 3 the fd file, 4 its user namespace). */
#define MOUNT_NS_FD 5

#define fail(...) die("runner-forkserver", 1, __VA_ARGS__)

struct options {
  const char *launcher;
  const char *fd_files[MAX_FD_FILES];
  int n_fd_files;
  int launch_mount_ns; /* --launch-mount-ns given */
};

/* One launch request, checked (the plan); nothing is opened or forked while building it. */
struct launch_plan {
  unsigned long id;
  char *argv[MAX_ARGS + 2];
  int fd_file; /* index into options.fd_files, or -1 */
};

struct child {
  unsigned long id;
  pid_t pid; /* 0: free slot */
};

static struct options opts;
static struct child children[MAX_CHILDREN];
/* The launch mount namespace, or -1 (launchers then stay in the host's). */
static int launch_mount_ns = -1;

/* Mount points no sandbox is made from: bwrap binds the image, the agent binary and /dev's nodes,
 * and mounts its own /proc, tmpfs and nothing else of the host. Missing ones are skipped. */
static const char *const UNNEEDED_MOUNTS[] = {"/sys", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/hugepages", "/proc/sys/fs/binfmt_misc", "/run/netns"};

/* An fd of this mount namespace, out of the way of the descriptors a child moves to 0-5 before it
 * execs; -1 on error. */
static int open_mount_ns_high(void) {
  int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (ns < 0) return -1;
  int high = fcntl(ns, F_DUPFD_CLOEXEC, 64);
  close(ns);
  return high;
}

/* Makes the launch mount namespace and returns an fd of it, back in the host's namespace; -1 (and
 * why, on stderr) when it cannot: bwrap sandboxes then do not start (runner-launch
 * --require-sandbox-dev refuses the host's /dev). */
static int make_launch_mount_ns(void) {
  int host = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (host < 0) return -1;
  int ns = -1;
  if (unshare(CLONE_NEWNS) < 0) {
    fprintf(stderr, "runner-forkserver: unshare(CLONE_NEWNS): %s; no launch mount namespace\n", strerror(errno));
    close(host);
    return -1;
  }
  const char *what = "";
  // SECURITY: a slave copy: nothing done here propagates back to the host.
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
    fprintf(stderr, "runner-forkserver: cannot prepare the launch mount namespace: %s\n", strerror(errno));
  } else {
    for (size_t i = 0; i < sizeof UNNEEDED_MOUNTS / sizeof UNNEEDED_MOUNTS[0]; i++) {
      // Each, with what is mounted below it; repeated while something is stacked on the same point.
      while (umount2(UNNEEDED_MOUNTS[i], MNT_DETACH) == 0) {
      }
    }
    // SECURITY: the sandboxes' /dev (bwrap/plan.ts, launchNamespaceDev binds it whole), or no
    // launch namespace at all.
    if (make_sandbox_dev(&what) < 0)
      fprintf(stderr, "runner-forkserver: cannot make the sandboxes' /dev (%s): %s\n", what, strerror(errno));
    else if ((ns = open_mount_ns_high()) < 0)
      fprintf(stderr, "runner-forkserver: cannot open the launch mount namespace: %s\n", strerror(errno));
  }
  if (setns(host, CLONE_NEWNS) < 0) fail("setns(host mount namespace): %s", strerror(errno));
  close(host);
  return ns;
}

static void parse_options(int argc, char **argv) {
  for (int i = 1; i < argc; i += 2) {
    if (strcmp(argv[i], "--launch-mount-ns") == 0) {
      opts.launch_mount_ns = 1;
      i--;
      continue;
    }
    if (i + 1 >= argc) fail("option %s needs a value", argv[i]);
    if (strcmp(argv[i], "--launcher") == 0) {
      opts.launcher = argv[i + 1];
    } else if (strcmp(argv[i], "--fd-file") == 0) {
      if (opts.n_fd_files == MAX_FD_FILES) fail("too many --fd-file");
      opts.fd_files[opts.n_fd_files++] = argv[i + 1];
    } else {
      fail("usage: runner-forkserver --launcher PATH [--fd-file PATH]... [--launch-mount-ns]");
    }
  }
  if (!opts.launcher || opts.launcher[0] != '/') fail("--launcher must be an absolute path");
}

/* ---- sending to the engine ---- */

/* Writes one JSON line, with `fd` attached when >= 0. The channel is blocking: lines are small. */
static int send_line(json_t *message, int fd) {
  char *text = json_dumps(message, JSON_COMPACT);
  if (!text) return -1;
  size_t len = strlen(text);
  text[len] = '\n'; /* json_dumps leaves room only for its NUL: overwrite it, send len + 1 */
  struct iovec iov = {.iov_base = text, .iov_len = len + 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (fd >= 0) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  ssize_t sent;
  do sent = sendmsg(IPC_FD, &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  /* A partial write of one short line on a blocking socket: finish it without the descriptor. */
  size_t done = sent < 0 ? 0 : (size_t)sent;
  while (sent >= 0 && done < len + 1) {
    sent = write(IPC_FD, text + done, len + 1 - done);
    if (sent > 0) done += (size_t)sent;
    else if (sent < 0 && errno == EINTR) sent = 0;
  }
  free(text);
  return sent < 0 ? -1 : 0;
}

static void send_or_die(json_t *message, int fd) {
  int rc = send_line(message, fd);
  json_decref(message);
  if (rc < 0) fail("the engine's channel is gone");
}

static void send_error(unsigned long id, const char *what, int err) {
  char text[256];
  snprintf(text, sizeof text, "%s: %s", what, strerror(err));
  send_or_die(json_pack("{s:s, s:I, s:s}", "type", "error", "id", (json_int_t)id, "message", text), -1);
}

/* A descriptor in Node's handle-passing envelope: the engine gets it as a net.Socket. */
static void send_handle(unsigned long id, pid_t pid, const char *stream, int fd) {
  json_t *inner = json_pack("{s:s, s:I, s:i, s:s}", "type", "launched", "id", (json_int_t)id, "pid", (int)pid, "stream", stream);
  send_or_die(json_pack("{s:s, s:s, s:o}", "cmd", "NODE_HANDLE", "type", "net.Socket", "msg", inner), fd);
}

/* ---- children ---- */

static struct child *child_by_id(unsigned long id) {
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (children[i].pid != 0 && children[i].id == id) return &children[i];
  return NULL;
}

static struct child *free_slot(void) {
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (children[i].pid == 0) return &children[i];
  return NULL;
}

/* Closes fds lo..hi (async-signal-safe: for the child before exec). */
static void close_fd_range(unsigned lo, unsigned hi) {
  if (lo > hi || close_range(lo, hi, 0) == 0) return;
  for (unsigned fd = lo; fd <= hi && fd < 1024; fd++) close((int)fd);
}

/* In the child, between fork and exec: only async-signal-safe calls, errors to the new stderr. */
static __attribute__((noreturn)) void exec_child(const struct launch_plan *plan, int io, int err, int file) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  if (dup2(io, 0) < 0 || dup2(io, 1) < 0 || dup2(err, 2) < 0) _exit(EXIT_EXEC);
  if (file >= 0 && dup2(file, 3) < 0) _exit(EXIT_EXEC);
  if (launch_mount_ns >= 0 && dup2(launch_mount_ns, MOUNT_NS_FD) < 0) _exit(EXIT_EXEC);
  // SECURITY: nothing of the fork server's reaches the sandbox but stdio, the one file and the
  // launch mount namespace (which runner-launch enters and closes before it drops root).
  unsigned first = file >= 0 ? 4 : 3;
  if (launch_mount_ns >= 0) {
    close_fd_range(first, MOUNT_NS_FD - 1);
    close_fd_range(MOUNT_NS_FD + 1, ~0U);
  } else {
    close_fd_range(first, ~0U);
  }
  // The launcher's argv with `--mount-ns-fd 5` first (its options end at `--`).
  char *argv[MAX_ARGS + 4];
  char ns_fd[] = {'0' + MOUNT_NS_FD, '\0'};
  int n = 0;
  argv[n++] = plan->argv[0];
  if (launch_mount_ns >= 0) argv[n++] = "--mount-ns-fd", argv[n++] = ns_fd;
  for (int i = 1; plan->argv[i]; i++) argv[n++] = plan->argv[i];
  argv[n] = NULL;
  char *no_env[] = {NULL};
  execve(opts.launcher, argv, no_env);
  static const char msg[] = "runner-forkserver: cannot exec the launcher\n";
  ssize_t ignored = write(2, msg, sizeof msg - 1);
  (void)ignored;
  _exit(EXIT_EXEC);
}

/* The descriptors of one launch; -1 where not open. */
struct launch_fds {
  int io[2];
  int err[2];
  int file;
};

static void close_fds(struct launch_fds *f) {
  int all[] = {f->io[0], f->io[1], f->err[0], f->err[1], f->file};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (all[i] >= 0) close(all[i]);
}

static int open_fds(const struct launch_plan *plan, struct launch_fds *f, const char **what) {
  *what = "socketpair";
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->io) < 0) return -1;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->err) < 0) return -1;
  *what = "open the fd file";
  // A fresh open file description per sandbox: bwrap reads the seccomp filter from the offset.
  if (plan->fd_file >= 0 && (f->file = open(opts.fd_files[plan->fd_file], O_RDONLY | O_CLOEXEC)) < 0) return -1;
  return 0;
}

static void launch(const struct launch_plan *plan) {
  struct child *slot = free_slot();
  if (!slot) return send_error(plan->id, "too many children", EAGAIN);
  if (child_by_id(plan->id)) return send_error(plan->id, "launch id in use", EEXIST);
  struct launch_fds f = {{-1, -1}, {-1, -1}, -1};
  const char *what;
  if (open_fds(plan, &f, &what) < 0) {
    int err = errno;
    close_fds(&f);
    return send_error(plan->id, what, err);
  }
  pid_t pid = fork();
  if (pid == 0) exec_child(plan, f.io[1], f.err[1], f.file);
  int err = errno;
  close(f.io[1]), close(f.err[1]);
  if (f.file >= 0) close(f.file);
  if (pid < 0) {
    close(f.io[0]), close(f.err[0]);
    return send_error(plan->id, "fork", err);
  }
  slot->id = plan->id;
  slot->pid = pid;
  send_handle(plan->id, pid, "stderr", f.err[0]);
  send_handle(plan->id, pid, "agent", f.io[0]);
  close(f.err[0]), close(f.io[0]);
}

static int is_launch(pid_t pid) {
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (children[i].pid == pid) return 1;
  return 0;
}

/* Kills every child of ours that is not a launch: a process a dead launch left to us (we are a
 * child subreaper), i.e. the pid namespace init of a bwrap that died before that init had set its
 * parent-death signal, or runner-launch's user namespace helper. The engine kills a sandbox by
 * killing its bwrap (no freezer on cgroup v1); this catches the one process that would survive it.
 * SECURITY: an unreaped child of ours, so its pid cannot have been reused; an init's death kills
 * its whole namespace. Orphans arrive as their parent exits, before its SIGCHLD, so the pass after
 * each reap sees every one. */
static void kill_orphans(void) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
  FILE *f = fopen(path, "re");
  if (!f) return;
  long pid;
  while (fscanf(f, "%ld", &pid) == 1)
    if (pid > 0 && !is_launch((pid_t)pid)) kill((pid_t)pid, SIGKILL);
  fclose(f);
}

static void reap(void) {
  int status;
  pid_t pid;
  int launches = 0;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (int i = 0; i < MAX_CHILDREN; i++) {
      if (children[i].pid != pid) continue;
      json_t *code = WIFEXITED(status) ? json_integer(WEXITSTATUS(status)) : json_null();
      json_t *sig = WIFSIGNALED(status) ? json_integer(WTERMSIG(status)) : json_null();
      send_or_die(json_pack("{s:s, s:I, s:o, s:o}", "type", "exit", "id", (json_int_t)children[i].id, "code", code, "signal", sig), -1);
      children[i].pid = 0;
      launches++;
    }
  }
  if (launches > 0) kill_orphans();
}

/* ---- requests ---- */

/* Builds the plan of a launch request; returns an error text for a malformed one. */
static const char *plan_launch(json_t *request, struct launch_plan *plan) {
  json_t *args = json_object_get(request, "args");
  json_t *file = json_object_get(request, "fd_file");
  if (!json_is_array(args) || json_array_size(args) > MAX_ARGS) return "args must be an array of at most 256 strings";
  if (!json_is_integer(file) || json_integer_value(file) < -1 || json_integer_value(file) >= opts.n_fd_files) return "fd_file must name a --fd-file or be -1";
  plan->fd_file = (int)json_integer_value(file);
  plan->argv[0] = (char *)opts.launcher;
  size_t i;
  json_t *arg;
  json_array_foreach(args, i, arg) {
    const char *s = json_string_value(arg);
    if (!s || strlen(s) > MAX_ARG_BYTES) return "each arg must be a string of at most 4096 bytes";
    plan->argv[i + 1] = (char *)s;
  }
  plan->argv[json_array_size(args) + 1] = NULL;
  return NULL;
}

static void handle_request(const char *line) {
  json_t *request = json_loads(line, 0, NULL);
  if (!json_is_object(request)) fail("the engine sent a line that is not a JSON object");
  // Node's own handle acknowledgements ({"cmd":"NODE_HANDLE_ACK"}): nothing to do.
  const char *type = json_string_value(json_object_get(request, "type"));
  json_t *id = json_object_get(request, "id");
  if (json_object_get(request, "cmd") || !type || !json_is_integer(id) || json_integer_value(id) < 0) {
    json_decref(request);
    return;
  }
  unsigned long launch_id = (unsigned long)json_integer_value(id);
  if (strcmp(type, "launch") == 0) {
    struct launch_plan plan = {.id = launch_id};
    const char *bad = plan_launch(request, &plan);
    if (bad) send_or_die(json_pack("{s:s, s:I, s:s}", "type", "error", "id", (json_int_t)launch_id, "message", bad), -1);
    else launch(&plan);
  } else if (strcmp(type, "kill") == 0) {
    json_t *sig = json_object_get(request, "signal");
    struct child *c = child_by_id(launch_id);
    // SECURITY: only an unreaped child of ours: its pid cannot have been reused.
    if (c && json_is_integer(sig) && json_integer_value(sig) > 0 && json_integer_value(sig) < NSIG) kill(c->pid, (int)json_integer_value(sig));
  }
  json_decref(request);
}

static char line[MAX_LINE];
static size_t line_len;

/* Reads what the channel has and handles each complete line; returns 0 at EOF (the engine is gone). */
static int read_requests(void) {
  ssize_t n = read(IPC_FD, line + line_len, sizeof line - 1 - line_len);
  if (n < 0) return errno == EINTR || errno == EAGAIN ? 1 : 0;
  if (n == 0) return 0;
  line_len += (size_t)n;
  char *start = line, *nl;
  while ((nl = memchr(start, '\n', line_len - (size_t)(start - line)))) {
    *nl = '\0';
    handle_request(start);
    start = nl + 1;
  }
  line_len -= (size_t)(start - line);
  memmove(line, start, line_len);
  if (line_len == sizeof line - 1) fail("a request line is longer than %d bytes", MAX_LINE);
  return 1;
}

static void kill_all(void) {
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (children[i].pid != 0) kill(children[i].pid, SIGKILL);
}

int main(int argc, char **argv) {
  pid_t parent = getppid();
  parse_options(argc, argv);
  // Dies with the engine: the kernel signals us if it goes (the check closes the race before).
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) fail("the engine is gone");
  // What a dead launch leaves behind becomes our child, to be killed (kill_orphans).
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) fail("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
  int flags = fcntl(IPC_FD, F_GETFL);
  if (flags < 0) fail("no channel on fd %d (start me from the engine)", IPC_FD);
  if (opts.launch_mount_ns) launch_mount_ns = make_launch_mount_ns();
  // Blocking: answers are short lines, and a full channel means the engine must catch up first.
  if (fcntl(IPC_FD, F_SETFL, flags & ~O_NONBLOCK) < 0) fail("fcntl: %s", strerror(errno));
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0) fail("sigprocmask: %s", strerror(errno));
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) fail("signalfd: %s", strerror(errno));
  signal(SIGPIPE, SIG_IGN);
  struct pollfd fds[2] = {{.fd = IPC_FD, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll: %s", strerror(errno));
    }
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(sfd, &info, sizeof info) == sizeof info) {
      }
      reap();
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR) && !read_requests()) {
      // The engine closed the channel: its sandboxes go with it (bwrap --die-with-parent too).
      kill_all();
      return 0;
    }
  }
}
