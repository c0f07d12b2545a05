/* Shared helpers: error values and cleanup-attribute owners.
 * Convention: a function that can fail returns < 0 and fills *err (see agent/README.md). */
#ifndef RC_UTIL_H
#define RC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* Error codes, as sent in the "code" field of an error frame. */
#define ERR_BAD_FRAME "bad_frame"
#define ERR_BAD_JOB "bad_job"
#define ERR_FILE_WRITE "file_write"
#define ERR_INTERNAL "internal"
/* Version 2 (session) error codes. */
#define ERR_BAD_REQUEST "bad_request"
#define ERR_BAD_PATH "bad_path"
#define ERR_NOT_FOUND "not_found"
#define ERR_EXISTS "exists"
#define ERR_IS_DIR "is_dir"
#define ERR_NOT_DIR "not_dir"
#define ERR_SYMLINK "symlink"
#define ERR_TOO_LARGE "too_large"
#define ERR_NO_SUCH_EXEC "no_such_exec"

struct agent_error {
  const char *code; /* one of ERR_*; NULL while no error */
  char message[512];
};

/* Fill *err (first error wins) and return -1. */
int agent_err(struct agent_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like agent_err, appending ": strerror(errno)". */
int agent_err_errno(struct agent_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write all of buf, retrying on EINTR/EAGAIN/partial writes. Returns 0 or -1 (errno set). */
int write_all(int fd, const void *buf, size_t len);
/* Read exactly len bytes. Returns len, fewer on EOF, or -1 (errno set). */
ssize_t read_full(int fd, void *buf, size_t len);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t mono_ns(void);
/* Closes *fd if open and marks it closed (-1). */
void close_fd(int *fd);

static inline void cleanup_freep(void *p) { free(*(void **)p); }
static inline void cleanup_closep(int *fd) {
  if (*fd >= 0) close(*fd);
}
#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))

static inline void *steal_ptr(void *pp) {
  void **p = pp;
  void *v = *p;
  *p = NULL;
  return v;
}
static inline int steal_fd(int *fd) {
  int v = *fd;
  *fd = -1;
  return v;
}

#endif
