/* End-to-end tests: runs the built runner-agent as an ordinary child (not PID 1, so it uses the
 * process-group kill) and runner-seccomp. Usage: test_agent OUTDIR */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "frame.h"
#include "protocol.h"
#include "agent_proc.h"
#include "tap.h"

static const char *out_dir;
static const char *program_id; /* --program-id for the agents started from now on, or NULL */
static char tmp_root[] = "/tmp/rc-agent-test-XXXXXX";
static int case_no;

struct agent_run {
  json_t *reply; /* result or error frame */
  int status;    /* agent wait status */
  double secs;
};

static pid_t spawn_agent(int *to, int *from) { return spawn_agent_in(out_dir, program_id, to, from); }

/* Send raw bytes (already framed) to a fresh agent; check its ready frame; collect the reply. */
static struct agent_run run_raw(const void *bytes, size_t n, int *ready_ok) {
  struct agent_run r = {0};
  int to, from;
  double t0 = now_s();
  pid_t pid = spawn_agent(&to, &from);
  json_t *ready = read_json_frame(from);
  *ready_ok = ready && strcmp(json_string_value(json_object_get(ready, "type")), "ready") == 0 &&
              json_integer_value(json_object_get(ready, "protocol")) == RC_PROTOCOL_VERSION &&
              strcmp(json_string_value(json_object_get(ready, "agent")), "runner-agent 0.2.0") == 0 &&
              json_integer_value(json_array_get(json_object_get(ready, "protocols"), 0)) == 1;
  json_decref(ready);
  if (write_all(to, bytes, n) < 0) perror("write");
  close(to);
  r.reply = read_json_frame(from);
  close(from);
  waitpid(pid, &r.status, 0);
  r.secs = now_s() - t0;
  return r;
}

static struct agent_run run_job(json_t *job) {
  char *s = json_dumps(job, JSON_COMPACT);
  json_decref(job);
  size_t len = strlen(s);
  char *framed = malloc(len + 4);
  framed[0] = (char)(len >> 24), framed[1] = (char)(len >> 16), framed[2] = (char)(len >> 8), framed[3] = (char)len;
  memcpy(framed + 4, s, len);
  int ready_ok;
  struct agent_run r = run_raw(framed, len + 4, &ready_ok);
  free(s);
  free(framed);
  if (!ready_ok) tap_diag("bad ready frame");
  return r;
}

static char *workdir(void) {
  static char buf[256];
  snprintf(buf, sizeof buf, "%s/case%d", tmp_root, ++case_no);
  return buf;
}

static json_t *stage(const char *name, json_t *argv, const char *cwd, int timeout_ms, int limit) {
  char path_env[512];
  snprintf(path_env, sizeof path_env, "PATH=%s/bin:/usr/local/bin:/usr/bin:/bin", cwd);
  return json_pack("{s:s, s:o, s:[s,s], s:s, s:s, s:i, s:i, s:{s:i, s:i, s:i}}", "name", name, "argv", argv, "env",
                   path_env, "HOME=/tmp", "cwd", cwd, "stdin_b64", "", "timeout_ms", timeout_ms, "output_limit",
                   limit, "rlimits", "cpu_s", 10, "nofile", 256, "core_bytes", 0);
}

static json_t *sh(const char *script) { return json_pack("[s,s,s]", "sh", "-c", script); }

static json_t *job(const char *wd, json_t *files, json_t *stages) {
  return json_pack("{s:s, s:i, s:s, s:o, s:o}", "type", "job", "protocol", 1, "workdir", wd, "files",
                   files ? files : json_array(), "stages", stages);
}

static json_t *one_stage_job(const char *script, int timeout_ms, int limit) {
  const char *wd = workdir();
  return job(wd, NULL, json_pack("[o]", stage("s", sh(script), wd, timeout_ms, limit)));
}

static json_t *st(const struct agent_run *r, size_t i) {
  return json_array_get(json_object_get(r->reply, "stages"), i);
}
static long long geti(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static int getb(json_t *o, const char *k) { return json_is_true(json_object_get(o, k)); }

/* Decoded stream equals want? */
static int stream_is(json_t *o, const char *k, const char *want) {
  const char *s = json_string_value(json_object_get(o, k));
  unsigned char *d = NULL;
  size_t n = 0;
  int ok = s && base64_decode(s, strlen(s), &d, &n) == 0 && n == strlen(want) && memcmp(d, want, n) == 0;
  if (!ok && s) tap_diag("%s = %s", k, s);
  free(d);
  return ok;
}

static int is_result(const struct agent_run *r) {
  json_t *t = json_object_get(r->reply, "type");
  return t && strcmp(json_string_value(t), "result") == 0 && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

static int is_error(const struct agent_run *r, const char *code, const char *msg_part) {
  json_t *t = json_object_get(r->reply, "type");
  const char *c = json_string_value(json_object_get(r->reply, "code"));
  const char *m = json_string_value(json_object_get(r->reply, "message"));
  if (m) tap_diag("error message: %s", m);
  return t && strcmp(json_string_value(t), "error") == 0 && c && strcmp(c, code) == 0 && m &&
         strstr(m, msg_part) != NULL && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 1;
}

static void test_basic(void) {
  struct agent_run r = run_job(one_stage_job("echo hi; echo err >&2; exit 3", 5000, 1024));
  json_t *s = st(&r, 0);
  tap_ok(is_result(&r) && json_array_size(json_object_get(r.reply, "stages")) == 1, "basic: result frame, agent exit 0");
  tap_ok(geti(s, "exit_code") == 3 && geti(s, "signal") == 0 && !getb(s, "timed_out"), "basic: exit_code 3");
  tap_ok(stream_is(s, "stdout_b64", "hi\n") && stream_is(s, "stderr_b64", "err\n"), "basic: stdout/stderr");
  tap_ok(!getb(s, "stdout_truncated") && !getb(s, "stderr_truncated"), "basic: not truncated");
  tap_ok(json_is_real(json_object_get(s, "wall_ms")) && json_real_value(json_object_get(s, "wall_ms")) > 0 &&
             json_is_real(json_object_get(s, "cpu_ms")) && geti(s, "max_rss_kb") > 0,
         "basic: usage fields");
  tap_ok(strcmp(json_string_value(json_object_get(s, "name")), "s") == 0, "basic: stage name");
  json_decref(r.reply);
}

static void test_files_stdin_path(void) {
  const char *wd = workdir();
  json_t *files = json_pack("[{s:s, s:s}, {s:s, s:s, s:b}]", "path", "sub/dir/x.txt", "content_b64", "aGVsbG8=",
                            "path", "bin/mycmd", "content_b64", "IyEvYmluL3NoCmVjaG8gbWluZQo=", "executable", 1);
  json_t *s = stage("s", sh("cat sub/dir/x.txt; mycmd; cat; stat -c %a bin/mycmd sub/dir/x.txt"), wd, 5000, 1024);
  json_object_set_new(s, "stdin_b64", json_string("aW5wdXQ=")); /* "input" */
  struct agent_run r = run_job(job(wd, files, json_pack("[o]", s)));
  tap_ok(is_result(&r) && stream_is(st(&r, 0), "stdout_b64", "hellomine\ninput755\n644\n"),
         "files written (modes), stdin fed, PATH from stage env");
  json_decref(r.reply);
}

static void test_timeout(void) {
  struct agent_run r = run_job(one_stage_job("sleep 100 & sleep 100", 300, 1024));
  json_t *s = st(&r, 0);
  tap_ok(is_result(&r) && getb(s, "timed_out") && geti(s, "exit_code") == 137 && geti(s, "signal") == 9,
         "timeout: timed_out, exit_code 137, signal 9");
  tap_ok(r.secs < 2.0, "timeout: returned in %.2f s (< 2 s)", r.secs);
  json_decref(r.reply);
}

static void test_orphan(void) {
  struct agent_run r = run_job(one_stage_job("sleep 100 & echo started", 10000, 1024));
  json_t *s = st(&r, 0);
  tap_ok(is_result(&r) && geti(s, "exit_code") == 0 && !getb(s, "timed_out") && stream_is(s, "stdout_b64", "started\n"),
         "orphan holding the pipes: stage ok");
  tap_ok(r.secs < 2.0, "orphan holding the pipes: returned in %.2f s", r.secs);
  json_decref(r.reply);
}

static void test_output_cap(void) {
  struct agent_run r = run_job(one_stage_job("head -c 100000 /dev/zero | tr '\\0' a; echo -n xy >&2", 5000, 1000));
  json_t *s = st(&r, 0);
  const char *o = json_string_value(json_object_get(s, "stdout_b64"));
  tap_ok(is_result(&r) && geti(s, "exit_code") == 0 && o && strlen(o) == base64_encoded_len(1000) &&
             getb(s, "stdout_truncated") && !getb(s, "stderr_truncated") && stream_is(s, "stderr_b64", "xy"),
         "output cap: 1000 bytes kept, truncated set, program completed");
  json_decref(r.reply);
}

static void test_stage_skip(void) {
  const char *wd = workdir();
  json_t *stages = json_pack("[o,o]", stage("a", sh("exit 1"), wd, 5000, 100), stage("b", sh("echo no"), wd, 5000, 100));
  struct agent_run r = run_job(job(wd, NULL, stages));
  tap_ok(is_result(&r) && json_array_size(json_object_get(r.reply, "stages")) == 1 && geti(st(&r, 0), "exit_code") == 1,
         "stage skip: second stage not run or listed");
  json_decref(r.reply);
  wd = workdir();
  stages = json_pack("[o,o]", stage("a", sh("echo one"), wd, 5000, 100), stage("b", sh("echo two"), wd, 5000, 100));
  r = run_job(job(wd, NULL, stages));
  tap_ok(is_result(&r) && json_array_size(json_object_get(r.reply, "stages")) == 2 &&
             stream_is(st(&r, 1), "stdout_b64", "two\n"),
         "two successful stages both listed");
  json_decref(r.reply);
}

static void test_exec_fail_and_signal(void) {
  const char *wd = workdir();
  struct agent_run r = run_job(job(wd, NULL, json_pack("[o]", stage("s", json_pack("[s]", "no-such-cmd"), wd, 5000, 1000))));
  json_t *s = st(&r, 0);
  tap_ok(is_result(&r) && geti(s, "exit_code") == 127 &&
             stream_is(s, "stderr_b64", "runner-agent: exec no-such-cmd: No such file or directory\n"),
         "exec failure: 127 with reason on stderr");
  json_decref(r.reply);
  r = run_job(one_stage_job("kill -TERM $$", 5000, 100));
  s = st(&r, 0);
  tap_ok(is_result(&r) && geti(s, "exit_code") == 143 && geti(s, "signal") == 15 && !getb(s, "timed_out"),
         "signalled: exit_code 143, signal 15");
  json_decref(r.reply);
}

static void test_bad_jobs(void) {
  const char *wd = workdir();
  json_t *files = json_pack("[{s:s, s:s}]", "path", "a/../b", "content_b64", "");
  struct agent_run r = run_job(job(wd, files, json_pack("[o]", stage("s", sh("true"), wd, 1000, 10))));
  tap_ok(is_error(&r, "bad_job", "files[0].path: '..' is not allowed"), "bad path: bad_job error frame");
  json_decref(r.reply);
  wd = workdir();
  json_t *stages = json_pack("[o,o]", stage("a", sh("true"), wd, 1000, 10), stage("b", json_array(), wd, 1000, 10));
  r = run_job(job(wd, NULL, stages));
  tap_ok(is_error(&r, "bad_job", "stages[1].argv: must be a non-empty array of strings"), "empty argv: bad_job");
  json_decref(r.reply);
  r = run_job(json_pack("{s:s, s:i}", "type", "job", "protocol", 2));
  tap_ok(is_error(&r, "bad_job", "protocol"), "wrong protocol: bad_job");
  json_decref(r.reply);
  int ready_ok;
  r = run_raw("\0\0\0\0", 4, &ready_ok);
  tap_ok(ready_ok && is_error(&r, "bad_frame", "length 0"), "length-0 frame: bad_frame");
  json_decref(r.reply);
  r = run_raw("\x04\0\0\x01", 4, &ready_ok);
  tap_ok(is_error(&r, "bad_frame", "exceeds"), "oversize frame: bad_frame");
  json_decref(r.reply);
  r = run_raw("\0\0\0\x03{x}", 7, &ready_ok);
  tap_ok(is_error(&r, "bad_frame", "JSON"), "invalid JSON: bad_frame");
  json_decref(r.reply);
}

static void test_existing_file(void) {
  const char *wd = workdir();
  mkdir(wd, 0755);
  char link[512];
  snprintf(link, sizeof link, "%s/evil", wd);
  if (symlink("/tmp", link) < 0) perror("symlink");
  json_t *files = json_pack("[{s:s, s:s}]", "path", "evil/x", "content_b64", "");
  struct agent_run r = run_job(job(wd, files, json_pack("[o]", stage("s", sh("true"), wd, 1000, 10))));
  tap_ok(is_error(&r, "file_write", "evil/x"), "symlinked directory component: file_write error");
  json_decref(r.reply);
}

/* ---- seccomp ---- */

static int load_filter(const char *path) {
  FILE *f = fopen(path, "rb");
  static struct sock_filter prog[4096];
  size_t n = f ? fread(prog, sizeof prog[0], 4096, f) : 0;
  if (f) fclose(f);
  struct sock_fprog fp = {.len = (unsigned short)n, .filter = prog};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -1;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp);
}

/* Checks under a filter: each is a condition the filter must make true. */
#define CHECK(cond) do { if (!(cond)) _exit(__LINE__ % 250 + 1); } while (0)
#define FAILS_WITH(expr, err) ((expr) < 0 && errno == (err))

/* An i386 syscall (int 0x80) from this 64-bit process: returns the kernel's value (-errno on error). */
static long int80(long nr, long a, long b, long c, long d) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d) : "memory");
  return ret;
}

static void x86_64_checks(void) {
  CHECK(getpid() > 0);
  CHECK(FAILS_WITH(unshare(CLONE_NEWUSER), EPERM));
  CHECK(FAILS_WITH(syscall(SYS_clone3, NULL, 0), ENOSYS));
  CHECK(syscall(SYS_personality, 0xffffffffUL) >= 0);
  CHECK(FAILS_WITH(syscall(SYS_personality, 0x0400000UL), ENOSYS));
  CHECK(FAILS_WITH(syscall(SYS_mount, "x", "/", "tmpfs", 0, NULL), EPERM));
  pid_t c = fork(); /* glibc fork = clone without namespace flags */
  if (c == 0) _exit(7);
  int st;
  CHECK(c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 7);
  /* prlimit64 on the caller only (pid 0, as glibc's getrlimit/setrlimit pass it) */
  struct rlimit lim;
  CHECK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &lim) == 0 && getrlimit(RLIMIT_NOFILE, &lim) == 0);
  CHECK(setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0}) == 0);
  CHECK(FAILS_WITH(syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, NULL, &lim), EPERM));
  CHECK(FAILS_WITH(syscall(SYS_prlimit64, getppid(), RLIMIT_NOFILE, NULL, &lim), EPERM));
  CHECK(FAILS_WITH(syscall(SYS_prlimit64, 1UL << 32, RLIMIT_NOFILE, NULL, &lim), EPERM));
  CHECK(FAILS_WITH(syscall(SYS_get_robust_list, getppid(), &(void *){0}, &(size_t){0}), EPERM));
  /* host-wide resources */
  CHECK(FAILS_WITH(syscall(SYS_io_setup, 1, &(unsigned long){0}), ENOSYS));
  CHECK(syscall(SYS_syncfs, -1) == 0 && syscall(SYS_fsync, -1) == 0 && syscall(SYS_fdatasync, -1) == 0);
  sync();
  CHECK(FAILS_WITH(socket(AF_VSOCK, SOCK_STREAM, 0), EAFNOSUPPORT));
  CHECK(FAILS_WITH(syscall(SYS_socket, (1UL << 32) | AF_VSOCK, SOCK_STREAM, 0), EAFNOSUPPORT)); /* high bits ignored */
  CHECK(FAILS_WITH(syscall(SYS_socket, (1UL << 32) | AF_UNIX, SOCK_STREAM, 0), ENOSYS));
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK(s >= 0 && close(s) == 0);
  CHECK(mmap(NULL, 1 << 21, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0) == MAP_FAILED && errno == ENOMEM);
  void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(p != MAP_FAILED && munmap(p, 4096) == 0);
  CHECK(FAILS_WITH(syscall(SYS_memfd_create, "x", MFD_HUGETLB), ENOMEM));
  CHECK(FAILS_WITH(sched_setscheduler(0, SCHED_FIFO, &(struct sched_param){1}), EPERM));
  CHECK(sched_setscheduler(0, SCHED_BATCH | SCHED_RESET_ON_FORK, &(struct sched_param){0}) == 0);
  CHECK(FAILS_WITH(syscall(SYS_sched_setattr, 0, NULL, 0), ENOSYS));
}

static void i386_checks(void) {
  CHECK(int80(20, 0, 0, 0, 0) == getpid()); /* i386 getpid */
  CHECK(int80(245, 1, 0, 0, 0) == -ENOSYS); /* io_setup */
  CHECK(int80(340, 1, RLIMIT_NOFILE, 0, 0) == -EPERM); /* prlimit64(1, ...) */
  CHECK(int80(36, 0, 0, 0, 0) == 0); /* sync, answered 0 */
  CHECK(int80(102, 1, 0, 0, 0) == -ENOSYS); /* socketcall hides its arguments */
}

/* Runs `checks` in a child under the filter: 0 when all held, else the wait status. */
static int filtered(const char *path, void (*checks)(void)) {
  pid_t pid = fork();
  if (pid == 0) {
    if (load_filter(path) < 0) _exit(255);
    checks();
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  return st;
}

static void i386_killed(void) { int80(20, 0, 0, 0, 0); }

static void test_seccomp(void) {
  char cmd[4096], bpf[512], bpf32[512];
  snprintf(bpf, sizeof bpf, "%s/filter.bpf", tmp_root);
  snprintf(bpf32, sizeof bpf32, "%s/filter-i386.bpf", tmp_root);
  snprintf(cmd, sizeof cmd, "%s/runner-seccomp %s && %s/runner-seccomp --with-i386 %s", out_dir, bpf, out_dir, bpf32);
  struct stat sb, sb32;
  tap_ok(system(cmd) == 0 && stat(bpf, &sb) == 0 && sb.st_size > 0 && sb.st_size % 8 == 0 && stat(bpf32, &sb32) == 0 &&
             sb32.st_size > sb.st_size && sb32.st_size % 8 == 0,
         "seccomp: both filters generated, non-empty, multiples of 8 bytes");
  int st = filtered(bpf, x86_64_checks);
  tap_ok(st == 0, "seccomp: namespaces, clone3, personality, mount, prlimit64 pid 0 only, no AIO, sync answered 0, "
                  "no vsock, no huge pages, no real-time policy (status %#x)", (unsigned)st);
  st = filtered(bpf, i386_killed);
  tap_ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "seccomp: an i386 syscall kills the process (status %#x)", (unsigned)st);
  st = filtered(bpf32, x86_64_checks);
  tap_ok(st == 0, "seccomp --with-i386: the same x86_64 policy (status %#x)", (unsigned)st);
  st = filtered(bpf32, i386_checks);
  tap_ok(st == 0, "seccomp --with-i386: int 0x80 getpid works, io_setup ENOSYS, prlimit64(1) EPERM, sync 0, no socketcall (status %#x)",
         (unsigned)st);
}

/* runner-launch (needs root to change uid; skipped otherwise). */
static int launch(const char *args, char *out, size_t outlen) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s/runner-launch %s 2>&1", out_dir, args);
  FILE *p = popen(cmd, "r");
  size_t n = p ? fread(out, 1, outlen - 1, p) : 0;
  out[n] = '\0';
  int st = p ? pclose(p) : -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_launch(void) {
  char out[1024], args[1024], cg[512];
  if (geteuid() != 0) {
    tap_ok(1, "# SKIP runner-launch tests need root");
    return;
  }
  snprintf(cg, sizeof cg, "%s/cgroup.procs", tmp_root);
  FILE *f = fopen(cg, "w");
  if (f) fclose(f);
  snprintf(args, sizeof args,
           "--cgroup-procs %s --uid 65534 --gid 65534 -- sh -c 'echo $$; id -u; id -g; id -G; "
           "grep NoNewPrivs /proc/self/status' 5</dev/null",
           cg);
  int rc = launch(args, out, sizeof out);
  char pid[32] = "";
  f = fopen(cg, "r");
  if (f && fgets(pid, sizeof pid, f) == NULL) pid[0] = '\0';
  if (f) fclose(f);
  char want[256];
  snprintf(want, sizeof want, "%s\n65534\n65534\n65534\nNoNewPrivs:\t1\n", pid);
  tap_ok(rc == 0 && pid[0] && strcmp(out, want) == 0, "launch: cgroup pid written, ids dropped, no_new_privs");
  if (rc != 0 || strcmp(out, want) != 0) tap_diag("output: %s", out);
  tap_ok(launch("--uid 0 --gid 65534 -- true", out, sizeof out) == 125 && strstr(out, "runner-launch: "),
         "launch: uid 0 refused with 125");
  tap_ok(launch("--uid 65534 --gid 0 -- true", out, sizeof out) == 125, "launch: gid 0 refused with 125");
  tap_ok(launch("--uid 65534 --gid 65534 -- /no/such/prog", out, sizeof out) == 125, "launch: exec failure is 125");
  snprintf(args, sizeof args, "--uid 65534 --gid 65534 -- sh -c 'test -e /proc/self/fd/3 && ! test -e /proc/self/fd/5' 3</dev/null 5</dev/null");
  tap_ok(launch(args, out, sizeof out) == 0, "launch: fd 3 kept, fd 5 closed");
}

/* The user namespace runner-launch makes for bwrap: agent uid 0 and program uid 1000 are two
 * different host uids, host root is not mapped, nested user namespaces are off. */
static void test_launch_userns(void) {
  char out[1024];
  if (geteuid() != 0 || system("command -v bwrap >/dev/null") != 0) {
    tap_ok(1, "# SKIP runner-launch --program-id tests need root and bwrap");
    return;
  }
  int rc = launch("--uid 65534 --gid 65534 --program-id 65533 -- bwrap --userns 4 --uid 0 --gid 0 --ro-bind / / -- "
                  "sh -c 'for f in uid_map gid_map; do while read a b c; do echo $a $b $c; done </proc/self/$f; done; "
                  "cat /proc/sys/user/max_user_namespaces; id -u'",
                  out, sizeof out);
  tap_ok(rc == 0 && strcmp(out, "0 65534 1\n1000 65533 1\n0 65534 1\n1000 65533 1\n0\n0\n") == 0,
         "launch --program-id: maps 0 to --uid and 1000 to --program-id, no nested user namespaces");
  if (rc != 0) tap_diag("output: %s", out);
  tap_ok(launch("--uid 65534 --gid 65534 --program-id 65534 -- true", out, sizeof out) == 125 && strstr(out, "must differ"),
         "launch: a program id equal to the agent's is refused");
  tap_ok(launch("--uid 65534 --gid 65534 --program-id 0 -- true", out, sizeof out) == 125, "launch: program id 0 refused");
}

/* --program-id: files and stages run as that uid and gid, without capabilities; the agent is not
 * dumpable (its /proc files are root's, its environment unreadable). */
static void test_program_id(void) {
  if (geteuid() != 0) {
    tap_ok(1, "# SKIP --program-id tests need root");
    return;
  }
  chmod(tmp_root, 0755); /* the program's uid must reach its workdir */
  program_id = "65533";
  const char *wd = workdir();
  json_t *files = json_pack("[{s:s, s:s}]", "path", "sub/x.txt", "content_b64", "aGVsbG8=");
  const char *script = "id -u; id -g; id -G; stat -c '%u %g' . sub sub/x.txt; grep CapEff /proc/self/status; "
                       "stat -c %u /proc/$PPID; cat /proc/$PPID/environ >/dev/null 2>&1 || echo no-environ; "
                       "kill -0 $PPID 2>/dev/null || echo no-signal; cat /dev/stdin; echo; echo err >/dev/stderr";
  json_t *s = stage("s", sh(script), wd, 5000, 4096);
  json_object_set_new(s, "stdin_b64", json_string("aW5wdXQ=")); /* "input" */
  struct agent_run r = run_job(job(wd, files, json_pack("[o]", s)));
  tap_ok(is_result(&r) && stream_is(st(&r, 0), "stdout_b64",
                                    "65533\n65533\n65533\n65533 65533\n65533 65533\n65533 65533\n"
                                    "CapEff:\t0000000000000000\n0\nno-environ\nno-signal\ninput\n"),
         "--program-id: files and stage as the program's ids, no capabilities, agent unreachable");
  tap_ok(stream_is(st(&r, 0), "stderr_b64", "err\n"), "--program-id: the stage opens its own stdio pipes by path (/dev/stdin, /dev/stderr)");
  json_decref(r.reply);
  program_id = "0";
  int ready_ok;
  struct agent_run bad = run_raw("", 0, &ready_ok);
  tap_ok(!ready_ok && WIFEXITED(bad.status) && WEXITSTATUS(bad.status) == 2, "--program-id 0 is a usage error");
  json_decref(bad.reply);
  program_id = NULL;
}

/* The first stage's child writes the files as the program's uid before its exec: later stages
 * see them; a failure is the job's file_write error frame and no stage runs; the stage's rlimits
 * (RLIMIT_FSIZE, RLIMIT_NOFILE) do not apply to the writing. */
static void test_files_in_stage(void) {
  if (geteuid() != 0) {
    tap_ok(1, "# SKIP files-in-stage tests need root");
    return;
  }
  chmod(tmp_root, 0755);
  program_id = "65533";
  const char *wd = workdir();
  json_t *files = json_pack("[{s:s, s:s}, {s:s, s:s}]", "path", "sub/dir/x.txt", "content_b64", "aGVsbG8=", "path",
                            "big", "content_b64", "MDEyMzQ1Njc4OTAxMjM0NTY3ODk=");
  json_t *first = stage("compile", json_pack("[s]", "true"), wd, 5000, 100);
  json_t *rl = json_object_get(first, "rlimits");
  json_object_set_new(rl, "nofile", json_integer(4)); /* the loader needs fd 3; the walk needs up to fd 7 */
  json_object_set_new(rl, "fsize_bytes", json_integer(1));
  json_t *second = stage("run", sh("stat -c '%u %s' sub/dir/x.txt big; cat sub/dir/x.txt"), wd, 5000, 100);
  struct agent_run r = run_job(job(wd, files, json_pack("[o,o]", first, second)));
  tap_ok(is_result(&r) && geti(st(&r, 0), "exit_code") == 0 &&
             stream_is(st(&r, 1), "stdout_b64", "65533 5\n65533 20\nhello"),
         "files in the first stage: the program's, written before its nofile 4 and fsize 1, seen by the next stage");
  json_decref(r.reply);

  wd = workdir();
  mkdir(wd, 0755);
  char path[512];
  snprintf(path, sizeof path, "%s/taken", wd);
  close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  files = json_pack("[{s:s, s:s}, {s:s, s:s}]", "path", "ok", "content_b64", "", "path", "taken", "content_b64", "");
  r = run_job(job(wd, files, json_pack("[o,o]", stage("a", sh("touch ran-a"), wd, 5000, 100), stage("b", sh("touch ran-b"), wd, 5000, 100))));
  struct stat sb;
  snprintf(path, sizeof path, "%s/ran-a", wd);
  int ran = stat(path, &sb) == 0;
  snprintf(path, sizeof path, "%s/ran-b", wd);
  ran |= stat(path, &sb) == 0;
  tap_ok(is_error(&r, "file_write", "taken: create: File exists") && !ran,
         "files in the first stage: an existing file is the job's file_write error, no stage runs");
  json_decref(r.reply);

  wd = workdir();
  mkdir(wd, 0755);
  snprintf(path, sizeof path, "%s/evil", wd);
  if (symlink("/tmp", path) < 0) perror("symlink");
  files = json_pack("[{s:s, s:s}]", "path", "evil/escaped", "content_b64", "");
  r = run_job(job(wd, files, json_pack("[o]", stage("s", sh("true"), wd, 5000, 100))));
  tap_ok(is_error(&r, "file_write", "evil/escaped: open directory evil: Not a directory") && stat("/tmp/escaped", &sb) < 0,
         "files in the first stage: a symlinked component is refused, nothing written through it");
  json_decref(r.reply);

  /* A full disk (a 64 KiB tmpfs as the workdir, in a mount namespace of a child of the test). */
  wd = workdir();
  mkdir(wd, 0755);
  pid_t pid = fork();
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("tmpfs", wd, "tmpfs", 0, "size=64k") < 0)
      _exit(2);
    unsigned char zeros[96 * 1024] = {0};
    char *b64 = base64_encode(zeros, sizeof zeros);
    files = json_pack("[{s:s, s:s}]", "path", "big", "content_b64", b64);
    r = run_job(job(wd, files, json_pack("[o]", stage("s", sh("true"), wd, 5000, 100))));
    _exit(is_error(&r, "file_write", "big: write: No space left on device") ? 0 : 1);
  }
  int status = -1;
  waitpid(pid, &status, 0);
  tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "files in the first stage: a full disk is the job's file_write error (status %#x)", status);
  program_id = NULL;
}

static void test_version(void) {
  char cmd[4096], line[128] = "";
  snprintf(cmd, sizeof cmd, "%s/runner-agent --version", out_dir);
  FILE *p = popen(cmd, "r");
  if (p && fgets(line, sizeof line, p) == NULL) line[0] = '\0';
  if (p) pclose(p);
  tap_ok(strcmp(line, "runner-agent 0.2.0\n") == 0, "--version");
}

int main(int argc, char **argv) {
  if (argc != 2) return fprintf(stderr, "usage: test_agent OUTDIR\n"), 2;
  out_dir = argv[1];
  alarm(60); /* a hung agent fails the run instead of blocking it */
  signal(SIGPIPE, SIG_IGN);
  if (mkdtemp(tmp_root) == NULL) return perror("mkdtemp"), 1;
  test_version();
  test_basic();
  test_files_stdin_path();
  test_timeout();
  test_orphan();
  test_output_cap();
  test_stage_skip();
  test_exec_fail_and_signal();
  test_bad_jobs();
  test_existing_file();
  test_seccomp();
  test_launch();
  test_launch_userns();
  test_program_id();
  test_files_in_stage();
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_root);
  if (system(cmd) != 0) tap_diag("cleanup of %s failed", tmp_root);
  return tap_done();
}
