#ifndef RC_STAGE_H
#define RC_STAGE_H

#include <stdbool.h>

#include "job.h"
#include "output.h"

struct stage_result {
  const char *name;
  int exit_code; /* exit status, or 128 + signal */
  int signal;    /* terminating signal, else 0 */
  bool timed_out;
  struct outbuf out, err;
  double wall_ms, cpu_ms;
  long max_rss_kb;
};

/* Run one stage to completion. sigfd is a non-blocking signalfd for SIGCHLD (SIGCHLD blocked).
 * Returns 0 when the stage ran (whatever its outcome), -1 on an agent failure (internal). */
int stage_run(const struct job_stage *st, int sigfd, struct stage_result *r, struct agent_error *err);
void stage_result_free(struct stage_result *r);
/* True if later stages must not run (non-zero exit, signal or timeout). */
bool stage_failed(const struct stage_result *r);

#endif
