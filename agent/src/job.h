#ifndef RC_JOB_H
#define RC_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol.h"
#include "util.h"

struct job_file {
  const char *path; /* borrowed from the JSON document */
  unsigned char *content;
  size_t content_len;
  bool executable;
};

struct job_rlimits {
  uint64_t cpu_s, nofile, fsize_bytes, stack_bytes; /* 0 = leave as inherited */
};

struct job_stage {
  const char *name;
  char **argv; /* NULL-terminated; strings borrowed */
  char **env;  /* NULL-terminated; strings borrowed */
  const char *cwd;
  unsigned char *stdin_data;
  size_t stdin_len;
  uint64_t timeout_ms;
  size_t output_limit;
  struct job_rlimits rlimits;
};

struct job {
  void *doc; /* json_t * owning all borrowed strings */
  const char *workdir;
  struct job_file files[RC_MAX_FILES];
  size_t n_files;
  struct job_stage stages[RC_MAX_STAGES];
  size_t n_stages;
};

/* Parse and validate a job frame. Errors: bad_frame (not JSON), bad_job (schema/values). */
int job_parse(const char *buf, size_t len, struct job *job, struct agent_error *err);
void job_free(struct job *job);

/* Validate one files[].path: relative, '/'-separated, no empty/./.. components, no NUL,
 * at most RC_MAX_PATH_BYTES. Returns 0 or -1 with a static reason in *why. */
int path_validate(const char *path, size_t len, const char **why);

#endif
