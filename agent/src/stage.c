/* Running one stage: fork + exec with pipes, a poll loop with a monotonic deadline, reaping of every
 * child (the agent may be PID 1), and a kill-everything step when the stage ends. */
#include "stage.h"

#include "privilege.h"
#include "stage-child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>

#define NS_PER_MS 1000000LL
#define DRAIN_GRACE_NS (1000 * NS_PER_MS) /* after the kill: max time to wait for pipe EOF */

struct run {
  const struct job_stage *st;
  struct stage_result *res;
  pid_t pid;
  int pipe_in[2], pipe_out[2], pipe_err[2]; /* [0] read end, [1] write end */
  int sigfd;
  /* The first stage of a cold job: its child writes the job's files (files.h) and reports on
   * `report`, -1 once read; its timeout runs from then. */
  const struct stage_files *files;
  int report;
  struct agent_error files_err;
  double files_cpu_ms;
  size_t in_off;
  bool child_done, killed;
  int status;
  struct rusage child_ru;
  int64_t start_ns, end_ns, deadline_ns, drain_deadline_ns;
};

/* ---- parent side ---- */

static void reap(struct run *r) {
  struct signalfd_siginfo si;
  while (read(r->sigfd, &si, sizeof si) > 0) {
  }
  for (;;) {
    int status;
    struct rusage ru;
    pid_t p = wait4(-1, &status, WNOHANG, &ru);
    if (p <= 0) return; /* none ready, or no children left */
    if (p == r->pid) {
      r->child_done = true;
      r->status = status;
      r->child_ru = ru;
      r->end_ns = mono_ns();
    }
  }
}

static void kill_stage(struct run *r, int64_t now) {
  if (!r->child_done) {
    r->res->timed_out = true;
    kill(r->pid, SIGKILL); /* also covers a child that has not reached setsid() yet */
  }
  // SECURITY: nothing from user code may outlive its stage (background jobs, daemons, fork bombs).
  // As PID 1 of the sandbox's PID namespace, kill(-1) reaches every other process; otherwise only
  // the stage's process group (kill(-1) there would hit the host).
  if (getpid() == 1)
    kill(-1, SIGKILL);
  else
    kill(-r->pid, SIGKILL);
  r->killed = true;
  r->drain_deadline_ns = now + DRAIN_GRACE_NS;
}

static void feed_stdin(struct run *r) {
  while (r->in_off < r->st->stdin_len) {
    ssize_t n = write(r->pipe_in[1], r->st->stdin_data + r->in_off, r->st->stdin_len - r->in_off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) break; /* EPIPE: the program does not read its input; fine */
    r->in_off += (size_t)n;
  }
  close_fd(&r->pipe_in[1]);
}

static int drain(int *fd, struct outbuf *b, struct agent_error *err) {
  char buf[65536];
  ssize_t n = read(*fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  if (n <= 0) {
    close_fd(fd);
    return 0;
  }
  if (outbuf_append(b, buf, (size_t)n) < 0) return agent_err(err, ERR_INTERNAL, "out of memory for stage output");
  return 0;
}

/* The child's report on the files: a failure becomes the stage's (the job's) error; the time the
 * writing took is not the stage's, as when the agent wrote them before it. */
static void read_report(struct run *r) {
  struct files_report rep;
  ssize_t n = read(r->report, &rep, sizeof rep);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  close_fd(&r->report);
  if (n != (ssize_t)sizeof rep) {
    agent_err(&r->files_err, ERR_INTERNAL, FILES_CHILD_DIED);
  } else if (rep.err.code != NULL) {
    rep.err.message[sizeof rep.err.message - 1] = '\0';
    agent_err(&r->files_err, rep.err.code, "%s", rep.err.message);
  } else {
    r->start_ns += rep.write_ns;
    r->deadline_ns += rep.write_ns;
    r->files_cpu_ms = (double)rep.cpu_ns / 1e6;
  }
}

static int poll_timeout(const struct run *r, int64_t now) {
  if (!r->killed && r->report >= 0) return -1; /* the deadline is not known before the report */
  int64_t until = r->killed ? r->drain_deadline_ns : r->deadline_ns;
  if (r->killed && r->pipe_out[0] < 0 && r->pipe_err[0] < 0) return -1; /* only waiting for SIGCHLD */
  if (until <= now) return 0;
  return (int)((until - now + NS_PER_MS - 1) / NS_PER_MS);
}

/* One poll round; returns 0, or -1 on an agent failure. */
static int poll_once(struct run *r, int timeout, struct agent_error *err) {
  struct pollfd p[5] = {
      {.fd = r->sigfd, .events = POLLIN},
      {.fd = r->pipe_in[1], .events = POLLOUT},
      {.fd = r->pipe_out[0], .events = POLLIN},
      {.fd = r->pipe_err[0], .events = POLLIN},
      {.fd = r->report, .events = POLLIN},
  }; /* negative fds are ignored by poll */
  if (poll(p, 5, timeout) < 0) return errno == EINTR ? 0 : agent_err_errno(err, ERR_INTERNAL, "poll");
  if (p[4].revents) read_report(r);
  if (p[1].revents) feed_stdin(r);
  if (p[2].revents && drain(&r->pipe_out[0], &r->res->out, err) < 0) return -1;
  if (p[3].revents && drain(&r->pipe_err[0], &r->res->err, err) < 0) return -1;
  if (p[0].revents) reap(r);
  return 0;
}

static int run_loop(struct run *r, struct agent_error *err) {
  for (;;) {
    int64_t now = mono_ns();
    if (!r->killed && (r->child_done || (r->report < 0 && now >= r->deadline_ns))) kill_stage(r, now);
    if (r->killed && now >= r->drain_deadline_ns) { /* something escaped the kill: stop draining */
      close_fd(&r->pipe_out[0]);
      close_fd(&r->pipe_err[0]);
    }
    if (r->killed && r->child_done && r->pipe_out[0] < 0 && r->pipe_err[0] < 0) return 0;
    if (poll_once(r, poll_timeout(r, now), err) < 0) return -1;
  }
}

/* Owner cleanup: close every fd and never leave the child running or unreaped. */
static void run_cleanup(struct run *r) {
  int *fds[] = {&r->pipe_in[0], &r->pipe_in[1], &r->pipe_out[0], &r->pipe_out[1], &r->pipe_err[0], &r->pipe_err[1], &r->report};
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) close_fd(fds[i]);
  if (r->pid > 0 && !r->child_done) {
    kill(-r->pid, SIGKILL);
    kill(r->pid, SIGKILL);
    while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
}

static int open_pipes(struct run *r, int report[2], struct agent_error *err) {
  if (pipe2(r->pipe_in, O_CLOEXEC) < 0 || pipe2(r->pipe_out, O_CLOEXEC) < 0 || pipe2(r->pipe_err, O_CLOEXEC) < 0 ||
      (r->files != NULL && pipe2(report, O_CLOEXEC) < 0))
    return agent_err_errno(err, ERR_INTERNAL, "pipe");
  /* One end per pipe: both ends share the inode. Programs open /dev/stdin, /dev/stdout by path. */
  if (privilege_give_to_program(r->pipe_in[0]) < 0 || privilege_give_to_program(r->pipe_out[1]) < 0 ||
      privilege_give_to_program(r->pipe_err[1]) < 0)
    return agent_err_errno(err, ERR_INTERNAL, "chown of the stage's pipes");
  return 0;
}

static int start_child(struct run *r, int report[2], struct agent_error *err) {
  struct stage_files files;
  if (r->files != NULL) files = *r->files, files.report = report[1];
  r->start_ns = mono_ns();
  r->deadline_ns = r->start_ns + (int64_t)r->st->timeout_ms * NS_PER_MS;
  r->pid = fork();
  if (r->pid < 0) return agent_err_errno(err, ERR_INTERNAL, "fork");
  if (r->pid == 0) stage_child_exec(r->st, (int[3]){r->pipe_in[0], r->pipe_out[1], r->pipe_err[1]}, -1, r->files != NULL ? &files : NULL);
  if (r->files != NULL) {
    r->report = steal_fd(&report[0]);
    close_fd(&report[1]);
    if (fcntl(r->report, F_SETFL, O_NONBLOCK) < 0) return agent_err_errno(err, ERR_INTERNAL, "fcntl O_NONBLOCK");
  }
  close_fd(&r->pipe_in[0]);
  close_fd(&r->pipe_out[1]);
  close_fd(&r->pipe_err[1]);
  int fds[] = {r->pipe_in[1], r->pipe_out[0], r->pipe_err[0]};
  for (int i = 0; i < 3; i++)
    if (fcntl(fds[i], F_SETFL, O_NONBLOCK) < 0) return agent_err_errno(err, ERR_INTERNAL, "fcntl O_NONBLOCK");
  if (r->st->stdin_len == 0) close_fd(&r->pipe_in[1]);
  return 0;
}

static bool count_oom_kills;

void stage_count_oom_kills(bool enable) { count_oom_kills = enable; }

/* The kernel's `oom_kill` counter from /proc/vmstat, or -1 when it cannot be read. */
long stage_read_oom_kills(void) {
  if (!count_oom_kills) return -1;
  FILE *f = fopen("/proc/vmstat", "re");
  if (f == NULL) return -1;
  char line[128];
  long n = -1;
  while (fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "oom_kill %ld", &n) == 1) break;
  fclose(f);
  return n;
}

double stage_tv_ms(struct timeval tv) { return (double)tv.tv_sec * 1000.0 + (double)tv.tv_usec / 1000.0; }

void stage_result_exited(struct stage_result *r, int status) {
  if (WIFSIGNALED(status)) {
    r->signal = WTERMSIG(status);
    r->exit_code = 128 + r->signal;
  } else {
    r->exit_code = WEXITSTATUS(status);
  }
}

static void finish(struct run *r, const struct rusage *before, long oom_before) {
  struct stage_result *res = r->res;
  struct rusage after;
  reap(r); /* collect orphans that are already gone (PID 1 case) */
  long oom_after = stage_read_oom_kills();
  res->oom_kills = oom_before >= 0 && oom_after > oom_before ? oom_after - oom_before : 0;
  getrusage(RUSAGE_CHILDREN, &after);
  stage_result_exited(res, r->status);
  res->wall_ms = (double)(r->end_ns - r->start_ns) / (double)NS_PER_MS;
  res->cpu_ms = stage_tv_ms(after.ru_utime) + stage_tv_ms(after.ru_stime) - stage_tv_ms(before->ru_utime) - stage_tv_ms(before->ru_stime);
  /* ru_maxrss is a maximum, not a sum: take the main child's own peak (wait4), or the children peak
   * when it grew during this stage (an orphan reaped by PID 1 used more). */
  res->max_rss_kb = r->child_ru.ru_maxrss;
  if (after.ru_maxrss > before->ru_maxrss && after.ru_maxrss > res->max_rss_kb) res->max_rss_kb = after.ru_maxrss;
}

/* The CPU time a process has used so far (all its threads), in ms; 0 when it cannot be read. */
static double process_cpu_ms(pid_t pid) {
  clockid_t clock;
  struct timespec ts;
  if (clock_getcpuclockid(pid, &clock) != 0 || clock_gettime(clock, &ts) < 0) return 0;
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Takes the interpreter that was just handed its argv at `handed_ns`: from here on it is this
 * stage's child, and the stage's clock started then. */
static int adopt_child(struct run *r, struct prestart *p, int64_t handed_ns, struct agent_error *err) {
  r->pid = p->pid;
  r->pipe_in[1] = steal_fd(&p->in);
  r->pipe_out[0] = steal_fd(&p->out);
  r->pipe_err[0] = steal_fd(&p->err);
  p->pid = 0;
  r->start_ns = handed_ns;
  r->deadline_ns = r->start_ns + (int64_t)r->st->timeout_ms * NS_PER_MS;
  int fds[] = {r->pipe_in[1], r->pipe_out[0], r->pipe_err[0]};
  for (int i = 0; i < 3; i++)
    if (fcntl(fds[i], F_SETFL, O_NONBLOCK) < 0) return agent_err_errno(err, ERR_INTERNAL, "fcntl O_NONBLOCK");
  if (r->st->stdin_len == 0) close_fd(&r->pipe_in[1]);
  return 0;
}

static void close_pair(int (*fds)[2]) {
  close_fd(&(*fds)[0]);
  close_fd(&(*fds)[1]);
}

/* What a stage adopts from a pre-started interpreter: the interpreter, when its clock started,
 * and the CPU time it had used by then (not the program's). */
struct handed {
  struct prestart *p;
  int64_t at_ns;
  double cpu_ms;
};

static int run_stage(const struct job_stage *st, const struct handed *h, const struct stage_files *files, int sigfd,
                     struct stage_result *res, struct agent_error *err) {
  *res = (struct stage_result){.name = st->name};
  outbuf_init(&res->out, st->output_limit);
  outbuf_init(&res->err, st->output_limit);
  struct rusage before;
  getrusage(RUSAGE_CHILDREN, &before);
  long oom_before = stage_read_oom_kills();
  __attribute__((cleanup(run_cleanup))) struct run r = {
      .st = st, .res = res, .sigfd = sigfd, .files = files, .report = -1, .pipe_in = {-1, -1}, .pipe_out = {-1, -1}, .pipe_err = {-1, -1}};
  __attribute__((cleanup(close_pair))) int report[2] = {-1, -1};
  if (h != NULL ? adopt_child(&r, h->p, h->at_ns, err) < 0 : (open_pipes(&r, report, err) < 0 || start_child(&r, report, err) < 0))
    return -1;
  if (run_loop(&r, err) < 0) return -1;
  if (r.report >= 0) read_report(&r); /* the child is gone: its report, or EOF */
  if (r.files_err.code != NULL) {
    *err = r.files_err;
    return -1;
  }
  finish(&r, &before, oom_before);
  res->cpu_ms = res->cpu_ms > r.files_cpu_ms ? res->cpu_ms - r.files_cpu_ms : 0;
  if (h != NULL) {
    /* What the interpreter used to start, before the hand-over, is not the program's. */
    res->cpu_ms = res->cpu_ms > h->cpu_ms ? res->cpu_ms - h->cpu_ms : 0;
    res->prestarted = true;
  }
  return 0;
}

int stage_run(const struct job_stage *st, const struct stage_files *files, int sigfd, struct stage_result *res, struct agent_error *err) {
  return run_stage(st, NULL, files, sigfd, res, err);
}

int stage_run_prestarted(const struct job_stage *st, struct prestart *p, int sigfd, struct stage_result *res, struct agent_error *err) {
  struct handed h = {.p = p, .cpu_ms = prestart_fits(p, st) ? process_cpu_ms(p->pid) : 0, .at_ns = mono_ns()};
  if (!prestart_fits(p, st) || prestart_hand_over(p, st->argv) < 0) {
    prestart_stop(p);
    return run_stage(st, NULL, NULL, sigfd, res, err);
  }
  return run_stage(st, &h, NULL, sigfd, res, err);
}

void stage_result_free(struct stage_result *r) {
  outbuf_free(&r->out);
  outbuf_free(&r->err);
}

bool stage_failed(const struct stage_result *r) { return r->exit_code != 0 || r->signal != 0 || r->timed_out; }
