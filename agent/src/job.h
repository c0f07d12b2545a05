#ifndef RC_JOB_H
#define RC_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

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

/* Version 1's optional collect: files under workdir/dir come back in the result. */
struct job_collect {
  bool enabled;
  const char *dir; /* validated relative path */
  uint64_t max_files, max_bytes;
};

struct job {
  json_t *doc; /* owns all borrowed strings */
  const char *workdir;
  struct job_collect collect;
  struct job_file files[RC_MAX_FILES];
  size_t n_files;
  struct job_stage stages[RC_MAX_STAGES];
  size_t n_stages;
};

/* Parse and validate a job frame. Errors: bad_frame (not JSON), bad_job (schema/values). */
int job_parse(const char *buf, size_t len, struct job *job, struct agent_error *err);
/* The same on a frame already loaded (job_load_json); the job owns doc from then on, even on failure. */
int job_parse_doc(json_t *doc, struct job *job, struct agent_error *err);
/* A frame's JSON (NULL and bad_frame when it is not JSON); allow_nul: strings may hold \u0000. */
json_t *job_load_json(const char *buf, size_t len, bool allow_nul, struct agent_error *err);
void job_free(struct job *job);

/* Parse a "stages" array (1..RC_MAX_STAGES v1 stage objects; bad_job errors); the stages borrow
 * strings from the array's document; *n counts the entries to free with job_stages_free. */
int job_parse_stages(json_t *stages, struct job_stage *out, size_t *n, struct agent_error *err);
void job_stages_free(struct job_stage *stages, size_t n);

/* Validate one files[].path: relative, '/'-separated, no empty/./.. components, no NUL,
 * at most RC_MAX_PATH_BYTES. Returns 0 or -1 with a static reason in *why. */
int path_validate(const char *path, size_t len, const char **why);

#endif
