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

/* Install the pipe ends as 0/1/2 and the control end as 3, and the files' workdir and report
 * ends right after them (close-on-exec; all first moved to >= 8 so no dup2 clobbers another end). */
static void child_fds(const int in[3], int control_fd, struct stage_files *files) {
  int fds[6] = {in[0], in[1], in[2], control_fd};
  int n = control_fd >= 0 ? 4 : 3, k = n;
  if (files != NULL) fds[k++] = files->root, fds[k++] = files->report;
  for (int i = 0; i < k; i++)
    if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 8)) < 0) _exit(127);
  for (int i = 0; i < n; i++)
    if (dup2(fds[i], i) < 0) _exit(127);
  for (int i = n; i < k; i++)
    if (dup3(fds[i], i, O_CLOEXEC) < 0) _exit(127);
  if (files != NULL) files->root = n, files->report = n + 1;
  // SECURITY: no agent descriptor (frame channel, signalfd, other pipes, other execs) reaches user
  // code; the files' two are closed before the exec (files_write_in_stage).
  (void)close_range((unsigned)k, ~0U, 0);
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

void stage_child_exec(const struct job_stage *st, const int fds[3], int control_fd, const struct stage_files *files) {
  struct stage_files f;
  if (files != NULL) f = *files;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  setsid(); /* own process group: the non-PID-1 kill path targets it */
  child_fds(fds, control_fd, files != NULL ? &f : NULL);
  child_oom_adj();
  // SECURITY: user code never runs as the agent's uid (it could then signal, trace or limit the
  // agent); from here on this child is the program's uid with no capabilities.
  if (privilege_drop_to_program() < 0) {
    if (files != NULL) {
      struct agent_error err = {0};
      agent_err_errno(&err, ERR_INTERNAL, "dropping to the program's uid");
      files_report_error(&f, &err);
    }
    child_fail("drop to", "the program's uid");
  }
  /* The job's files, as the program's uid (the first stage of a cold job): before the rlimits, so
   * that neither RLIMIT_FSIZE nor RLIMIT_NOFILE applies to writing them, as when the agent wrote them. */
  if (files != NULL) files_write_in_stage(&f);
  /* After the drop: a limit is only ever lowered, which needs no privilege (and in a sandbox the
   * agent holds no CAP_SYS_RESOURCE of the initial user namespace to raise one either). */
  child_rlimits(&st->rlimits);
  if (chdir(st->cwd) < 0) child_fail("chdir", st->cwd);
  exec_search(st->argv, st->env);
  child_fail("exec", st->argv[0]);
}
