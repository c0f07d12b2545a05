/* Safe creation of submitted files: every component is opened relative to the previous one with
 * O_NOFOLLOW, so a symlink planted anywhere under workdir cannot redirect a write outside it. */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "privilege.h"

_Static_assert(sizeof(struct files_report) <= PIPE_BUF, "a report must be one atomic pipe write");

static int open_workdir(const char *workdir, struct agent_error *err) {
  if (mkdir(workdir, 0755) < 0 && errno != EEXIST) return agent_err_errno(err, ERR_FILE_WRITE, "mkdir %s", workdir);
  // SECURITY: O_NOFOLLOW: a symlink in the workdir's place is refused, never followed.
  int fd = open(workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return agent_err_errno(err, ERR_FILE_WRITE, "open workdir %s", workdir);
  return fd;
}

/* Open (creating if needed) directory `name` below dirfd without following symlinks. */
static int open_subdir(int dirfd, const char *name, const char *path, struct agent_error *err) {
  if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
    return agent_err_errno(err, ERR_FILE_WRITE, "%s: mkdir %s", path, name);
  // SECURITY: O_NOFOLLOW|O_DIRECTORY refuses a symlink (or non-directory) planted as a component.
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return agent_err_errno(err, ERR_FILE_WRITE, "%s: open directory %s", path, name);
  return fd;
}

static int write_leaf(int dirfd, const char *name, const struct job_file *f, struct agent_error *err) {
  mode_t mode = f->executable ? 0755 : 0644;
  // SECURITY: O_EXCL|O_NOFOLLOW: never overwrite or follow an existing entry.
  cleanup_close int fd = openat(dirfd, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0) return agent_err_errno(err, ERR_FILE_WRITE, "%s: create", f->path);
  if (write_all(fd, f->content, f->content_len) < 0) return agent_err_errno(err, ERR_FILE_WRITE, "%s: write", f->path);
  if (fchmod(fd, mode) < 0) return agent_err_errno(err, ERR_FILE_WRITE, "%s: chmod", f->path);
  return 0;
}

static int write_file(int root, const struct job_file *f, struct agent_error *err) {
  char buf[RC_MAX_PATH_BYTES + 1];
  snprintf(buf, sizeof buf, "%s", f->path); /* validated: <= 255 bytes, no NUL */
  cleanup_close int dir = dup(root);
  if (dir < 0) return agent_err_errno(err, ERR_FILE_WRITE, "%s: dup", f->path);
  char *comp = buf;
  for (char *slash; (slash = strchr(comp, '/')) != NULL; comp = slash + 1) {
    *slash = '\0';
    int next = open_subdir(dir, comp, f->path, err);
    if (next < 0) return -1;
    close(dir);
    dir = next;
  }
  return write_leaf(dir, comp, f, err);
}

int files_write_at(int root, const struct job_file *files, size_t n, struct agent_error *err) {
  for (size_t i = 0; i < n; i++)
    if (write_file(root, &files[i], err) < 0) return -1;
  return 0;
}

static int64_t thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0) return 0;
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void files_report_error(const struct stage_files *f, const struct agent_error *err) {
  struct files_report rep = {.err = *err};
  (void)write_all(f->report, &rep, sizeof rep);
}

void files_write_in_stage(const struct stage_files *f) {
  struct files_report rep = {0};
  int64_t t0 = mono_ns(), c0 = thread_cpu_ns();
  int rc = files_write_at(f->root, f->files, f->n, &rep.err);
  rep.write_ns = mono_ns() - t0;
  rep.cpu_ns = thread_cpu_ns() - c0;
  close(f->root);
  // One write of less than PIPE_BUF bytes: the agent reads all of it or nothing.
  if (write_all(f->report, &rep, sizeof rep) < 0) _exit(127);
  close(f->report);
  if (rc < 0) _exit(1);
}

/* The writing child: the program's ids, so the files are the program's and nothing is written
 * with more rights than the program has. Sends its agent_error (code points into this binary,
 * which the parent shares) on `report`; never returns. */
static __attribute__((noreturn)) void write_as_program(int root, const struct job *job, int report) {
  struct agent_error err = {0};
  if (privilege_drop_to_program() < 0) agent_err_errno(&err, ERR_INTERNAL, "dropping to the program's uid");
  else files_write_at(root, job->files, job->n_files, &err);
  if (write_all(report, &err, sizeof err) < 0) _exit(2);
  _exit(err.code == NULL ? 0 : 1);
}

static int write_in_child(int root, const struct job *job, struct agent_error *err) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) return agent_err_errno(err, ERR_INTERNAL, "pipe");
  pid_t pid = fork();
  if (pid < 0) {
    close(report[0]);
    close(report[1]);
    return agent_err_errno(err, ERR_INTERNAL, "fork");
  }
  if (pid == 0) write_as_program(root, job, report[1]);
  close(report[1]);
  struct agent_error child = {0};
  ssize_t n = read_full(report[0], &child, sizeof child);
  close(report[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != (ssize_t)sizeof child) return agent_err(err, ERR_INTERNAL, FILES_CHILD_DIED);
  if (child.code == NULL) return 0;
  child.message[sizeof child.message - 1] = '\0';
  return agent_err(err, child.code, "%s", child.message);
}

int files_open_workdir(const char *workdir, struct agent_error *err) {
  int root = open_workdir(workdir, err);
  if (root < 0 || !privilege_separated()) return root;
  // SECURITY: the working directory becomes the program's before any of its code exists (the
  // sandbox runs one job, or one session), through the descriptor just opened, so no path is followed.
  uid_t id = privilege_program_id();
  if (fchown(root, id, (gid_t)id) < 0) {
    close(root);
    return agent_err_errno(err, ERR_FILE_WRITE, "chown workdir %s", workdir);
  }
  return root;
}

int files_write_as_program(int root, const struct job *job, struct agent_error *err) {
  if (!privilege_separated()) return files_write_at(root, job->files, job->n_files, err);
  return write_in_child(root, job, err);
}
