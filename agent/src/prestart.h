/* A pre-started interpreter (version 1's optional "prestart" frame, docs/protocol.md): a stage
 * started before its job, as the program's uid with the stage's limits, that waits on fd 3 for the
 * job's argv. The job's run stage then adopts it (stage.c) when its process-level settings are
 * the ones it started with; otherwise it is killed and the stage starts cold. Used at most once. */
#ifndef RC_PRESTART_H
#define RC_PRESTART_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "job.h"

struct prestart {
  json_t *doc; /* owns the stage's strings */
  struct job_stage stage;
  size_t n_stages;
  pid_t pid;               /* > 0 while a ready interpreter waits */
  int control, in, out, err; /* the agent's ends: fd 3, stdin (write), stdout and stderr (read) */
};

#define PRESTART_INIT {.control = -1, .in = -1, .out = -1, .err = -1}

/* Parses the frame (p owns doc from now on, even on failure; bad_job errors name the field) and
 * starts its stage; waits up to the stage's timeout_ms for the interpreter's ready byte. Returns -1 only for a bad frame; an interpreter
 * that failed to start leaves pid 0 and the reason in *why. */
int prestart_start(json_t *doc, int sigfd, struct prestart *p, char *why, size_t why_len, struct agent_error *err);
/* Whether `st` may run in the waiting interpreter: same argv[0], env, cwd and rlimits (RLIMIT_CPU
 * no higher than it started with). */
bool prestart_fits(const struct prestart *p, const struct job_stage *st);
/* Hands the interpreter the job's argv and closes fd 3; -1 when it is gone (then stopped). */
int prestart_hand_over(struct prestart *p, char *const *argv);
/* Kills and reaps a waiting interpreter and closes every end. Idempotent. */
void prestart_stop(struct prestart *p);
/* prestart_stop, then frees the frame. */
void prestart_free(struct prestart *p);

#endif
