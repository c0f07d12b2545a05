/* Starting a pre-started interpreter and handing it its program (prestart.h). */
#include "prestart.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base64.h"
#include "privilege.h"
#include "stage-child.h"

#define NS_PER_MS 1000000LL
/* The only place a boot file may go: a directory of its own under /tmp (docs/protocol.md). */
#define BOOT_PARENT "/tmp/"

/* "boot": {"path": "/tmp/<dir>/<name>", "content_b64"}: a file the interpreter loads at start
 * (Node's preload). Written by the agent before any program runs here, read-only for the program,
 * in a directory it can traverse but not list. */
static int write_boot(json_t *doc, struct agent_error *err) {
  json_t *boot = json_object_get(doc, "boot");
  if (boot == NULL) return 0;
  json_t *p = json_object_get(boot, "path"), *c = json_object_get(boot, "content_b64");
  if (!json_is_string(p) || !json_is_string(c)) return agent_err(err, ERR_BAD_JOB, "boot: must have string path and content_b64");
  const char *path = json_string_value(p), *why = NULL;
  size_t len = json_string_length(p);
  const char *rel = path + strlen(BOOT_PARENT);
  const char *slash = len > strlen(BOOT_PARENT) ? strchr(rel, '/') : NULL;
  if (strncmp(path, BOOT_PARENT, strlen(BOOT_PARENT)) != 0 || slash == NULL || strchr(slash + 1, '/') != NULL ||
      path_validate(rel, len - strlen(BOOT_PARENT), &why) < 0)
    return agent_err(err, ERR_BAD_JOB, "boot.path: must be /tmp/<dir>/<name>%s%s", why ? ": " : "", why ? why : "");
  cleanup_free unsigned char *content = NULL;
  size_t content_len = 0;
  if (base64_decode(json_string_value(c), json_string_length(c), &content, &content_len) < 0)
    return agent_err(err, ERR_BAD_JOB, "boot.content_b64: invalid base64");
  char dir[RC_MAX_PATH_BYTES + 8];
  snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  // SECURITY: a new directory (EEXIST is a failure) and O_EXCL|O_NOFOLLOW: nothing planted is
  // followed or reused; 0711 and 0444: the program can read the file but not list, change or remove it.
  if (mkdir(dir, 0711) < 0) return agent_err_errno(err, ERR_INTERNAL, "boot: mkdir %s", dir);
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) return agent_err_errno(err, ERR_INTERNAL, "boot: open %s", dir);
  cleanup_close int fd = openat(dfd, slash + 1, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0444);
  if (fd < 0 || write_all(fd, content, content_len) < 0 || fchmod(dfd, 0711) < 0)
    return agent_err_errno(err, ERR_INTERNAL, "boot: write %s", path);
  return 0;
}

static int make_fds(struct prestart *p, int child[4], char *why, size_t why_len) {
  int pin[2], pout[2], perr[2], ctl[2];
  if (pipe2(pin, O_CLOEXEC) < 0) goto fail;
  p->in = pin[1], child[0] = pin[0];
  if (pipe2(pout, O_CLOEXEC) < 0) goto fail;
  p->out = pout[0], child[1] = pout[1];
  if (pipe2(perr, O_CLOEXEC) < 0) goto fail;
  p->err = perr[0], child[2] = perr[1];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0) goto fail;
  p->control = ctl[0], child[3] = ctl[1];
  /* One end per pipe: both ends share the inode. Programs open /dev/stdin, /dev/stdout by path. */
  if (privilege_give_to_program(child[0]) < 0 || privilege_give_to_program(child[1]) < 0 || privilege_give_to_program(child[2]) < 0)
    goto fail;
  return 0;
fail:
  snprintf(why, why_len, "descriptors: %s", strerror(errno));
  return -1;
}

/* Waits for the ready byte on fd 3, the interpreter's death or the timeout. */
static int wait_ready(struct prestart *p, int sigfd, char *why, size_t why_len) {
  int64_t deadline = mono_ns() + (int64_t)p->stage.timeout_ms * NS_PER_MS;
  for (;;) {
    int64_t left = (deadline - mono_ns()) / NS_PER_MS;
    if (left <= 0) return snprintf(why, why_len, "not ready within %llu ms", (unsigned long long)p->stage.timeout_ms), -1;
    struct pollfd fds[2] = {{.fd = p->control, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
    if (poll(fds, 2, (int)left) < 0 && errno != EINTR) return snprintf(why, why_len, "poll: %s", strerror(errno)), -1;
    if (fds[0].revents) {
      char byte = 0;
      ssize_t n = read(p->control, &byte, 1);
      if (n == 1 && byte == 'R') return 0;
      return snprintf(why, why_len, "the interpreter ended before it was ready"), -1;
    }
    if (fds[1].revents) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof si) > 0) {
      }
      if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
        p->pid = 0;
        return snprintf(why, why_len, "the interpreter exited before it was ready"), -1;
      }
    }
  }
}

int prestart_start(json_t *doc, int sigfd, struct prestart *p, char *why, size_t why_len, struct agent_error *err) {
  p->doc = doc;
  why[0] = '\0';
  json_t *stages = json_object_get(doc, "stages");
  if (!json_is_array(stages) || json_array_size(stages) != 1) return agent_err(err, ERR_BAD_JOB, "stages: must hold exactly one stage");
  if (job_parse_stages(stages, &p->stage, &p->n_stages, err) < 0) return -1;
  struct agent_error boot_err = {0};
  if (write_boot(doc, &boot_err) < 0) {
    if (strcmp(boot_err.code, ERR_BAD_JOB) == 0) return agent_err(err, ERR_BAD_JOB, "%s", boot_err.message);
    snprintf(why, why_len, "%s", boot_err.message);
    return 0;
  }
  int child[4] = {-1, -1, -1, -1};
  int rc = make_fds(p, child, why, why_len);
  if (rc == 0) {
    p->pid = fork();
    if (p->pid == 0) stage_child_exec(&p->stage, child, child[3], NULL);
    if (p->pid < 0) {
      p->pid = 0;
      snprintf(why, why_len, "fork: %s", strerror(errno));
      rc = -1;
    }
  }
  for (int i = 0; i < 4; i++) close_fd(&child[i]);
  if (rc == 0) rc = wait_ready(p, sigfd, why, why_len);
  if (rc < 0) prestart_stop(p);
  return 0;
}

static bool same_strv(char *const *a, char *const *b) {
  for (; *a != NULL && *b != NULL; a++, b++)
    if (strcmp(*a, *b) != 0) return false;
  return *a == NULL && *b == NULL;
}

bool prestart_fits(const struct prestart *p, const struct job_stage *st) {
  const struct job_stage *s = &p->stage;
  const struct job_rlimits *a = &s->rlimits, *b = &st->rlimits;
  return p->pid > 0 && strcmp(s->argv[0], st->argv[0]) == 0 && same_strv(s->env, st->env) && strcmp(s->cwd, st->cwd) == 0 &&
         a->nofile == b->nofile && a->fsize_bytes == b->fsize_bytes && a->stack_bytes == b->stack_bytes &&
         b->cpu_s != 0 && b->cpu_s <= a->cpu_s;
}

int prestart_hand_over(struct prestart *p, char *const *argv) {
  int rc = 0;
  for (char *const *a = argv; *a != NULL && rc == 0; a++) rc = write_all(p->control, *a, strlen(*a) + 1);
  close_fd(&p->control); /* EOF: the whole argv is there */
  if (rc < 0) prestart_stop(p); /* EPIPE: it died while waiting */
  return rc;
}

void prestart_stop(struct prestart *p) {
  if (p->pid > 0) {
    // SECURITY: the interpreter's whole process group (it is its session's leader).
    kill(-p->pid, SIGKILL);
    kill(p->pid, SIGKILL);
    while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    p->pid = 0;
  }
  close_fd(&p->control);
  close_fd(&p->in);
  close_fd(&p->out);
  close_fd(&p->err);
}

void prestart_free(struct prestart *p) {
  prestart_stop(p);
  if (p->n_stages > 0) job_stages_free(&p->stage, p->n_stages);
  p->n_stages = 0;
  json_decref(p->doc);
  p->doc = NULL;
}
