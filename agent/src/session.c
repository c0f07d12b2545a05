/* The session's event loop: one poll over the host channel, SIGCHLD's signalfd and every running
 * exec's descriptors. File requests are answered in order, each from a short-lived child
 * (file-ops.c); execs run concurrently (exec.c). */
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "base64.h"
#include "exec.h"
#include "file-ops.h"
#include "files.h"
#include "frame.h"
#include "protocol.h"
#include "result.h"

#define MAX_POLL (2 + RC_MAX_EXECS * EXEC_FDS)
#define MAX_SIGNAL 64

struct session {
  int in, out, sigfd, root;
  bool eof, closing;
  struct frame_reader rd;
  struct exec *execs[RC_MAX_EXECS];
  size_t n_execs;
};

static struct exec *find_exec(struct session *s, json_int_t id) {
  for (size_t i = 0; i < s->n_execs; i++)
    if (s->execs[i]->id == id) return s->execs[i];
  return NULL;
}

/* An error answer to one request; `request` names the request's type, so the host tells an error
 * about a stdin, signal or control frame from the end of the exec that has the same id. */
static int send_error(struct session *s, json_int_t id, const char *request, const struct agent_error *e, struct agent_error *err) {
  return result_send(s->out, json_pack("{s:s, s:I, s:s, s:s, s:s}", "type", "error", "id", id, "request", request, "code",
                                       e->code ? e->code : ERR_INTERNAL, "message", e->message), err);
}

static int start_exec(struct session *s, json_t *req, json_int_t id, struct agent_error *err) {
  struct agent_error bad = {0};
  struct exec *x = NULL;
  if (find_exec(s, id) != NULL) agent_err(&bad, ERR_BAD_REQUEST, "id: %lld is already in flight", (long long)id);
  else if (s->n_execs >= RC_MAX_EXECS) agent_err(&bad, ERR_BAD_REQUEST, "more than %d execs in flight", RC_MAX_EXECS);
  else if (exec_create(req, id, &x, &bad) == 0) {
    int rc = exec_start_stage(x, s->out, err, &bad);
    if (rc == 0) {
      s->execs[s->n_execs++] = x;
      return 0;
    }
    if (rc < 0) return exec_free(x), -1;
  }
  exec_free(x);
  return send_error(s, id, "exec", &bad, err);
}

static int get_data(json_t *req, unsigned char **data, size_t *len, struct agent_error *bad) {
  json_t *d = json_object_get(req, "data_b64");
  if (!json_is_string(d)) return agent_err(bad, ERR_BAD_REQUEST, "data_b64: must be a string");
  int rc = base64_decode(json_string_value(d), json_string_length(d), data, len);
  if (rc == -2) return agent_err(bad, ERR_INTERNAL, "data_b64: out of memory");
  if (rc < 0) return agent_err(bad, ERR_BAD_REQUEST, "data_b64: invalid base64");
  return 0;
}

/* stdin, signal, control: frames for a running exec; never answered unless wrong. */
static int to_exec(struct session *s, const char *type, json_t *req, json_int_t id, struct agent_error *err) {
  struct agent_error bad = {0};
  struct exec *x = find_exec(s, id);
  cleanup_free unsigned char *data = NULL;
  size_t len = 0;
  if (x == NULL) {
    agent_err(&bad, ERR_NO_SUCH_EXEC, "id: no exec %lld in flight", (long long)id);
  } else if (strcmp(type, "signal") == 0) {
    json_t *sig = json_object_get(req, "signal");
    if (!json_is_integer(sig) || json_integer_value(sig) < 1 || json_integer_value(sig) > MAX_SIGNAL)
      agent_err(&bad, ERR_BAD_REQUEST, "signal: must be an integer in [1, %d]", MAX_SIGNAL);
    else exec_signal(x, (int)json_integer_value(sig));
  } else if (get_data(req, &data, &len, &bad) == 0) {
    json_t *eof = json_object_get(req, "eof");
    if (eof != NULL && !json_is_boolean(eof)) agent_err(&bad, ERR_BAD_REQUEST, "eof: must be a boolean");
    else if (strcmp(type, "stdin") == 0) exec_stdin(x, data, len, json_is_true(eof));
    else exec_control(x, data, len);
  }
  return bad.code ? send_error(s, id, type, &bad, err) : 0;
}

static int file_request(struct session *s, const char *type, json_t *req, json_int_t id, struct agent_error *err) {
  char *answer = fileop_answer(s->root, type, req, id);
  if (answer == NULL) return agent_err(err, ERR_INTERNAL, "out of memory answering %s", type);
  int rc = frame_write(s->out, answer, strlen(answer), RC_MAX_RESULT_FRAME, err);
  free(answer);
  return rc;
}

static const char *const file_types[] = {"put", "get", "list", "delete"};
static const char *const exec_frames[] = {"stdin", "signal", "control"};

static bool one_of(const char *type, const char *const *names, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(type, names[i]) == 0) return true;
  return false;
}

/* One host frame (buf is freed here). A frame that is not JSON, or has no usable type or id, is fatal: the host and
 * the agent no longer agree on the protocol. */
static int handle_frame(struct session *s, char *buf, size_t len, struct agent_error *err) {
  json_t *req = job_load_json(buf, len, true, err);
  free(buf); /* a big put's frame is not kept beside its parsed copy */
  if (req == NULL) return -1;
  int rc = 0;
  json_t *t = json_object_get(req, "type"), *idv = json_object_get(req, "id");
  const char *type = json_is_string(t) && strlen(json_string_value(t)) == json_string_length(t) ? json_string_value(t) : NULL;
  if (type != NULL && strcmp(type, "close") == 0) {
    s->closing = true;
  } else if (type == NULL || !json_is_integer(idv) || json_integer_value(idv) < 0) {
    rc = agent_err(err, ERR_BAD_REQUEST, "a session request needs a string type and an unsigned integer id");
  } else {
    json_int_t id = json_integer_value(idv);
    if (strcmp(type, "exec") == 0) rc = start_exec(s, req, id, err);
    else if (one_of(type, exec_frames, 3)) rc = to_exec(s, type, req, id, err);
    else if (one_of(type, file_types, 4)) rc = file_request(s, type, req, id, err);
    else {
      struct agent_error bad = {0};
      agent_err(&bad, ERR_BAD_REQUEST, "type: unknown request '%s'", type);
      rc = send_error(s, id, type, &bad, err);
    }
  }
  json_decref(req);
  return rc;
}

static int read_host(struct session *s, struct agent_error *err) {
  int got = frame_reader_fill(&s->rd, s->in, err);
  if (got < 0) return -1;
  if (got == 0) {
    s->eof = true;
    if (frame_reader_partial(&s->rd)) return agent_err(err, ERR_BAD_FRAME, "unexpected end of input inside a frame");
  }
  for (;;) {
    char *buf;
    size_t len;
    int n = frame_reader_next(&s->rd, &buf, &len, err);
    if (n <= 0) return n;
    int rc = 0;
    if (s->closing) free(buf);
    else rc = handle_frame(s, buf, len, err);
    if (rc < 0) return -1;
  }
}

static void reap(struct session *s) {
  struct signalfd_siginfo si;
  while (read(s->sigfd, &si, sizeof si) > 0) {
  }
  for (;;) {
    int status;
    struct rusage ru;
    pid_t p = wait4(-1, &status, WNOHANG, &ru);
    if (p <= 0) return; /* none ready, or no children left */
    for (size_t i = 0; i < s->n_execs; i++)
      if (exec_child_exited(s->execs[i], p, status, &ru)) break;
  }
}

/* Ticks every exec; drops the finished ones. Returns the poll timeout, or -2 on a failure. */
static int tick_all(struct session *s, struct agent_error *err) {
  int timeout = -1;
  int64_t now = mono_ns();
  for (size_t i = 0; i < s->n_execs;) {
    struct agent_error failed = {0};
    int rc = exec_tick(s->execs[i], now, s->out, &timeout, err, &failed);
    if (rc < 0) return -2;
    if (rc == 2) { /* a stage that could not start ends its exec with an error frame */
      if (send_error(s, s->execs[i]->id, "exec", &failed, err) < 0) return -2;
      rc = 1;
    }
    if (rc == 1) {
      exec_free(s->execs[i]);
      s->execs[i] = s->execs[--s->n_execs];
    } else {
      i++;
    }
  }
  return timeout;
}

static int poll_once(struct session *s, int timeout, struct agent_error *err) {
  struct pollfd p[MAX_POLL];
  struct {
    struct exec *x;
    enum exec_fd which;
  } tag[MAX_POLL];
  int n = 0;
  p[n++] = (struct pollfd){.fd = s->eof ? -1 : s->in, .events = POLLIN};
  p[n++] = (struct pollfd){.fd = s->sigfd, .events = POLLIN};
  for (size_t i = 0; i < s->n_execs; i++) {
    enum exec_fd which[EXEC_FDS];
    int k = exec_pollfds(s->execs[i], &p[n], which);
    for (int j = 0; j < k; j++) tag[n + j].x = s->execs[i], tag[n + j].which = which[j];
    n += k;
  }
  if (poll(p, (nfds_t)n, timeout) < 0) return errno == EINTR ? 0 : agent_err_errno(err, ERR_INTERNAL, "poll");
  for (int i = 2; i < n; i++)
    if (exec_on_event(tag[i].x, tag[i].which, p[i].revents, s->out, err) < 0) return -1;
  if (p[1].revents) reap(s);
  if (p[0].revents && read_host(s, err) < 0) return -1;
  return 0;
}

/* SECURITY: at the session's end nothing it started survives: as PID 1 of the sandbox's PID
 * namespace every other process, else every exec's process group. */
static void kill_everything(struct session *s) {
  if (getpid() == 1) kill(-1, SIGKILL);
  for (size_t i = 0; i < s->n_execs; i++) exec_free(s->execs[i]);
  s->n_execs = 0;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

static int open_session(struct session *s, json_t *req, struct agent_error *err) {
  json_t *p = json_object_get(req, "protocol"), *w = json_object_get(req, "workdir");
  if (!json_is_integer(p) || json_integer_value(p) != RC_PROTOCOL_VERSION)
    return agent_err(err, ERR_BAD_REQUEST, "protocol: must be %d", RC_PROTOCOL_VERSION);
  if (!json_is_string(w) || json_string_value(w)[0] != '/' || json_string_length(w) >= 4096 ||
      strlen(json_string_value(w)) != json_string_length(w))
    return agent_err(err, ERR_BAD_REQUEST, "workdir: must be an absolute path");
  s->root = files_open_workdir(json_string_value(w), err);
  if (s->root < 0) return -1;
  return result_send(s->out, json_pack("{s:s, s:i}", "type", "opened", "id", 0), err);
}

int session_serve(int in, int out, int sigfd, json_t *open_req) {
  struct session s = {.in = in, .out = out, .sigfd = sigfd, .root = -1};
  struct agent_error err = {0};
  frame_reader_init(&s.rd, RC_MAX_JOB_FRAME);
  int rc = open_session(&s, open_req, &err);
  while (rc == 0 && !s.closing && !s.eof) {
    int timeout = tick_all(&s, &err);
    if (timeout == -2) rc = -1;
    else rc = poll_once(&s, timeout, &err);
  }
  kill_everything(&s);
  frame_reader_free(&s.rd);
  if (s.root >= 0) close(s.root);
  if (rc == 0) return 0;
  fprintf(stderr, "runner-agent: %s: %s\n", err.code, err.message);
  struct agent_error err2 = {0};
  if (result_send(out, json_pack("{s:s, s:s, s:s}", "type", "error", "code", err.code ? err.code : ERR_INTERNAL, "message",
                                 err.message), &err2) < 0)
    fprintf(stderr, "runner-agent: sending error frame: %s\n", err2.message);
  return 1;
}
