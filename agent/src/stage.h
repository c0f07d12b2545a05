#ifndef RC_STAGE_H
#define RC_STAGE_H

#include <stdbool.h>
#include <sys/time.h>

#include "files.h"
#include "job.h"
#include "output.h"
#include "prestart.h"

struct stage_result {
  const char *name;
  int exit_code; /* exit status, or 128 + signal */
  int signal;    /* terminating signal, else 0 */
  bool timed_out;
  struct outbuf out, err;
  double wall_ms, cpu_ms;
  long max_rss_kb;
  long oom_kills; /* kernel OOM kills during the stage, when counted (stage_count_oom_kills) */
  bool prestarted; /* ran in a pre-started interpreter (prestart.h) */
};

/* In a VM guest the agent's kernel is the sandbox's own, so its global OOM-kill counter
 * (/proc/vmstat) counts exactly the sandbox's kills; on a shared host kernel it would count the
 * host's, so it stays off there (the host's cgroup reports OOM kills instead). */
void stage_count_oom_kills(bool enable);
/* The kernel's OOM-kill counter now, or -1 when not counted or unreadable. */
long stage_read_oom_kills(void);

/* Run one stage to completion. sigfd is a non-blocking signalfd for SIGCHLD (SIGCHLD blocked).
 * `files` (NULL for none; its report field is the stage's own): the job's files, which the stage's
 * child writes as the program's uid before it execs; the stage's clock, timeout and CPU count
 * leave the writing out. Returns 0 when the stage ran (whatever its outcome), -1 on an agent
 * failure (internal) or when the files could not be written (file_write, as files_write_at). */
int stage_run(const struct job_stage *st, const struct stage_files *files, int sigfd, struct stage_result *r, struct agent_error *err);
/* The same in the pre-started interpreter `p` when the stage fits it (prestart_fits), the stage's
 * clock and CPU count starting at the hand-over; else `p` is stopped and the stage starts cold. */
int stage_run_prestarted(const struct job_stage *st, struct prestart *p, int sigfd, struct stage_result *r, struct agent_error *err);
void stage_result_free(struct stage_result *r);
/* exit_code and signal from a wait status (128 + signal when killed). */
void stage_result_exited(struct stage_result *r, int status);
double stage_tv_ms(struct timeval tv);
/* True if later stages must not run (non-zero exit, signal or timeout). */
bool stage_failed(const struct stage_result *r);

#endif
