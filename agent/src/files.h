#ifndef RC_FILES_H
#define RC_FILES_H

#include "job.h"

/* Create job->workdir if missing and write every submitted file below it (file_write errors). */
int files_write(const struct job *job, struct agent_error *err);
/* Creates the workdir if missing, opens it (never through a symlink) and, when separated, gives it
 * to the program's uid. Returns the descriptor or -1 (file_write). */
int files_open_workdir(const char *workdir, struct agent_error *err);

#endif
