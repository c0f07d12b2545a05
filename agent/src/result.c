/* Building the agent -> host frames with jansson. */
#include "result.h"

#include <jansson.h>
#include <string.h>

#include "base64.h"
#include "frame.h"
#include "protocol.h"

static char *dump(json_t *doc) {
  if (doc == NULL) return NULL;
  char *s = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  return s;
}

char *result_ready_json(void) {
  return dump(json_pack("{s:s, s:i, s:[i,i], s:s, s:[s]}", "type", "ready", "protocol", RC_PROTOCOL_VERSION, "protocols",
                        RC_JOB_PROTOCOL_VERSION, RC_PROTOCOL_VERSION, "agent", RC_AGENT_NAME " " RC_AGENT_VERSION, "features",
                        "prestart"));
}

char *result_error_json(const struct agent_error *err) {
  return dump(json_pack("{s:s, s:i, s:s, s:s}", "type", "error", "protocol", RC_JOB_PROTOCOL_VERSION, "code",
                        err->code ? err->code : ERR_INTERNAL, "message", err->message));
}

int result_send(int fd, json_t *frame, struct agent_error *err) {
  char *json = dump(frame);
  if (json == NULL) return agent_err(err, ERR_INTERNAL, "out of memory building a frame");
  int rc = frame_write(fd, json, strlen(json), RC_MAX_RESULT_FRAME, err);
  free(json);
  return rc;
}

/* A JSON string holding base64(b); "o" in json_pack steals the reference. */
static json_t *b64_string(const struct outbuf *b) {
  char *s = base64_encode((const unsigned char *)b->data, b->len);
  if (s == NULL) return NULL;
  json_t *j = json_stringn_nocheck(s, base64_encoded_len(b->len));
  free(s);
  return j;
}

json_t *result_stage_json(const struct stage_result *r) {
  json_t *out = b64_string(&r->out), *err = b64_string(&r->err);
  if (out == NULL || err == NULL) {
    json_decref(out);
    json_decref(err);
    return NULL;
  }
  json_t *stage = json_pack("{s:s, s:i, s:i, s:b, s:o, s:o, s:b, s:b, s:f, s:f, s:I, s:I}", "name", r->name, "exit_code",
                   r->exit_code, "signal", r->signal, "timed_out", r->timed_out, "stdout_b64", out, "stderr_b64",
                   err, "stdout_truncated", r->out.truncated, "stderr_truncated", r->err.truncated, "wall_ms",
                   r->wall_ms, "cpu_ms", r->cpu_ms, "max_rss_kb", (json_int_t)r->max_rss_kb, "oom_kills",
                   (json_int_t)r->oom_kills);
  /* Only when true: a result without a prestart frame is exactly as it always was. */
  if (stage != NULL && r->prestarted && json_object_set_new(stage, "prestarted", json_true()) < 0) {
    json_decref(stage);
    return NULL;
  }
  return stage;
}

json_t *result_stages_json(const struct stage_result *stages, size_t n) {
  json_t *arr = json_array();
  for (size_t i = 0; arr != NULL && i < n; i++) {
    json_t *s = result_stage_json(&stages[i]);
    if (s == NULL || json_array_append_new(arr, s) < 0) {
      json_decref(s);
      json_decref(arr);
      arr = NULL;
    }
  }
  return arr;
}

int result_json(const struct stage_result *stages, size_t n, json_t *outputs, bool outputs_truncated, char **out,
                struct agent_error *err) {
  json_t *arr = result_stages_json(stages, n);
  json_t *doc = arr ? json_pack("{s:s, s:i, s:o}", "type", "result", "protocol", RC_JOB_PROTOCOL_VERSION, "stages", arr) : NULL;
  /* Only a job that asked for outputs gets the two fields: a version 1 result stays as it was. */
  if (doc != NULL && outputs != NULL &&
      (json_object_set(doc, "outputs", outputs) < 0 || json_object_set_new(doc, "outputs_truncated", json_boolean(outputs_truncated)) < 0)) {
    json_decref(doc);
    doc = NULL;
  }
  *out = dump(doc);
  if (*out == NULL) return agent_err(err, ERR_INTERNAL, "out of memory building result");
  return 0;
}
