/* The child side of a stage, shared by version 1's stage runner and version 2's execs: between
 * fork and exec, never returns. */
#ifndef RC_STAGE_CHILD_H
#define RC_STAGE_CHILD_H

#include "files.h"
#include "job.h"

/* Makes fds[0..2] the stage's stdin, stdout and stderr and, when control_fd >= 0, that descriptor
 * its fd 3 (a kernel's control channel); closes every other descriptor, becomes the program's uid
 * in a session of its own (its own process group), writes `files` when not NULL
 * (files_write_in_stage: a failure is reported on files->report, then _exit(1)), applies the
 * rlimits and execs argv. On a failure: "runner-agent: WHAT ARG: strerror" on the stage's stderr
 * and _exit(127). */
__attribute__((noreturn)) void stage_child_exec(const struct job_stage *st, const int fds[3], int control_fd,
                                                const struct stage_files *files);

#endif
