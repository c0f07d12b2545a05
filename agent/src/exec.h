/* One exec of a session (protocol version 2): its stages run one after another like a version 1
 * job's, but the session's event loop drives them (exec_pollfds, exec_on_event, exec_tick), so
 * many execs run at once, output streams as it comes and stdin, signals and control bytes arrive
 * while a stage runs. A stage's end kills its process group only (the session lives on). */
#ifndef RC_EXEC_H
#define RC_EXEC_H

#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

#include "job.h"
#include "stage.h"

/* Bytes waiting to be written to a stage (stdin, control). */
struct pending {
  char *data;
  size_t len, off;
};

enum exec_fd { EXEC_STDIN, EXEC_STDOUT, EXEC_STDERR, EXEC_CONTROL, EXEC_FDS };

struct exec {
  json_int_t id;
  json_t *doc; /* the request; owns the stages' strings */
  struct job_stage stages[RC_MAX_STAGES];
  size_t n_stages, cur; /* cur: the running (or next) stage */
  bool stream, interactive, control;
  struct stage_result res[RC_MAX_STAGES];
  uint64_t seq; /* output frames sent */
  /* The running stage. */
  pid_t pid;
  int fds[EXEC_FDS]; /* the agent's ends; -1 when closed */
  struct pending in, ctl;
  bool in_eof; /* no more stdin will come: close the pipe once `in` is written */
  struct pending early; /* host stdin that came before the last (interactive) stage started */
  bool early_eof;
  bool running, child_done, killed;
  int status;
  struct rusage ru;
  int64_t start_ns, end_ns, deadline_ns, drain_deadline_ns, drain_stop_ns;
  long oom_before;
};

/* Parses an exec request (bad_request errors name the field). */
int exec_create(json_t *req, json_int_t id, struct exec **out, struct agent_error *err);
void exec_free(struct exec *x);

/* Starts the next stage (a stage frame first when streaming): 0, 1 when it could not start (the
 * exec is over; *failed says why), -1 when the host channel failed (*fatal). */
int exec_start_stage(struct exec *x, int host, struct agent_error *fatal, struct agent_error *failed);

/* The descriptors to poll for this exec: fills p[0..] and which[0..], returns how many. */
int exec_pollfds(const struct exec *x, struct pollfd *p, enum exec_fd *which);
/* Handles poll's answer for one of them; output frames go to `host`. -1: the host channel failed. */
int exec_on_event(struct exec *x, enum exec_fd which, short revents, int host, struct agent_error *err);
/* A child the session reaped: true if it was this exec's running stage. */
bool exec_child_exited(struct exec *x, pid_t pid, int status, const struct rusage *ru);

/* Advances time: kills a stage at its end or timeout, ends draining, finishes a stage and starts
 * the next one or sends the exec_result. Returns 0 while it runs, 1 when it is over (result sent),
 * 2 when its next stage could not start (*failed says why; the exec is over), -1 when the host
 * channel failed (*err). *timeout_ms is lowered to when it needs the next tick. */
int exec_tick(struct exec *x, int64_t now, int host, int *timeout_ms, struct agent_error *err, struct agent_error *failed);

/* Host frames for a running exec (ignored when they do not apply). */
void exec_stdin(struct exec *x, const unsigned char *data, size_t len, bool eof);
void exec_signal(const struct exec *x, int sig);
void exec_control(struct exec *x, const unsigned char *data, size_t len);

/* Kills the running stage's process group (close, host EOF, fatal error). */
void exec_kill(struct exec *x);

#endif
