/* A session's exec: stages started by fork + exec (stage-child.c), driven by the session's poll
 * loop. Plan then act: the request is parsed whole before anything starts; a stage's descriptors
 * are all made before its fork, and every failure after that kills and reaps what was started. */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "base64.h"
#include "frame.h"
#include "privilege.h"
#include "protocol.h"
#include "result.h"
#include "stage-child.h"

#define NS_PER_MS 1000000LL
/* After a stage's kill: its pipes are read until EOF, or until this long passes without data
 * (a daemon that left the process group and kept the pipes must not hang the exec), at most
 * DRAIN_MAX_NS in all (one that keeps writing must not either). */
#define DRAIN_IDLE_NS (100 * NS_PER_MS)
#define DRAIN_MAX_NS (1000 * NS_PER_MS)
/* Stdin or control bytes the host may queue ahead of a stage that does not read them. */
#define MAX_PENDING (64u << 20)

static void pending_clear(struct pending *p) {
  free(p->data);
  *p = (struct pending){0};
}

static int pending_add(struct pending *p, const void *data, size_t len) {
  if (len == 0) return 0;
  if (p->off > 0) { /* compact what was written */
    memmove(p->data, p->data + p->off, p->len - p->off);
    p->len -= p->off;
    p->off = 0;
  }
  if (p->len + len > MAX_PENDING) return -1;
  char *d = realloc(p->data, p->len + len);
  if (d == NULL) return -1;
  memcpy(d + p->len, data, len);
  p->data = d;
  p->len += len;
  return 0;
}

static bool pending_empty(const struct pending *p) { return p->off >= p->len; }

/* ---- parsing ---- */

static int get_flag(json_t *req, const char *key, bool *out, struct agent_error *err) {
  json_t *v = json_object_get(req, key);
  if (v != NULL && !json_is_boolean(v)) return agent_err(err, ERR_BAD_REQUEST, "%s: must be a boolean", key);
  *out = json_is_true(v);
  return 0;
}

int exec_create(json_t *req, json_int_t id, struct exec **out, struct agent_error *err) {
  struct exec *x = calloc(1, sizeof *x);
  if (x == NULL) return agent_err(err, ERR_INTERNAL, "out of memory");
  x->id = id;
  x->doc = json_incref(req);
  for (int i = 0; i < EXEC_FDS; i++) x->fds[i] = -1;
  *out = x;
  if (get_flag(req, "stream", &x->stream, err) < 0 || get_flag(req, "interactive", &x->interactive, err) < 0 ||
      get_flag(req, "control", &x->control, err) < 0)
    return -1;
  if (job_parse_stages(json_object_get(req, "stages"), x->stages, &x->n_stages, err) < 0) {
    if (err->code != NULL && strcmp(err->code, ERR_BAD_JOB) == 0) err->code = ERR_BAD_REQUEST; /* the same schema, the session's code */
    return -1;
  }
  return 0;
}

/* ---- a stage ---- */

static bool last_stage(const struct exec *x) { return x->cur + 1 == x->n_stages; }

/* Closes the agent's ends and forgets the child (it has been reaped, or is about to be). */
static void stage_close(struct exec *x) {
  for (int i = 0; i < EXEC_FDS; i++) close_fd(&x->fds[i]);
  pending_clear(&x->in);
  pending_clear(&x->ctl);
}

void exec_kill(struct exec *x) {
  if (!x->running || x->child_done) return;
  // SECURITY: the stage's whole process group (it is its session's leader), and the child itself
  // in case it has not reached setsid() yet.
  kill(-x->pid, SIGKILL);
  kill(x->pid, SIGKILL);
}

void exec_free(struct exec *x) {
  if (x == NULL) return;
  if (x->running && !x->child_done) {
    exec_kill(x);
    while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  stage_close(x);
  pending_clear(&x->early);
  for (size_t i = 0; i < x->n_stages; i++) stage_result_free(&x->res[i]);
  job_stages_free(x->stages, x->n_stages);
  json_decref(x->doc);
  free(x);
}

/* Makes every descriptor of the stage before the fork: [0] the agent's end, [1] the child's. */
static int make_fds(struct exec *x, int child[EXEC_FDS], struct agent_error *err) {
  int p[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
  for (int i = 0; i < 3; i++)
    if (pipe2(p[i], O_CLOEXEC) < 0) goto fail;
  /* stdin: the agent writes [1]; stdout, stderr: the agent reads [0]. */
  x->fds[EXEC_STDIN] = p[0][1], child[EXEC_STDIN] = p[0][0];
  x->fds[EXEC_STDOUT] = p[1][0], child[EXEC_STDOUT] = p[1][1];
  x->fds[EXEC_STDERR] = p[2][0], child[EXEC_STDERR] = p[2][1];
  if (x->control && last_stage(x)) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return agent_err_errno(err, ERR_INTERNAL, "socketpair");
    x->fds[EXEC_CONTROL] = sv[0], child[EXEC_CONTROL] = sv[1];
  }
  /* One end per pipe: both ends share the inode. Programs open /dev/stdin, /dev/stdout by path. */
  if (privilege_give_to_program(child[EXEC_STDIN]) < 0 || privilege_give_to_program(child[EXEC_STDOUT]) < 0 ||
      privilege_give_to_program(child[EXEC_STDERR]) < 0)
    return agent_err_errno(err, ERR_INTERNAL, "chown of the stage's pipes");
  for (int i = 0; i < EXEC_FDS; i++)
    if (x->fds[i] >= 0 && fcntl(x->fds[i], F_SETFL, O_NONBLOCK) < 0) return agent_err_errno(err, ERR_INTERNAL, "O_NONBLOCK");
  return 0;
fail:
  for (int i = 0; i < 3; i++) close(p[i][0]), close(p[i][1]);
  return agent_err_errno(err, ERR_INTERNAL, "pipe");
}

static int send_stage_event(struct exec *x, int host, struct agent_error *err) {
  if (!x->stream) return 0;
  return result_send(host, json_pack("{s:s, s:I, s:s, s:s}", "type", "stage", "id", x->id, "name", x->stages[x->cur].name,
                                     "event", "start"), err);
}

int exec_start_stage(struct exec *x, int host, struct agent_error *fatal, struct agent_error *failed) {
  const struct job_stage *st = &x->stages[x->cur];
  struct stage_result *res = &x->res[x->cur];
  *res = (struct stage_result){.name = st->name};
  outbuf_init(&res->out, st->output_limit);
  outbuf_init(&res->err, st->output_limit);
  if (send_stage_event(x, host, fatal) < 0) return -1;
  int child[EXEC_FDS] = {-1, -1, -1, -1};
  int rc = make_fds(x, child, failed);
  bool interactive = x->interactive && last_stage(x);
  x->in_eof = !interactive || x->early_eof;
  if (rc == 0 && pending_add(&x->in, st->stdin_data, st->stdin_len) < 0) rc = agent_err(failed, ERR_INTERNAL, "out of memory");
  /* What the host typed while earlier stages (compile) ran goes after stdin_b64. */
  if (rc == 0 && interactive && pending_add(&x->in, x->early.data + x->early.off, x->early.len - x->early.off) < 0)
    rc = agent_err(failed, ERR_INTERNAL, "out of memory");
  if (interactive) pending_clear(&x->early);
  if (rc == 0) {
    x->oom_before = stage_read_oom_kills();
    x->start_ns = mono_ns();
    x->deadline_ns = x->start_ns + (int64_t)st->timeout_ms * NS_PER_MS;
    x->child_done = x->killed = false;
    x->pid = fork();
    if (x->pid < 0) rc = agent_err_errno(failed, ERR_INTERNAL, "fork");
    else if (x->pid == 0) stage_child_exec(st, child, child[EXEC_CONTROL], NULL);
    else x->running = true;
  }
  for (int i = 0; i < EXEC_FDS; i++) close_fd(&child[i]);
  if (rc < 0) stage_close(x);
  return rc < 0 ? 1 : 0;
}

/* ---- events ---- */

int exec_pollfds(const struct exec *x, struct pollfd *p, enum exec_fd *which) {
  int n = 0;
  for (int i = 0; i < EXEC_FDS; i++) {
    if (x->fds[i] < 0) continue;
    short ev = POLLIN;
    if (i == EXEC_STDIN) {
      if (pending_empty(&x->in) && !x->in_eof) continue; /* nothing to write yet */
      ev = POLLOUT;
    } else if (i == EXEC_CONTROL && !pending_empty(&x->ctl)) {
      ev |= POLLOUT;
    }
    p[n] = (struct pollfd){.fd = x->fds[i], .events = ev};
    which[n++] = (enum exec_fd)i;
  }
  return n;
}

/* Writes what is pending; 1 when the peer is gone (EPIPE), 0 otherwise. */
static int flush_pending(int fd, struct pending *p) {
  while (!pending_empty(p)) {
    ssize_t n = write(fd, p->data + p->off, p->len - p->off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    if (n < 0) return 1; /* EPIPE: the program does not read it; fine */
    p->off += (size_t)n;
  }
  pending_clear(p);
  return 0;
}

static void feed_stdin(struct exec *x) {
  if (flush_pending(x->fds[EXEC_STDIN], &x->in) || (pending_empty(&x->in) && x->in_eof)) {
    close_fd(&x->fds[EXEC_STDIN]);
    pending_clear(&x->in);
  }
}

static int send_bytes(struct exec *x, int host, const char *type, const char *stream, const char *data, size_t len,
                      struct agent_error *err) {
  char *b64 = base64_encode((const unsigned char *)data, len);
  if (b64 == NULL) return agent_err(err, ERR_INTERNAL, "out of memory");
  json_t *f = json_pack("{s:s, s:I, s:s}", "type", type, "id", x->id, "data_b64", b64);
  free(b64);
  if (f != NULL && stream != NULL &&
      (json_object_set_new(f, "stage", json_string(x->stages[x->cur].name)) < 0 ||
       json_object_set_new(f, "stream", json_string(stream)) < 0 || json_object_set_new(f, "seq", json_integer((json_int_t)x->seq++)) < 0)) {
    json_decref(f);
    f = NULL;
  }
  return result_send(host, f, err);
}

/* Reads one chunk of stdout or stderr: kept within output_limit and, when streaming, sent as it came. */
static int read_output(struct exec *x, enum exec_fd which, int host, struct agent_error *err) {
  char buf[RC_MAX_OUTPUT_CHUNK];
  ssize_t n = read(x->fds[which], buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  if (n <= 0) {
    close_fd(&x->fds[which]);
    return 0;
  }
  if (x->killed) x->drain_deadline_ns = mono_ns() + DRAIN_IDLE_NS;
  struct outbuf *b = which == EXEC_STDOUT ? &x->res[x->cur].out : &x->res[x->cur].err;
  size_t fit = b->limit - b->len < (size_t)n ? b->limit - b->len : (size_t)n;
  if (outbuf_append(b, buf, (size_t)n) < 0) return agent_err(err, ERR_INTERNAL, "out of memory for stage output");
  /* Bytes past output_limit are dropped, and not streamed either. */
  if (x->stream && fit > 0) return send_bytes(x, host, "output", which == EXEC_STDOUT ? "stdout" : "stderr", buf, fit, err);
  return 0;
}

static int read_control(struct exec *x, int host, struct agent_error *err) {
  char buf[RC_MAX_OUTPUT_CHUNK];
  ssize_t n = read(x->fds[EXEC_CONTROL], buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  if (n <= 0) {
    close_fd(&x->fds[EXEC_CONTROL]);
    return 0;
  }
  if (x->killed) x->drain_deadline_ns = mono_ns() + DRAIN_IDLE_NS;
  return send_bytes(x, host, "control", NULL, buf, (size_t)n, err);
}

int exec_on_event(struct exec *x, enum exec_fd which, short revents, int host, struct agent_error *err) {
  if (x->fds[which] < 0 || revents == 0) return 0;
  switch (which) {
  case EXEC_STDIN:
    feed_stdin(x);
    return 0;
  case EXEC_CONTROL:
    if ((revents & POLLOUT) && flush_pending(x->fds[EXEC_CONTROL], &x->ctl)) pending_clear(&x->ctl);
    if (revents & (POLLIN | POLLHUP | POLLERR)) return read_control(x, host, err);
    return 0;
  default:
    return read_output(x, which, host, err);
  }
}

bool exec_child_exited(struct exec *x, pid_t pid, int status, const struct rusage *ru) {
  if (!x->running || x->child_done || pid != x->pid) return false;
  x->child_done = true;
  x->status = status;
  x->ru = *ru;
  x->end_ns = mono_ns();
  return true;
}

/* ---- time ---- */

static void stage_finish(struct exec *x) {
  struct stage_result *res = &x->res[x->cur];
  stage_result_exited(res, x->status);
  res->wall_ms = (double)(x->end_ns - x->start_ns) / (double)NS_PER_MS;
  /* The main child's own usage and that of the descendants it waited for: RUSAGE_CHILDREN would
   * mix in every other exec of the session. */
  res->cpu_ms = stage_tv_ms(x->ru.ru_utime) + stage_tv_ms(x->ru.ru_stime);
  res->max_rss_kb = x->ru.ru_maxrss;
  long oom_after = stage_read_oom_kills();
  res->oom_kills = x->oom_before >= 0 && oom_after > x->oom_before ? oom_after - x->oom_before : 0;
  x->running = false;
  stage_close(x);
}

static int send_result(struct exec *x, int host, struct agent_error *err) {
  json_t *stages = result_stages_json(x->res, x->cur + 1);
  if (stages == NULL) return agent_err(err, ERR_INTERNAL, "out of memory building exec_result");
  json_t *f = json_pack("{s:s, s:I, s:o}", "type", "exec_result", "id", x->id, "stages", stages);
  if (f == NULL) return agent_err(err, ERR_INTERNAL, "out of memory building exec_result");
  char *json = json_dumps(f, JSON_COMPACT);
  json_decref(f);
  if (json == NULL) return agent_err(err, ERR_INTERNAL, "out of memory building exec_result");
  size_t len = strlen(json);
  int rc;
  if (len > RC_MAX_RESULT_FRAME) { /* the stages' output limits add up past one frame */
    free(json);
    rc = result_send(host, json_pack("{s:s, s:I, s:s, s:s}", "type", "error", "id", x->id, "code", ERR_TOO_LARGE, "message",
                                     "the exec's result is larger than a frame; lower output_limit"), err);
  } else {
    rc = frame_write(host, json, len, RC_MAX_RESULT_FRAME, err);
    free(json);
  }
  return rc < 0 ? -1 : 1;
}

static void lower(int *timeout_ms, int64_t until, int64_t now) {
  int ms = until <= now ? 0 : (int)((until - now + NS_PER_MS - 1) / NS_PER_MS);
  if (*timeout_ms < 0 || ms < *timeout_ms) *timeout_ms = ms;
}

int exec_tick(struct exec *x, int64_t now, int host, int *timeout_ms, struct agent_error *err, struct agent_error *failed) {
  if (!x->running) return 0;
  if (!x->killed && (x->child_done || now >= x->deadline_ns)) {
    if (!x->child_done) x->res[x->cur].timed_out = true;
    // SECURITY: nothing the stage started may outlive it in its process group. (What left the group
    // with setsid lives on in the session until close; the sandbox's cgroup still bounds it.)
    kill(-x->pid, SIGKILL);
    if (!x->child_done) kill(x->pid, SIGKILL);
    x->killed = true;
    x->drain_deadline_ns = now + DRAIN_IDLE_NS;
    x->drain_stop_ns = now + DRAIN_MAX_NS;
    /* Stdin ends with the stage; what it wrote to stdout, stderr and fd 3 is still read (drained). */
    close_fd(&x->fds[EXEC_STDIN]);
    pending_clear(&x->ctl);
  }
  if (x->killed && (now >= x->drain_deadline_ns || now >= x->drain_stop_ns)) {
    close_fd(&x->fds[EXEC_STDOUT]);
    close_fd(&x->fds[EXEC_STDERR]);
    close_fd(&x->fds[EXEC_CONTROL]);
  }
  bool drained = x->fds[EXEC_STDOUT] < 0 && x->fds[EXEC_STDERR] < 0 && x->fds[EXEC_CONTROL] < 0;
  if (!(x->killed && x->child_done && drained)) {
    if (!x->killed) lower(timeout_ms, x->deadline_ns, now);
    else if (!drained) lower(timeout_ms, x->drain_deadline_ns < x->drain_stop_ns ? x->drain_deadline_ns : x->drain_stop_ns, now);
    return 0;
  }
  stage_finish(x);
  if (!last_stage(x) && !stage_failed(&x->res[x->cur])) {
    x->cur++;
    int rc = exec_start_stage(x, host, err, failed);
    if (rc != 0) return rc < 0 ? -1 : 2;
    *timeout_ms = 0; /* tick again at once */
    return 0;
  }
  return send_result(x, host, err);
}

/* ---- host frames ---- */

void exec_stdin(struct exec *x, const unsigned char *data, size_t len, bool eof) {
  /* Only the last stage of an interactive exec reads the host's stdin frames; until it starts they wait. */
  if (!x->interactive) return;
  if (!last_stage(x)) {
    if (x->early_eof) return;
    (void)pending_add(&x->early, data, len); /* past MAX_PENDING unread: dropped */
    x->early_eof = eof;
    return;
  }
  if (!x->running || x->killed || x->fds[EXEC_STDIN] < 0 || x->in_eof) return; /* gone, or after eof */
  (void)pending_add(&x->in, data, len);
  if (eof) x->in_eof = true;
}

void exec_signal(const struct exec *x, int sig) {
  if (!x->running || x->child_done) return;
  kill(-x->pid, sig);
}

void exec_control(struct exec *x, const unsigned char *data, size_t len) {
  if (!x->running || x->killed || x->fds[EXEC_CONTROL] < 0) return;
  (void)pending_add(&x->ctl, data, len);
}
