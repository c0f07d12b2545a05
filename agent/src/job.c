/* Job frame parsing and validation (jansson). Every message names the offending field. */
#include "job.h"

#include <jansson.h>
#include <string.h>

#include "base64.h"

#define MAX_TIMEOUT_MS 86400000ULL /* 24 h */
#define MAX_RLIMIT_VALUE (1ULL << 62)

int path_validate(const char *path, size_t len, const char **why) {
  if (len == 0) return *why = "must not be empty", -1;
  if (len > RC_MAX_PATH_BYTES) return *why = "longer than 255 bytes", -1;
  if (memchr(path, '\0', len) != NULL) return *why = "contains NUL", -1;
  if (path[0] == '/') return *why = "must be relative", -1;
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && path[i] != '/') continue;
    size_t n = i - start;
    if (n == 0) return *why = "empty component", -1;
    if (n == 1 && path[start] == '.') return *why = "'.' is not allowed", -1;
    if (n == 2 && path[start] == '.' && path[start + 1] == '.') return *why = "'..' is not allowed", -1;
    start = i + 1;
  }
  return 0;
}

static int get_string(json_t *obj, const char *key, const char *ctx, bool required, const char **out,
                      size_t *len, struct agent_error *err) {
  json_t *v = json_object_get(obj, key);
  if (v == NULL && !required) return *out = "", *len = 0, 0;
  if (!json_is_string(v)) return agent_err(err, ERR_BAD_JOB, "%s%s: must be a string", ctx, key);
  *out = json_string_value(v);
  *len = json_string_length(v);
  /* A session's frames may carry NUL (job_load_json): no string the agent uses as a C string may. */
  if (strlen(*out) != *len) return agent_err(err, ERR_BAD_JOB, "%s%s: contains NUL", ctx, key);
  return 0;
}

static int get_abs_path(json_t *obj, const char *key, const char *ctx, const char **out, struct agent_error *err) {
  size_t len;
  if (get_string(obj, key, ctx, true, out, &len, err) < 0) return -1;
  if (len == 0 || (*out)[0] != '/' || len >= 4096)
    return agent_err(err, ERR_BAD_JOB, "%s%s: must be an absolute path", ctx, key);
  return 0;
}

static int get_uint(json_t *obj, const char *key, const char *ctx, bool required, uint64_t min, uint64_t max,
                    uint64_t *out, struct agent_error *err) {
  json_t *v = json_object_get(obj, key);
  if (v == NULL && !required) return *out = 0, 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) < min ||
      (uint64_t)json_integer_value(v) > max)
    return agent_err(err, ERR_BAD_JOB, "%s%s: must be an integer in [%llu, %llu]", ctx, key,
                     (unsigned long long)min, (unsigned long long)max);
  *out = (uint64_t)json_integer_value(v);
  return 0;
}

static int get_b64(json_t *obj, const char *key, const char *ctx, bool required, unsigned char **out,
                   size_t *out_len, struct agent_error *err) {
  const char *s;
  size_t len;
  if (get_string(obj, key, ctx, required, &s, &len, err) < 0) return -1;
  int rc = base64_decode(s, len, out, out_len);
  if (rc == -2) return agent_err(err, ERR_INTERNAL, "%s%s: out of memory", ctx, key);
  if (rc < 0) return agent_err(err, ERR_BAD_JOB, "%s%s: invalid base64", ctx, key);
  return 0;
}

/* Convert a JSON array of strings into a NULL-terminated vector of borrowed strings. */
static int get_strv(json_t *obj, const char *key, const char *ctx, bool nonempty, bool env, char ***out,
                    struct agent_error *err) {
  json_t *a = json_object_get(obj, key);
  const char *what = nonempty ? "a non-empty array of strings" : "an array of strings";
  if (!json_is_array(a) || (nonempty && json_array_size(a) == 0))
    return agent_err(err, ERR_BAD_JOB, "%s%s: must be %s", ctx, key, what);
  char **v = calloc(json_array_size(a) + 1, sizeof *v);
  if (v == NULL) return agent_err(err, ERR_INTERNAL, "%s%s: out of memory", ctx, key);
  *out = v;
  size_t i;
  json_t *s;
  json_array_foreach(a, i, s) {
    if (!json_is_string(s)) return agent_err(err, ERR_BAD_JOB, "%s%s: must be %s", ctx, key, what);
    const char *str = json_string_value(s);
    if (strlen(str) != json_string_length(s)) return agent_err(err, ERR_BAD_JOB, "%s%s[%zu]: contains NUL", ctx, key, i);
    if (env && (str[0] == '=' || strchr(str, '=') == NULL))
      return agent_err(err, ERR_BAD_JOB, "%s%s[%zu]: must have the form NAME=value", ctx, key, i);
    v[i] = (char *)str;
  }
  if (nonempty && v[0][0] == '\0') return agent_err(err, ERR_BAD_JOB, "%s%s[0]: must not be empty", ctx, key);
  return 0;
}

static int parse_file(json_t *f, size_t idx, struct job_file *out, struct agent_error *err) {
  char ctx[32];
  snprintf(ctx, sizeof ctx, "files[%zu].", idx);
  if (!json_is_object(f)) return agent_err(err, ERR_BAD_JOB, "files[%zu]: must be an object", idx);
  size_t len;
  const char *why;
  if (get_string(f, "path", ctx, true, &out->path, &len, err) < 0) return -1;
  if (path_validate(out->path, len, &why) < 0) return agent_err(err, ERR_BAD_JOB, "%spath: %s", ctx, why);
  if (get_b64(f, "content_b64", ctx, true, &out->content, &out->content_len, err) < 0) return -1;
  json_t *x = json_object_get(f, "executable");
  if (x != NULL && !json_is_boolean(x)) return agent_err(err, ERR_BAD_JOB, "%sexecutable: must be a boolean", ctx);
  out->executable = json_is_true(x);
  return 0;
}

static int parse_rlimits(json_t *st, const char *ctx, struct job_rlimits *rl, struct agent_error *err) {
  json_t *r = json_object_get(st, "rlimits");
  if (r == NULL) return 0;
  char c[48];
  snprintf(c, sizeof c, "%srlimits.", ctx);
  if (!json_is_object(r)) return agent_err(err, ERR_BAD_JOB, "%srlimits: must be an object", ctx);
  uint64_t core;
  if (get_uint(r, "cpu_s", c, false, 0, MAX_RLIMIT_VALUE, &rl->cpu_s, err) < 0 ||
      get_uint(r, "nofile", c, false, 0, MAX_RLIMIT_VALUE, &rl->nofile, err) < 0 ||
      get_uint(r, "fsize_bytes", c, false, 0, MAX_RLIMIT_VALUE, &rl->fsize_bytes, err) < 0 ||
      get_uint(r, "stack_bytes", c, false, 0, MAX_RLIMIT_VALUE, &rl->stack_bytes, err) < 0 ||
      get_uint(r, "core_bytes", c, false, 0, MAX_RLIMIT_VALUE, &core, err) < 0) /* ignored: core is always 0 */
    return -1;
  return 0;
}

static int parse_stage(json_t *st, size_t idx, struct job_stage *out, struct agent_error *err) {
  char ctx[32];
  snprintf(ctx, sizeof ctx, "stages[%zu].", idx);
  if (!json_is_object(st)) return agent_err(err, ERR_BAD_JOB, "stages[%zu]: must be an object", idx);
  size_t len;
  uint64_t limit;
  if (get_string(st, "name", ctx, true, &out->name, &len, err) < 0 ||
      get_strv(st, "argv", ctx, true, false, &out->argv, err) < 0 ||
      get_strv(st, "env", ctx, false, true, &out->env, err) < 0 || get_abs_path(st, "cwd", ctx, &out->cwd, err) < 0 ||
      get_b64(st, "stdin_b64", ctx, false, &out->stdin_data, &out->stdin_len, err) < 0 ||
      get_uint(st, "timeout_ms", ctx, true, 1, MAX_TIMEOUT_MS, &out->timeout_ms, err) < 0 ||
      get_uint(st, "output_limit", ctx, true, 0, RC_MAX_RESULT_FRAME, &limit, err) < 0 ||
      parse_rlimits(st, ctx, &out->rlimits, err) < 0)
    return -1;
  out->output_limit = (size_t)limit;
  return 0;
}

static int parse_header(json_t *doc, struct job *job, struct agent_error *err) {
  if (!json_is_object(doc)) return agent_err(err, ERR_BAD_JOB, "job: must be a JSON object");
  json_t *t = json_object_get(doc, "type");
  if (!json_is_string(t) || strcmp(json_string_value(t), "job") != 0)
    return agent_err(err, ERR_BAD_JOB, "type: must be \"job\"");
  json_t *p = json_object_get(doc, "protocol");
  if (!json_is_integer(p) || json_integer_value(p) != RC_JOB_PROTOCOL_VERSION)
    return agent_err(err, ERR_BAD_JOB, "protocol: must be %d", RC_JOB_PROTOCOL_VERSION);
  return get_abs_path(doc, "workdir", "", &job->workdir, err);
}

/* Optional "collect": {"dir", "max_files", "max_bytes"}: the files the program leaves there come
 * back in the result (version 1's outputs). */
static int parse_collect(json_t *doc, struct job_collect *c, struct agent_error *err) {
  json_t *o = json_object_get(doc, "collect");
  if (o == NULL) return 0;
  if (!json_is_object(o)) return agent_err(err, ERR_BAD_JOB, "collect: must be an object");
  size_t len;
  const char *why;
  if (get_string(o, "dir", "collect.", true, &c->dir, &len, err) < 0) return -1;
  if (path_validate(c->dir, len, &why) < 0) return agent_err(err, ERR_BAD_JOB, "collect.dir: %s", why);
  if (get_uint(o, "max_files", "collect.", true, 0, RC_MAX_COLLECT_FILES, &c->max_files, err) < 0 ||
      get_uint(o, "max_bytes", "collect.", true, 0, RC_MAX_COLLECT_BYTES, &c->max_bytes, err) < 0)
    return -1;
  c->enabled = true;
  return 0;
}

int job_parse_stages(json_t *stages, struct job_stage *out, size_t *n, struct agent_error *err) {
  if (!json_is_array(stages) || json_array_size(stages) == 0 || json_array_size(stages) > RC_MAX_STAGES)
    return agent_err(err, ERR_BAD_JOB, "stages: must be an array of 1 to %d entries", RC_MAX_STAGES);
  size_t i;
  json_t *v;
  json_array_foreach(stages, i, v) {
    *n = i + 1;
    if (parse_stage(v, i, &out[i], err) < 0) return -1;
  }
  return 0;
}

static int parse_arrays(json_t *doc, struct job *job, struct agent_error *err) {
  json_t *files = json_object_get(doc, "files");
  if (!json_is_array(files) || json_array_size(files) > RC_MAX_FILES)
    return agent_err(err, ERR_BAD_JOB, "files: must be an array of at most %d entries", RC_MAX_FILES);
  json_t *stages = json_object_get(doc, "stages");
  if (!json_is_array(stages) || json_array_size(stages) == 0 || json_array_size(stages) > RC_MAX_STAGES)
    return agent_err(err, ERR_BAD_JOB, "stages: must be an array of 1 to %d entries", RC_MAX_STAGES);
  size_t i;
  json_t *v;
  json_array_foreach(files, i, v) {
    job->n_files = i + 1;
    if (parse_file(v, i, &job->files[i], err) < 0) return -1;
  }
  return job_parse_stages(stages, job->stages, &job->n_stages, err);
}

json_t *job_load_json(const char *buf, size_t len, bool allow_nul, struct agent_error *err) {
  json_error_t jerr;
  /* Without allow_nul (version 1), \u0000 inside strings is rejected, so C strings below are
   * exact; with it (a session), every string read is checked for NUL (get_string, get_strv). */
  json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES | (allow_nul ? JSON_ALLOW_NUL : 0), &jerr);
  if (doc == NULL)
    agent_err(err, ERR_BAD_FRAME, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
  return doc;
}

int job_parse_doc(json_t *doc, struct job *job, struct agent_error *err) {
  memset(job, 0, sizeof *job);
  job->doc = doc;
  if (parse_header(doc, job, err) < 0 || parse_collect(doc, &job->collect, err) < 0 || parse_arrays(doc, job, err) < 0)
    return -1;
  return 0;
}

int job_parse(const char *buf, size_t len, struct job *job, struct agent_error *err) {
  memset(job, 0, sizeof *job);
  json_t *doc = job_load_json(buf, len, false, err);
  if (doc == NULL) return -1;
  return job_parse_doc(doc, job, err);
}

void job_stages_free(struct job_stage *stages, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(stages[i].argv);
    free(stages[i].env);
    free(stages[i].stdin_data);
  }
}

void job_free(struct job *job) {
  for (size_t i = 0; i < job->n_files; i++) free(job->files[i].content);
  job_stages_free(job->stages, job->n_stages);
  json_decref(job->doc);
  memset(job, 0, sizeof *job);
}
