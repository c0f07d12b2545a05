#include "stage-child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "privilege.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static __attribute__((noreturn)) void child_fail(const char *what, const char *arg) {
  dprintf(STDERR_FILENO, "runner-agent: %s %s: %s\n", what, arg, strerror(errno));
  _exit(127);
}

/* Install the pipe ends as 0/1/2 and the control end as 3 (all first moved to >= 4 so no dup2
 * clobbers another end). */
static void child_fds(const int in[3], int control_fd) {
  int fds[4] = {in[0], in[1], in[2], control_fd};
  int n = control_fd >= 0 ? 4 : 3;
  for (int i = 0; i < n; i++)
    if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 4)) < 0) _exit(127);
  for (int i = 0; i < n; i++)
    if (dup2(fds[i], i) < 0) _exit(127);
  // SECURITY: no agent descriptor (frame channel, signalfd, other pipes, other execs) reaches user code.
  (void)close_range((unsigned)n, ~0U, 0);
}

static int set_limit(int resource, rlim_t soft, rlim_t hard) {
  struct rlimit rl = {.rlim_cur = soft, .rlim_max = hard};
  return setrlimit(resource, &rl);
}

static void child_rlimits(const struct job_rlimits *rl) {
  // SECURITY: resource caps on user code; a limit that cannot be applied fails the exec.
  if (rl->cpu_s && set_limit(RLIMIT_CPU, rl->cpu_s, rl->cpu_s + 1) < 0) child_fail("setrlimit", "RLIMIT_CPU");
  if (rl->nofile && set_limit(RLIMIT_NOFILE, rl->nofile, rl->nofile) < 0) child_fail("setrlimit", "RLIMIT_NOFILE");
  if (rl->fsize_bytes && set_limit(RLIMIT_FSIZE, rl->fsize_bytes, rl->fsize_bytes) < 0)
    child_fail("setrlimit", "RLIMIT_FSIZE");
  if (rl->stack_bytes && set_limit(RLIMIT_STACK, rl->stack_bytes, rl->stack_bytes) < 0)
    child_fail("setrlimit", "RLIMIT_STACK");
  if (set_limit(RLIMIT_CORE, 0, 0) < 0) child_fail("setrlimit", "RLIMIT_CORE");
}

static void child_oom_adj(void) {
  /* Make user code a likelier OOM victim than the agent. /proc may be absent: ignore failure. */
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, "500", 3) < 0) { /* ignored */
  }
  close(fd);
}

static const char *env_path(char **env) {
  const char *path = DEFAULT_PATH;
  for (char **e = env; *e != NULL; e++)
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  return path;
}

/* execvpe() that searches the *stage's* PATH (glibc's execvpe uses the caller's environ). */
static void exec_search(char **argv, char **env) {
  const char *file = argv[0];
  if (strchr(file, '/') != NULL) {
    execve(file, argv, env);
    return;
  }
  bool eacces = false;
  char buf[4096];
  for (const char *p = env_path(env);; p++) {
    const char *end = strchrnul(p, ':');
    int dl = (int)(end - p);
    int n = dl == 0 ? snprintf(buf, sizeof buf, "%s", file) : snprintf(buf, sizeof buf, "%.*s/%s", dl, p, file);
    if (n > 0 && (size_t)n < sizeof buf) {
      execve(buf, argv, env);
      if (errno == EACCES) eacces = true;
      else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV && errno != ETIMEDOUT)
        return;
    }
    if (*end == '\0') break;
    p = end;
  }
  errno = eacces ? EACCES : ENOENT;
}

void stage_child_exec(const struct job_stage *st, const int fds[3], int control_fd) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  setsid(); /* own process group: the non-PID-1 kill path targets it */
  child_fds(fds, control_fd);
  child_rlimits(&st->rlimits);
  child_oom_adj();
  // SECURITY: user code never runs as the agent's uid (it could then signal, trace or limit the
  // agent); from here on this child is the program's uid with no capabilities.
  if (privilege_drop_to_program() < 0) child_fail("drop to", "the program's uid");
  if (chdir(st->cwd) < 0) child_fail("chdir", st->cwd);
  exec_search(st->argv, st->env);
  child_fail("exec", st->argv[0]);
}
