#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int verr(struct agent_error *err, const char *code, int errnum, const char *fmt, va_list ap) {
  if (err == NULL || err->code != NULL) return -1;
  err->code = code;
  int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
  if (errnum != 0 && n >= 0 && (size_t)n < sizeof err->message)
    snprintf(err->message + n, sizeof err->message - (size_t)n, ": %s", strerror(errnum));
  return -1;
}

int agent_err(struct agent_error *err, const char *code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  verr(err, code, 0, fmt, ap);
  va_end(ap);
  return -1;
}

int agent_err_errno(struct agent_error *err, const char *code, const char *fmt, ...) {
  int saved = errno;
  va_list ap;
  va_start(ap, fmt);
  verr(err, code, saved, fmt, ap);
  va_end(ap);
  errno = saved;
  return -1;
}

/* Wait until fd is writable (used when a caller hands us a non-blocking fd). */
static void wait_for(int fd, short events) {
  struct pollfd p = {.fd = fd, .events = events};
  (void)poll(&p, 1, -1);
}

int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        wait_for(fd, POLLOUT);
        continue;
      }
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

ssize_t read_full(int fd, void *buf, size_t len) {
  char *p = buf;
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, p + got, len - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        wait_for(fd, POLLIN);
        continue;
      }
      return -1;
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  return (ssize_t)got;
}

int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}
