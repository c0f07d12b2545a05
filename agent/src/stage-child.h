/* The child side of a stage, shared by version 1's stage runner and version 2's execs: between
 * fork and exec, never returns. */
#ifndef RC_STAGE_CHILD_H
#define RC_STAGE_CHILD_H

#include "job.h"

/* Makes fds[0..2] the stage's stdin, stdout and stderr and, when control_fd >= 0, that descriptor
 * its fd 3 (a kernel's control channel); closes every other descriptor, applies the rlimits,
 * becomes the program's uid in a session of its own (its own process group) and execs argv. On a
 * failure: "runner-agent: WHAT ARG: strerror" on the stage's stderr and _exit(127). */
__attribute__((noreturn)) void stage_child_exec(const struct job_stage *st, const int fds[3], int control_fd);

#endif
