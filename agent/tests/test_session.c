/* Protocol version 2 end to end: runs the built runner-agent as an ordinary child (not PID 1, so
 * a session's end kills the execs' process groups) and drives a session over its stdio.
 * Also version 1's collect. Usage: test_session OUTDIR */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "frame.h"
#include "protocol.h"
#include "agent_proc.h"
#include "tap.h"

static const char *out_dir;
static char tmp_root[] = "/tmp/rc-session-test-XXXXXX";
static char wd[512];
static int case_no;
static const char *program_id; /* --program-id for the agents started from now on, or NULL */

struct agent {
  pid_t pid;
  int to, from;
};

static json_t *recv_frame(struct agent *a) { return read_json_frame(a->from); }

static void send_frame(struct agent *a, json_t *msg) {
  char *s = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  struct agent_error err = {0};
  if (frame_write(a->to, s, strlen(s), RC_MAX_JOB_FRAME, &err) < 0) tap_diag("send: %s", err.message);
  free(s);
}

static const char *type_of(json_t *f) { return f ? json_string_value(json_object_get(f, "type")) : "(none)"; }
static long long geti(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static const char *gets_(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

static pid_t spawn(int *to, int *from) { return spawn_agent_in(out_dir, program_id, to, from); }

/* A fresh agent with an open session in a fresh workdir. */
static struct agent open_session(void) {
  struct agent a;
  snprintf(wd, sizeof wd, "%s/s%d", tmp_root, ++case_no);
  a.pid = spawn(&a.to, &a.from);
  json_t *ready = recv_frame(&a);
  json_t *protos = json_object_get(ready, "protocols");
  if (geti(ready, "protocol") != 2 || json_array_size(protos) != 2) tap_diag("bad ready frame");
  json_decref(ready);
  send_frame(&a, json_pack("{s:s, s:i, s:s}", "type", "open", "protocol", 2, "workdir", wd));
  json_t *opened = recv_frame(&a);
  if (strcmp(type_of(opened), "opened") != 0) tap_diag("no opened frame: %s", type_of(opened));
  json_decref(opened);
  return a;
}

static int close_session(struct agent *a) {
  send_frame(a, json_pack("{s:s}", "type", "close"));
  close(a->to);
  close(a->from);
  int status;
  waitpid(a->pid, &status, 0);
  return status;
}

static json_t *stage(const char *name, const char *script, int timeout_ms) {
  return json_pack("{s:s, s:[s,s,s], s:[s], s:s, s:i, s:i}", "name", name, "argv", "sh", "-c", script, "env",
                   "PATH=/usr/local/bin:/usr/bin:/bin", "cwd", wd, "timeout_ms", timeout_ms, "output_limit", 65536);
}

static void send_exec(struct agent *a, int id, const char *script, int timeout_ms, const char *flags) {
  json_t *x = json_pack("{s:s, s:i, s:[o]}", "type", "exec", "id", id, "stages", stage("run", script, timeout_ms));
  if (flags && strchr(flags, 's')) json_object_set_new(x, "stream", json_true());
  if (flags && strchr(flags, 'i')) json_object_set_new(x, "interactive", json_true());
  if (flags && strchr(flags, 'c')) json_object_set_new(x, "control", json_true());
  send_frame(a, x);
}

/* Frames until the exec_result (or error) of `id`; output frames of it are appended to `streamed`. */
static json_t *wait_result(struct agent *a, int id, char *streamed, size_t cap, int *frames) {
  for (;;) {
    json_t *f = recv_frame(a);
    if (f == NULL) return NULL;
    if (geti(f, "id") == id && (strcmp(type_of(f), "exec_result") == 0 || strcmp(type_of(f), "error") == 0)) return f;
    if (geti(f, "id") == id && strcmp(type_of(f), "output") == 0 && streamed) {
      unsigned char *d;
      size_t n;
      if (base64_decode(gets_(f, "data_b64"), strlen(gets_(f, "data_b64")), &d, &n) == 0) {
        strncat(streamed, (char *)d, n < cap - strlen(streamed) - 1 ? n : cap - strlen(streamed) - 1);
        free(d);
      }
      if (frames) (*frames)++;
    }
    json_decref(f);
  }
}

static char *stdout_of(json_t *result, size_t stage_i) {
  static char out[65536];
  json_t *s = json_array_get(json_object_get(result, "stages"), stage_i);
  const char *b = gets_(s, "stdout_b64");
  unsigned char *d;
  size_t n;
  out[0] = '\0';
  if (base64_decode(b, strlen(b), &d, &n) == 0) {
    snprintf(out, sizeof out, "%.*s", (int)n, (char *)d);
    free(d);
  }
  return out;
}

static json_t *request(struct agent *a, json_t *req) {
  json_int_t id = geti(req, "id");
  send_frame(a, req);
  for (;;) {
    json_t *f = recv_frame(a);
    if (f == NULL || geti(f, "id") == id) return f;
    json_decref(f);
  }
}

static json_t *put(struct agent *a, int id, const char *path, const char *content) {
  char *b64 = base64_encode((const unsigned char *)content, strlen(content));
  json_t *f = request(a, json_pack("{s:s, s:i, s:s, s:s}", "type", "put", "id", id, "path", path, "content_b64", b64));
  free(b64);
  return f;
}

static json_t *get(struct agent *a, int id, const char *path, int max) {
  return request(a, json_pack("{s:s, s:i, s:s, s:i}", "type", "get", "id", id, "path", path, "max_bytes", max));
}

static int is_error(json_t *f, const char *code) {
  int ok = f && strcmp(type_of(f), "error") == 0 && strcmp(gets_(f, "code"), code) == 0;
  if (!ok && f) {
    char *s = json_dumps(f, JSON_COMPACT);
    tap_diag("got %s", s);
    free(s);
  }
  json_decref(f);
  return ok;
}

static int is_ok(json_t *f) {
  int ok = f && strcmp(type_of(f), "ok") == 0;
  json_decref(f);
  return ok;
}

static void test_exec_and_files(void) {
  struct agent a = open_session();
  tap_ok(is_ok(put(&a, 1, "src/a.txt", "hello")), "put creates parent directories");
  send_exec(&a, 2, "cat src/a.txt; echo made >out.txt; mkdir -p d/e; echo x >d/e/f", 5000, NULL);
  json_t *r = wait_result(&a, 2, NULL, 0, NULL);
  tap_ok(strcmp(type_of(r), "exec_result") == 0 && strcmp(stdout_of(r, 0), "hello") == 0, "an exec sees the file put before it");
  json_decref(r);
  json_t *g = get(&a, 3, "out.txt", 1000);
  tap_ok(strcmp(type_of(g), "file") == 0 && strcmp(gets_(g, "content_b64"), "bWFkZQo=") == 0 && geti(g, "size") == 5 &&
             geti(g, "mode") == 0644,
         "get returns what an exec wrote");
  json_decref(g);
  send_exec(&a, 4, "cat out.txt", 5000, NULL);
  r = wait_result(&a, 4, NULL, 0, NULL);
  tap_ok(strcmp(stdout_of(r, 0), "made\n") == 0, "files persist from one exec to the next");
  json_decref(r);
  json_t *l = request(&a, json_pack("{s:s, s:i, s:s, s:b}", "type", "list", "id", 5, "path", "", "recursive", 1));
  json_t *e = json_object_get(l, "entries");
  const char *want[] = {"d", "d/e", "d/e/f", "out.txt", "src", "src/a.txt"};
  int same = json_array_size(e) == 6;
  for (size_t i = 0; same && i < 6; i++) same = strcmp(gets_(json_array_get(e, i), "path"), want[i]) == 0;
  tap_ok(strcmp(type_of(l), "entries") == 0 && same && strcmp(gets_(json_array_get(e, 0), "type"), "dir") == 0 &&
             geti(json_array_get(e, 5), "size") == 5,
         "list: recursive, sorted, typed");
  json_decref(l);
  l = request(&a, json_pack("{s:s, s:i, s:s, s:i}", "type", "list", "id", 6, "path", "", "max_entries", 1));
  tap_ok(json_is_true(json_object_get(l, "truncated")) && json_array_size(json_object_get(l, "entries")) == 1, "list: max_entries truncates");
  json_decref(l);
  tap_ok(is_error(request(&a, json_pack("{s:s, s:i, s:s}", "type", "delete", "id", 7, "path", "d")), "is_dir"),
         "delete of a non-empty directory without recursive: is_dir");
  tap_ok(is_ok(request(&a, json_pack("{s:s, s:i, s:s, s:b}", "type", "delete", "id", 8, "path", "d", "recursive", 1))),
         "delete recursive");
  tap_ok(is_error(get(&a, 9, "d/e/f", 100), "not_found"), "deleted is gone: not_found");
  tap_ok(is_error(request(&a, json_pack("{s:s, s:i, s:s, s:s, s:b}", "type", "put", "id", 10, "path", "out.txt", "content_b64",
                                        "", "overwrite", 0)),
                  "exists"),
         "put with overwrite false on an existing file: exists");
  tap_ok(is_ok(put(&a, 11, "out.txt", "new")), "put overwrites by default");
  tap_ok(is_error(get(&a, 12, "out.txt", 2), "too_large"), "get larger than max_bytes: too_large");
  size_t big = 5u << 20;
  char *content = malloc(big + 1);
  for (size_t i = 0; i < big; i++) content[i] = (char)('a' + i % 26);
  content[big] = '\0';
  json_t *pb = put(&a, 13, "big.bin", content);
  json_t *gb = get(&a, 14, "big.bin", (int)big);
  char *want_b64 = base64_encode((const unsigned char *)content, big);
  tap_ok(strcmp(type_of(pb), "ok") == 0 && geti(gb, "size") == (long long)big && strcmp(gets_(gb, "content_b64"), want_b64) == 0,
         "a 5 MiB put and get round-trip");
  free(want_b64);
  free(content);
  json_decref(pb);
  json_decref(gb);
  tap_ok(WIFEXITED(close_session(&a)), "close: the agent exits");
}

static void test_path_attacks(void) {
  struct agent a = open_session();
  send_exec(&a, 1,
            "ln -s / root; ln -s /etc/passwd passwd; mkdir real; ln -s real linkdir; mkfifo fifo; ln -s /etc dir; : > victim",
            5000, NULL);
  json_decref(wait_result(&a, 1, NULL, 0, NULL));
  tap_ok(is_error(get(&a, 2, "../x", 100), "bad_path"), "'..' refused: bad_path");
  tap_ok(is_error(get(&a, 3, "/etc/passwd", 100), "bad_path"), "absolute path refused: bad_path");
  tap_ok(is_error(get(&a, 4, "a//b", 100), "bad_path"), "empty component refused: bad_path");
  char longp[300];
  memset(longp, 'x', sizeof longp - 1);
  longp[sizeof longp - 1] = '\0';
  tap_ok(is_error(get(&a, 5, longp, 100), "bad_path"), "a 299-byte path refused: bad_path");
  tap_ok(is_error(get(&a, 6, "passwd", 100000), "symlink"), "get of a symlink to /etc/passwd: symlink");
  tap_ok(is_error(get(&a, 7, "root/etc/passwd", 100000), "symlink"), "get through a symlink to /: symlink");
  tap_ok(is_error(put(&a, 8, "dir/evil", "x"), "symlink"), "put through a symlinked parent: symlink");
  tap_ok(is_error(put(&a, 9, "passwd", "x"), "symlink"), "put onto a symlink: symlink");
  tap_ok(is_error(put(&a, 10, "linkdir/x", "x"), "symlink"), "put through a symlink to a directory inside: symlink");
  double t0 = now_s();
  tap_ok(is_error(get(&a, 11, "fifo", 100), "bad_path") && now_s() - t0 < 2, "get of a FIFO: bad_path, no hang");
  tap_ok(is_error(put(&a, 12, "fifo", "x"), "bad_path"), "put onto a FIFO: bad_path");
  tap_ok(is_error(request(&a, json_pack("{s:s, s:i, s:s, s:b}", "type", "list", "id", 13, "path", "dir", "recursive", 1)), "symlink"),
         "list of a symlinked directory: symlink");
  tap_ok(is_ok(request(&a, json_pack("{s:s, s:i, s:s}", "type", "delete", "id", 14, "path", "passwd"))),
         "delete of a symlink removes the link");
  struct stat st;
  tap_ok(stat("/etc/passwd", &st) == 0 && st.st_size > 0, "its target is untouched");
  tap_ok(is_ok(request(&a, json_pack("{s:s, s:i, s:s, s:b}", "type", "delete", "id", 15, "path", "root", "recursive", 1))),
         "recursive delete of a symlink to / removes only the link");
  tap_ok(stat("/etc/hostname", &st) == 0 || stat("/etc/passwd", &st) == 0, "/ is untouched");
  tap_ok(is_error(request(&a, json_pack("{s:s, s:i, s:s%}", "type", "get", "id", 18, "path", "a\0b", (size_t)3)), "bad_path"),
         "a path with NUL: bad_path, and the session goes on");
  send_frame(&a, json_pack("{s:s, s:i, s:[{s:s, s:[s%], s:s, s:i, s:i}]}", "type", "exec", "id", 19, "stages", "name", "run", "argv",
                           "true\0x", (size_t)6, "cwd", wd, "timeout_ms", 1000, "output_limit", 10));
  tap_ok(is_error(wait_result(&a, 19, NULL, 0, NULL), "bad_request"), "an argv string with NUL: bad_request");
  tap_ok(is_error(request(&a, json_pack("{s:s, s:i, s:i}", "type", "get", "id", 16, "path", 3)), "bad_request"),
         "a path that is not a string: bad_request");
  tap_ok(is_error(request(&a, json_pack("{s:s, s:i, s:s}", "type", "nope", "id", 17, "path", "x")), "bad_request"),
         "an unknown request type: bad_request with the id");
  tap_ok(is_error(request(&a, json_pack("{s:s, s:i, s:s}", "type", "stdin", "id", 99, "data_b64", "")), "no_such_exec"),
         "stdin for no exec: no_such_exec");
  close_session(&a);
}

static void test_streaming(void) {
  struct agent a = open_session();
  double t0 = now_s(), first = 0;
  send_exec(&a, 1, "echo one; sleep 1; echo two >&2", 5000, "s");
  json_t *f, *result = NULL;
  int stage_events = 0, outputs = 0, seq_ok = 1;
  long long next_seq = 0;
  while ((f = recv_frame(&a)) != NULL) {
    if (strcmp(type_of(f), "stage") == 0) stage_events++;
    if (strcmp(type_of(f), "output") == 0) {
      if (outputs++ == 0) first = now_s();
      seq_ok = seq_ok && geti(f, "seq") == next_seq++ && strcmp(gets_(f, "stage"), "run") == 0;
    }
    if (strcmp(type_of(f), "exec_result") == 0) {
      result = f;
      break;
    }
    json_decref(f);
  }
  double end = now_s();
  tap_ok(stage_events == 1 && outputs == 2 && seq_ok, "stream: a stage frame, two output frames with seq 0, 1");
  tap_ok(first > t0 && end - first >= 0.8, "stream: the first output came %.2f s before the result", end - first);
  tap_ok(result && strcmp(stdout_of(result, 0), "one\n") == 0, "stream: the result still holds the full output");
  json_decref(result);
  close_session(&a);
}

/* The pid a stage wrote to tmp_root/name, or 0. */
static int read_pid(const char *name) {
  char path[600];
  snprintf(path, sizeof path, "%s/%s", tmp_root, name);
  FILE *pf = fopen(path, "r");
  int pid = 0;
  if (pf && fscanf(pf, "%d", &pid) != 1) pid = 0;
  if (pf) fclose(pf);
  return pid;
}

static void test_concurrent_and_interactive(void) {
  struct agent a = open_session();
  send_exec(&a, 1, "sleep 1; echo slow", 5000, NULL);
  send_exec(&a, 2, "echo fast", 5000, NULL);
  json_t *f = recv_frame(&a);
  tap_ok(strcmp(type_of(f), "exec_result") == 0 && geti(f, "id") == 2, "two execs at once: the fast one answers first");
  json_decref(f);
  f = recv_frame(&a);
  tap_ok(geti(f, "id") == 1 && strcmp(stdout_of(f, 0), "slow\n") == 0, "and the slow one after");
  json_decref(f);

  send_exec(&a, 3, "read x; echo got-$x; read y; echo got-$y", 5000, "i");
  send_frame(&a, json_pack("{s:s, s:i, s:s}", "type", "stdin", "id", 3, "data_b64", "b25lCg==")); /* one\n */
  send_frame(&a, json_pack("{s:s, s:i, s:s, s:b}", "type", "stdin", "id", 3, "data_b64", "dHdvCg==", "eof", 1));
  f = wait_result(&a, 3, NULL, 0, NULL);
  tap_ok(strcmp(stdout_of(f, 0), "got-one\ngot-two\n") == 0, "interactive: stdin frames reach the stage");
  json_decref(f);

  json_t *compiled = json_pack("{s:s, s:i, s:[o,o], s:b}", "type", "exec", "id", 12, "stages", stage("compile", "sleep 0.3", 5000),
                               stage("run", "read x; echo got-$x", 5000), "interactive", 1);
  send_frame(&a, compiled);
  send_frame(&a, json_pack("{s:s, s:i, s:s, s:b}", "type", "stdin", "id", 12, "data_b64", "ZWFybHkK", "eof", 1)); /* early\n */
  f = wait_result(&a, 12, NULL, 0, NULL);
  tap_ok(json_array_size(json_object_get(f, "stages")) == 2 && strcmp(stdout_of(f, 1), "got-early\n") == 0,
         "interactive: stdin sent while the compile stage runs reaches the run stage");
  json_decref(f);

  send_exec(&a, 4, "cat; echo after", 5000, "i");
  send_frame(&a, json_pack("{s:s, s:i, s:s, s:b}", "type", "stdin", "id", 4, "data_b64", "", "eof", 1));
  f = wait_result(&a, 4, NULL, 0, NULL);
  tap_ok(strcmp(stdout_of(f, 0), "after\n") == 0, "interactive: eof closes stdin");
  json_decref(f);

  double t0 = now_s();
  send_exec(&a, 5, "sleep 30", 60000, "i");
  usleep(200000);
  send_frame(&a, json_pack("{s:s, s:i, s:i}", "type", "signal", "id", 5, "signal", 15));
  f = wait_result(&a, 5, NULL, 0, NULL);
  json_t *s = json_array_get(json_object_get(f, "stages"), 0);
  tap_ok(geti(s, "exit_code") == 143 && geti(s, "signal") == 15 && now_s() - t0 < 5, "signal: SIGTERM reaches the stage");
  json_decref(f);

  send_exec(&a, 6, "head -c 4 <&3 >&3; echo done", 5000, "c");
  send_frame(&a, json_pack("{s:s, s:i, s:s}", "type", "control", "id", 6, "data_b64", "cGluZw==")); /* ping */
  json_t *ctl = NULL;
  while ((f = recv_frame(&a)) != NULL) {
    if (strcmp(type_of(f), "control") == 0 && ctl == NULL) ctl = json_incref(f);
    int end = strcmp(type_of(f), "exec_result") == 0;
    json_decref(f);
    if (end) break;
  }
  tap_ok(ctl && strcmp(gets_(ctl, "data_b64"), "cGluZw==") == 0, "control: bytes written to fd 3 come back as control frames");
  json_decref(ctl);

  t0 = now_s();
  char script[512];
  snprintf(script, sizeof script, "setsid sh -c 'echo $$ > %s/daemon.pid; sleep 5' & echo started", tmp_root);
  send_exec(&a, 7, script, 5000, NULL);
  f = wait_result(&a, 7, NULL, 0, NULL);
  double took = now_s() - t0;
  tap_ok(strcmp(stdout_of(f, 0), "started\n") == 0 && took < 1.0, "a setsid daemon holding the pipes does not hang the exec (%.2f s)", took);
  json_decref(f);

  send_exec(&a, 8, "sleep 1; echo timed", 300, NULL);
  f = wait_result(&a, 8, NULL, 0, NULL);
  s = json_array_get(json_object_get(f, "stages"), 0);
  tap_ok(json_is_true(json_object_get(s, "timed_out")) && geti(s, "exit_code") == 137, "an exec's stage timeout kills it");
  json_decref(f);

  json_t *two = json_pack("{s:s, s:i, s:[o,o]}", "type", "exec", "id", 10, "stages", stage("compile", "exit 2", 5000),
                          stage("run", "echo never", 5000));
  send_frame(&a, two);
  f = wait_result(&a, 10, NULL, 0, NULL);
  tap_ok(json_array_size(json_object_get(f, "stages")) == 1, "a failed stage skips the later ones");
  json_decref(f);

  send_exec(&a, 11, "sleep 30", 60000, NULL);
  usleep(100000);
  int status = close_session(&a);
  tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "close: exit 0 with an exec still running");
  int dpid = read_pid("daemon.pid");
  if (dpid > 0) kill(dpid, SIGKILL); /* not PID 1 here: what left the group outlives close (bwrap's PID 1 kills it) */
}

static void test_eof_kills(void) {
  struct agent a = open_session();
  char script[512];
  snprintf(script, sizeof script, "echo $$ > %s/eof.pid; exec sleep 30", tmp_root);
  send_exec(&a, 1, script, 60000, NULL);
  usleep(300000);
  double t0 = now_s();
  close(a.to);
  int status;
  waitpid(a.pid, &status, 0);
  close(a.from);
  int pid = read_pid("eof.pid");
  usleep(100000);
  tap_ok(WIFEXITED(status) && now_s() - t0 < 2 && pid > 0 && kill(pid, 0) < 0 && errno == ESRCH,
         "host EOF: the agent exits and kills the running exec");

  a = open_session();
  if (write_all(a.to, "\0\0\0\2{x", 6) < 0) tap_diag("write");
  json_t *f = recv_frame(&a);
  tap_ok(f && strcmp(type_of(f), "error") == 0 && json_object_get(f, "id") == NULL && strcmp(gets_(f, "code"), "bad_frame") == 0,
         "a frame that is not JSON: a fatal error without id");
  json_decref(f);
  close(a.to);
  close(a.from);
  waitpid(a.pid, &status, 0);
  tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 1, "and exit status 1");
}

/* Version 1's collect: outputs/ comes back in the result, sorted, symlinks not followed, capped. */
static void test_collect(void) {
  snprintf(wd, sizeof wd, "%s/c%d", tmp_root, ++case_no);
  struct agent a;
  a.pid = spawn(&a.to, &a.from);
  json_decref(recv_frame(&a));
  json_t *job = json_pack("{s:s, s:i, s:s, s:[], s:[o], s:{s:s, s:i, s:i}}", "type", "job", "protocol", 1, "workdir", wd, "files",
                          "stages",
                          stage("run", "mkdir -p outputs/sub; printf abc > outputs/b.txt; printf 12345 > outputs/a.txt; "
                                       "printf x > outputs/sub/c; ln -s /etc/passwd outputs/passwd; mkfifo outputs/fifo",
                                5000),
                          "collect", "dir", "outputs", "max_files", 10, "max_bytes", 7);
  send_frame(&a, job);
  json_t *r = recv_frame(&a);
  json_t *o = json_object_get(r, "outputs");
  tap_ok(json_array_size(o) == 3 && strcmp(gets_(json_array_get(o, 0), "path"), "outputs/a.txt") == 0 &&
             strcmp(gets_(json_array_get(o, 1), "path"), "outputs/b.txt") == 0 &&
             strcmp(gets_(json_array_get(o, 2), "path"), "outputs/sub/c") == 0,
         "collect: regular files only, sorted, the symlink and the FIFO skipped");
  tap_ok(strcmp(gets_(json_array_get(o, 0), "content_b64"), "MTIzNDU=") == 0 && !json_is_true(json_object_get(json_array_get(o, 0), "truncated")) &&
             strcmp(gets_(json_array_get(o, 1), "content_b64"), "YWI=") == 0 && json_is_true(json_object_get(json_array_get(o, 1), "truncated")) &&
             geti(json_array_get(o, 1), "size") == 3 && json_is_true(json_object_get(r, "outputs_truncated")),
         "collect: max_bytes cuts the content and flags it");
  json_decref(r);
  close(a.to);
  close(a.from);
  waitpid(a.pid, NULL, 0);

  a.pid = spawn(&a.to, &a.from);
  json_decref(recv_frame(&a));
  send_frame(&a, json_pack("{s:s, s:i, s:s, s:[], s:[o]}", "type", "job", "protocol", 1, "workdir", wd, "files", "stages",
                           stage("run", "true", 5000)));
  r = recv_frame(&a);
  tap_ok(r && json_object_get(r, "outputs") == NULL && json_object_get(r, "outputs_truncated") == NULL,
         "no collect: the result has no outputs fields (version 1 unchanged)");
  json_decref(r);
  close(a.to);
  close(a.from);
  waitpid(a.pid, NULL, 0);
}

/* --program-id: file requests run as the program's uid, like its execs. */
static void test_program_id(void) {
  if (geteuid() != 0) {
    tap_ok(1, "# SKIP --program-id tests need root");
    return;
  }
  chmod(tmp_root, 0755);
  program_id = "65533";
  struct agent a = open_session();
  tap_ok(is_ok(put(&a, 1, "sub/x.txt", "hi")), "--program-id: put");
  char path[700];
  snprintf(path, sizeof path, "%s/sub/x.txt", wd);
  struct stat st, dst;
  tap_ok(stat(path, &st) == 0 && st.st_uid == 65533 && st.st_gid == 65533 && stat(wd, &dst) == 0 && dst.st_uid == 65533,
         "--program-id: the file and the workdir are the program's");
  send_exec(&a, 2, "id -u; cat sub/x.txt; echo secret > mine; chmod 000 mine", 5000, NULL);
  json_t *r = wait_result(&a, 2, NULL, 0, NULL);
  tap_ok(strcmp(stdout_of(r, 0), "65533\nhi") == 0, "--program-id: the exec runs as the program");
  json_decref(r);
  tap_ok(is_error(get(&a, 3, "mine", 100), "bad_path"), "--program-id: get has no more rights than the program (mode 000)");
  close_session(&a);
  program_id = NULL;
}

static void test_frame_reader(void) {
  struct frame_reader r;
  frame_reader_init(&r, 16);
  int p[2];
  if (pipe(p) < 0) return;
  if (write_all(p[1], "\0\0\0\2{}\0\0\0\3{}", 12) < 0) return;
  struct agent_error err = {0};
  char *buf;
  size_t len;
  int got = frame_reader_fill(&r, p[0], &err);
  int n1 = frame_reader_next(&r, &buf, &len, &err);
  tap_ok(got == 1 && n1 == 1 && len == 2 && strcmp(buf, "{}") == 0, "frame reader: one whole frame");
  free(buf);
  tap_ok(frame_reader_next(&r, &buf, &len, &err) == 0 && frame_reader_partial(&r), "frame reader: a partial one waits");
  if (write_all(p[1], "\0\0\0\0\0", 5) < 0) return;
  frame_reader_fill(&r, p[0], &err);
  tap_ok(frame_reader_next(&r, &buf, &len, &err) == 1 && strcmp(buf, "{}\0") == 0, "frame reader: completed by the next read");
  free(buf);
  tap_ok(frame_reader_next(&r, &buf, &len, &err) < 0 && strstr(err.message, "length 0"), "frame reader: length 0 is bad_frame");
  frame_reader_free(&r);
  frame_reader_init(&r, 16);
  err = (struct agent_error){0};
  if (write_all(p[1], "\0\0\0\x20", 4) < 0) return;
  frame_reader_fill(&r, p[0], &err);
  tap_ok(frame_reader_next(&r, &buf, &len, &err) < 0 && strstr(err.message, "exceeds"), "frame reader: above max is bad_frame");
  close(p[1]);
  frame_reader_free(&r);
  frame_reader_init(&r, 16);
  tap_ok(frame_reader_fill(&r, p[0], &err) == 0, "frame reader: end of input");
  close(p[0]);
  frame_reader_free(&r);
}

int main(int argc, char **argv) {
  if (argc != 2) return fprintf(stderr, "usage: test_session OUTDIR\n"), 2;
  out_dir = argv[1];
  alarm(120); /* a hung agent fails the run instead of blocking it */
  signal(SIGPIPE, SIG_IGN);
  if (mkdtemp(tmp_root) == NULL) return perror("mkdtemp"), 1;
  test_frame_reader();
  test_exec_and_files();
  test_path_attacks();
  test_streaming();
  test_concurrent_and_interactive();
  test_eof_kills();
  test_collect();
  test_program_id();
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_root);
  if (system(cmd) != 0) tap_diag("cleanup of %s failed", tmp_root);
  return tap_done();
}
