#ifndef RC_FILES_H
#define RC_FILES_H

#include "job.h"

/* Create job->workdir if missing and write every submitted file below it (file_write errors). */
int files_write(const struct job *job, struct agent_error *err);

#endif
