/* Version 1's prestart frame end to end: runs the built runner-agent as an ordinary child, starts
 * a stand-in interpreter (sh reading fd 3), then sends a job that fits it or does not.
 * Usage: test_prestart OUTDIR */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base64.h"
#include "frame.h"
#include "protocol.h"
#include "agent_proc.h"
#include "tap.h"

static const char *out_dir;
static char tmp_root[] = "/tmp/rc-prestart-test-XXXXXX";
static int case_no;

struct run {
  json_t *answer, *result;
};

static void send_frame(int fd, json_t *msg) {
  char *s = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  struct agent_error err = {0};
  if (frame_write(fd, s, strlen(s), RC_MAX_JOB_FRAME, &err) < 0) tap_diag("send: %s", err.message);
  free(s);
}

/* A stage in `wd`; `env` its one variable besides PATH. */
static json_t *stage(const char *wd, json_t *argv, const char *env) {
  return json_pack("{s:s, s:o, s:[s,s], s:s, s:s, s:i, s:i, s:{s:i, s:i}}", "name", "run", "argv", argv, "env",
                   "PATH=/usr/bin:/bin", env, "cwd", wd, "stdin_b64", "", "timeout_ms", 5000, "output_limit", 4096,
                   "rlimits", "cpu_s", 10, "nofile", 256);
}

/* The stand-in interpreter: ready byte on fd 3, then it prints what it was handed. */
static json_t *waiting(void) { return json_pack("[s,s,s]", "sh", "-c", "printf R >&3; exec cat <&3"); }

/* Sends `prestart`, then (when the answer came) `job`; the agent's two answers. */
static struct run prestart_then(json_t *prestart, json_t *job) {
  struct run r = {0};
  int to, from;
  pid_t pid = spawn_agent_in(out_dir, NULL, &to, &from);
  json_decref(read_json_frame(from)); /* ready */
  send_frame(to, prestart);
  r.answer = read_json_frame(from);
  if (job != NULL && r.answer != NULL && strcmp(json_string_value(json_object_get(r.answer, "type")), "prestarted") == 0) {
    send_frame(to, job);
    r.result = read_json_frame(from);
  } else {
    json_decref(job);
  }
  close(to);
  close(from);
  waitpid(pid, NULL, 0);
  return r;
}

static const char *new_workdir(void) {
  static char wd[256];
  snprintf(wd, sizeof wd, "%s/case%d", tmp_root, ++case_no);
  if (mkdir(wd, 0755) < 0) tap_diag("mkdir %s", wd);
  return wd;
}

static json_t *prestart_frame(json_t *st) { return json_pack("{s:s, s:i, s:[o]}", "type", "prestart", "protocol", 1, "stages", st); }
static json_t *job_frame(const char *wd, json_t *st) {
  return json_pack("{s:s, s:i, s:s, s:[], s:[o]}", "type", "job", "protocol", 1, "workdir", wd, "files", "stages", st);
}
static json_t *run_stage(const struct run *r) { return json_array_get(json_object_get(r->result, "stages"), 0); }
static int stdout_is(json_t *s, const char *want, size_t len) {
  unsigned char *out = NULL;
  size_t n = 0;
  const char *b64 = json_string_value(json_object_get(s, "stdout_b64"));
  int ok = b64 && base64_decode(b64, strlen(b64), &out, &n) == 0 && n == len && memcmp(out, want, len) == 0;
  free(out);
  return ok;
}

static void test_fits(void) {
  const char *wd = new_workdir();
  struct run r = prestart_then(prestart_frame(stage(wd, waiting(), "A=1")),
                               job_frame(wd, stage(wd, json_pack("[s,s,s]", "sh", "main.sh", "arg 1"), "A=1")));
  tap_ok(json_is_true(json_object_get(r.answer, "ready")), "prestart: the interpreter is ready");
  json_t *s = run_stage(&r);
  tap_ok(json_is_true(json_object_get(s, "prestarted")) && json_integer_value(json_object_get(s, "exit_code")) == 0,
         "prestart: a fitting job runs in it (prestarted, exit 0)");
  tap_ok(stdout_is(s, "sh\0main.sh\0arg 1\0", 17), "prestart: it was handed the job's argv, NUL-terminated, then EOF");
  json_decref(r.answer), json_decref(r.result);
}

static void test_does_not_fit(void) {
  const char *wd = new_workdir();
  struct run r = prestart_then(prestart_frame(stage(wd, waiting(), "A=1")),
                               job_frame(wd, stage(wd, json_pack("[s,s,s]", "sh", "-c", "echo cold $A"), "A=2")));
  json_t *s = run_stage(&r);
  tap_ok(json_object_get(s, "prestarted") == NULL && stdout_is(s, "cold 2\n", 7), "prestart: another env starts cold");
  json_decref(r.answer), json_decref(r.result);
}

static void test_not_ready(void) {
  const char *wd = new_workdir();
  struct run r = prestart_then(prestart_frame(stage(wd, json_pack("[s,s,s]", "sh", "-c", "exit 3"), "A=1")),
                               job_frame(wd, stage(wd, json_pack("[s,s,s]", "sh", "-c", "echo ok"), "A=1")));
  const char *msg = json_string_value(json_object_get(r.answer, "message"));
  tap_ok(json_is_false(json_object_get(r.answer, "ready")) && msg && strstr(msg, "before it was ready"),
         "prestart: an interpreter that ends first: ready false, with why (%s)", msg ? msg : "-");
  tap_ok(stdout_is(run_stage(&r), "ok\n", 3), "prestart: the job then starts cold");
  json_decref(r.answer), json_decref(r.result);
}

static void test_bad_frames(void) {
  const char *wd = new_workdir();
  struct run r = prestart_then(json_pack("{s:s, s:i, s:[]}", "type", "prestart", "protocol", 1, "stages"), NULL);
  tap_ok(r.answer && strcmp(json_string_value(json_object_get(r.answer, "code")), "bad_job") == 0, "prestart: no stage is bad_job");
  json_decref(r.answer);
  json_t *frame = prestart_frame(stage(wd, waiting(), "A=1"));
  json_object_set_new(frame, "boot", json_pack("{s:s, s:s}", "path", "/etc/evil/x", "content_b64", ""));
  r = prestart_then(frame, NULL);
  const char *msg = json_string_value(json_object_get(r.answer, "message"));
  tap_ok(msg && strstr(msg, "boot.path: must be /tmp/<dir>/<name>"), "prestart: a boot file outside /tmp/<dir>/ is refused");
  json_decref(r.answer);
}

static void test_boot_file(void) {
  const char *wd = new_workdir();
  char dir[64], path[96], check[512];
  snprintf(dir, sizeof dir, "/tmp/rc-prestart-boot-%d", (int)getpid());
  snprintf(path, sizeof path, "%s/boot.js", dir);
  snprintf(check, sizeof check, "printf R >&3; cat <&3 >/dev/null; cat %s; stat -c %%a %s %s", path, path, dir);
  json_t *frame = prestart_frame(stage(wd, json_pack("[s,s,s]", "sh", "-c", check), "A=1"));
  json_object_set_new(frame, "boot", json_pack("{s:s, s:s}", "path", path, "content_b64", "Ym9vdA==")); /* "boot" */
  struct run r = prestart_then(frame, job_frame(wd, stage(wd, json_pack("[s]", "sh"), "A=1")));
  tap_ok(stdout_is(run_stage(&r), "boot444\n711\n", 12), "prestart: the boot file is written, 0444 in a 0711 directory");
  json_decref(r.answer), json_decref(r.result);
  unlink(path), rmdir(dir);
}

int main(int argc, char **argv) {
  if (argc != 2) return fprintf(stderr, "usage: test_prestart OUTDIR\n"), 2;
  out_dir = argv[1];
  if (mkdtemp(tmp_root) == NULL) return perror("mkdtemp"), 1;
  test_fits();
  test_does_not_fit();
  test_not_ready();
  test_bad_frames();
  test_boot_file();
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_root);
  if (system(cmd) != 0) tap_diag("cleanup of %s failed", tmp_root);
  return tap_done();
}
