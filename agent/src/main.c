/* runner-agent: reads one job frame, runs its stages, answers with one result (or error) frame;
 * or, when the first frame is "open", serves a session (protocol version 2, session.c).
 * fail() (die.c) is allowed only before the ready frame; after that every failure is an error frame. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include "die.h"
#include "file-ops.h"
#include "files.h"
#include "frame.h"
#include "job.h"
#include "prestart.h"
#include "privilege.h"
#include "protocol.h"
#include "result.h"
#include "session.h"
#include "stage.h"

struct io {
  int in, out, sigfd;
};

/* Before the ready frame only: "runner-agent: message" on stderr, exit status 1. */
#define fail(...) die("runner-agent", 1, __VA_ARGS__)

static void usage(void) {
  fputs("usage: runner-agent [--io PATH | --io-fd N] [--guest] [--program-id ID]\n       runner-agent --version\n", stderr);
  exit(2);
}

static long parse_number(const char *s, long min, long max) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < min || v > max) usage();
  return v;
}

static void parse_args(int argc, char **argv, const char **io_path, int *io_fd, long *program_id) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--version") == 0) {
      puts(RC_AGENT_NAME " " RC_AGENT_VERSION);
      exit(0);
    } else if (strcmp(argv[i], "--io") == 0 && i + 1 < argc) {
      *io_path = argv[++i];
    } else if (strcmp(argv[i], "--guest") == 0) {
      stage_count_oom_kills(true); /* in a VM: the kernel's counters are the sandbox's own */
    } else if (strcmp(argv[i], "--io-fd") == 0 && i + 1 < argc) {
      /* An fd opened by whoever started us (the VM init opens the port as root, so code running as
       * the sandbox user cannot open it and speak to the host in the agent's place). */
      *io_fd = (int)parse_number(argv[++i], 3, 1024);
    } else if (strcmp(argv[i], "--program-id") == 0 && i + 1 < argc) {
      /* Files and stages run as this uid and gid, never as the agent's own (privilege.h). */
      *program_id = parse_number(argv[++i], 1, 65533);
    } else {
      usage();
    }
  }
}

/* SECURITY: descriptors the agent inherited but does not use (bwrap leaves the user namespace fd
 * open) are closed, so none can reach a stage even by mistake. */
static void close_inherited(int keep) {
  if (keep < 0) {
    (void)close_range(3, ~0U, 0);
    return;
  }
  if (keep > 3) (void)close_range(3, (unsigned)keep - 1, 0);
  (void)close_range((unsigned)keep + 1, ~0U, 0);
}

static void setup(const char *io_path, int io_fd, long program_id, struct io *io) {
  if (privilege_not_dumpable() < 0) fail("PR_SET_DUMPABLE: %s", strerror(errno));
  close_inherited(io_fd);
  struct agent_error err = {0};
  if (program_id > 0 && privilege_separate((uid_t)program_id, &err) < 0) fail("%s", err.message);
  signal(SIGPIPE, SIG_IGN); /* a vanished reader is a write error, not a silent death */
  umask(022);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) fail("sigprocmask: %s", strerror(errno));
  io->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (io->sigfd < 0) fail("signalfd: %s", strerror(errno));
  io->in = STDIN_FILENO;
  io->out = STDOUT_FILENO;
  if (io_path != NULL) {
    io->in = io->out = open(io_path, O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (io->in < 0) fail("open %s: %s", io_path, strerror(errno));
  } else if (io_fd >= 0) {
    if (fcntl(io_fd, F_SETFD, FD_CLOEXEC) < 0) fail("fd %d: %s", io_fd, strerror(errno));
    io->in = io->out = io_fd;
  }
}

static int send_json(int fd, char *json, struct agent_error *err) {
  if (json == NULL) return agent_err(err, ERR_INTERNAL, "out of memory");
  int rc = frame_write(fd, json, strlen(json), RC_MAX_RESULT_FRAME, err);
  free(json);
  return rc;
}

/* A job of one stage may run in the pre-started interpreter (prestart.h); any other stops it first.
 * The files: a cold first stage's child writes them (it runs as the program's uid before its exec
 * anyway, stage_run); the waiting interpreter must find them at the hand-over, so for it they are
 * written first, by a child the agent waits for (files_write_as_program). */
static int run_stages(const struct job *job, struct prestart *pre, int sigfd, struct stage_result *res, size_t *n, struct agent_error *err) {
  cleanup_close int root = files_open_workdir(job->workdir, err);
  if (root < 0) return -1;
  bool warm = job->n_stages == 1 && prestart_fits(pre, &job->stages[0]);
  if (!warm) prestart_stop(pre);
  if (warm && files_write_as_program(root, job, err) < 0) return -1;
  const struct stage_files files = {.root = root, .files = job->files, .n = job->n_files, .report = -1};
  for (*n = 0; *n < job->n_stages; ) {
    const struct job_stage *st = &job->stages[*n];
    int rc = warm ? stage_run_prestarted(st, pre, sigfd, &res[*n], err) : stage_run(st, *n == 0 ? &files : NULL, sigfd, &res[*n], err);
    if (rc < 0) {
      stage_result_free(&res[*n]);
      return -1;
    }
    if (stage_failed(&res[(*n)++])) break;
  }
  return 0;
}

/* Version 1's outputs: what the program left under collect.dir (file-ops.c). */
static int collect(const struct job *job, json_t **outputs, bool *truncated, struct agent_error *err) {
  if (!job->collect.enabled) return 0;
  // SECURITY: only opened (never through a symlink, never chowned again) by the agent; the walk
  // below it runs as the program's uid.
  cleanup_close int root = open(job->workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0) return agent_err_errno(err, ERR_INTERNAL, "open workdir %s", job->workdir);
  /* Most programs write no outputs/: a stat of that one name (never following a symlink, opening
   * nothing) spares them the walk's child. Anything there, even a symlink, goes the walk's way. */
  struct stat st;
  if (strchr(job->collect.dir, '/') == NULL && fstatat(root, job->collect.dir, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
    *truncated = false;
    return (*outputs = json_array()) != NULL ? 0 : agent_err(err, ERR_INTERNAL, "out of memory");
  }
  return fileop_collect(root, &job->collect, outputs, truncated, err);
}

static int run_job(const struct io *io, const struct job *job, struct prestart *pre, struct agent_error *err) {
  struct stage_result res[RC_MAX_STAGES];
  size_t n = 0;
  char *json = NULL;
  json_t *outputs = NULL;
  bool outputs_truncated = false;
  int rc = run_stages(job, pre, io->sigfd, res, &n, err);
  if (rc == 0) rc = collect(job, &outputs, &outputs_truncated, err);
  if (rc == 0) rc = result_json(res, n, outputs, outputs_truncated, &json, err);
  json_decref(outputs);
  for (size_t i = 0; i < n; i++) stage_result_free(&res[i]);
  if (rc == 0) rc = send_json(io->out, json, err);
  return rc;
}

static json_t *read_doc(const struct io *io, struct agent_error *err) {
  cleanup_free char *buf = NULL;
  size_t len;
  if (frame_read(io->in, RC_MAX_JOB_FRAME, &buf, &len, err) < 0) return NULL;
  return job_load_json(buf, len, false, err);
}

static bool is_type(json_t *doc, const char *type) {
  json_t *t = json_object_get(doc, "type");
  return json_is_string(t) && strcmp(json_string_value(t), type) == 0;
}

/* Version 1's optional first frame: start the interpreter, answer whether it is ready. */
static int prestart(const struct io *io, json_t *doc, struct prestart *pre, struct agent_error *err) {
  char why[256];
  json_t *p = json_object_get(doc, "protocol");
  if (!json_is_integer(p) || json_integer_value(p) != RC_JOB_PROTOCOL_VERSION) {
    json_decref(doc);
    return agent_err(err, ERR_BAD_JOB, "protocol: must be %d", RC_JOB_PROTOCOL_VERSION);
  }
  if (prestart_start(doc, io->sigfd, pre, why, sizeof why, err) < 0) return -1;
  json_t *answer = pre->pid > 0
                       ? json_pack("{s:s, s:i, s:b}", "type", "prestarted", "protocol", RC_JOB_PROTOCOL_VERSION, "ready", 1)
                       : json_pack("{s:s, s:i, s:b, s:s}", "type", "prestarted", "protocol", RC_JOB_PROTOCOL_VERSION, "ready", 0, "message", why);
  return result_send(io->out, answer, err);
}

/* The host's first frame picks the mode: a job (version 1: one job, one result, optionally after a
 * prestart frame) or open (version 2: a session, session.c). Returns the exit status. */
static int serve(const struct io *io, struct agent_error *err) {
  __attribute__((cleanup(prestart_free))) struct prestart pre = PRESTART_INIT;
  json_t *doc = read_doc(io, err);
  if (doc != NULL && is_type(doc, "prestart")) {
    if (prestart(io, doc, &pre, err) < 0) return -1;
    doc = read_doc(io, err);
  }
  if (doc == NULL) return -1;
  if (is_type(doc, "open")) {
    prestart_free(&pre); /* a session starts its own processes */
    int status = session_serve(io->in, io->out, io->sigfd, doc);
    json_decref(doc);
    exit(status);
  }
  struct job job;
  int rc = job_parse_doc(doc, &job, err);
  if (rc == 0) rc = run_job(io, &job, &pre, err);
  job_free(&job);
  return rc;
}

int main(int argc, char **argv) {
  const char *io_path = NULL;
  int io_fd = -1;
  long program_id = 0;
  struct io io;
  struct agent_error err = {0};
  parse_args(argc, argv, &io_path, &io_fd, &program_id);
  setup(io_path, io_fd, program_id, &io);
  if (send_json(io.out, result_ready_json(), &err) < 0) fail("sending ready frame: %s", err.message);
  /* From here on: no fail(). */
  if (serve(&io, &err) == 0) return 0;
  fprintf(stderr, "runner-agent: %s: %s\n", err.code, err.message);
  struct agent_error err2 = {0};
  if (send_json(io.out, result_error_json(&err), &err2) < 0)
    fprintf(stderr, "runner-agent: sending error frame: %s\n", err2.message);
  return 1;
}
