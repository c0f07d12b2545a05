#include "frame.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

static int read_header(int fd, uint32_t *len, struct agent_error *err) {
  unsigned char h[4];
  ssize_t n = read_full(fd, h, sizeof h);
  if (n < 0) return agent_err_errno(err, ERR_BAD_FRAME, "reading frame header");
  if (n != (ssize_t)sizeof h)
    return agent_err(err, ERR_BAD_FRAME, "unexpected end of input in frame header (%zd of 4 bytes)", n);
  *len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
  return 0;
}

int frame_read(int fd, size_t max, char **buf, size_t *len, struct agent_error *err) {
  uint32_t n = 0;
  if (read_header(fd, &n, err) < 0) return -1;
  if (n == 0) return agent_err(err, ERR_BAD_FRAME, "frame length 0");
  if (n > max) return agent_err(err, ERR_BAD_FRAME, "frame length %u exceeds limit %zu", n, max);
  cleanup_free char *b = malloc((size_t)n + 1);
  if (b == NULL) return agent_err(err, ERR_INTERNAL, "out of memory for %u-byte frame", n);
  ssize_t got = read_full(fd, b, n);
  if (got < 0) return agent_err_errno(err, ERR_BAD_FRAME, "reading frame payload");
  if ((size_t)got != n)
    return agent_err(err, ERR_BAD_FRAME, "truncated frame: got %zd of %u bytes", got, n);
  b[n] = '\0';
  *len = n;
  *buf = steal_ptr(&b);
  return 0;
}

int frame_write(int fd, const char *buf, size_t len, size_t max, struct agent_error *err) {
  if (len == 0 || len > max)
    return agent_err(err, ERR_INTERNAL, "outgoing frame of %zu bytes exceeds limit %zu", len, max);
  unsigned char h[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                        (unsigned char)(len >> 8), (unsigned char)len};
  if (write_all(fd, h, sizeof h) < 0 || write_all(fd, buf, len) < 0)
    return agent_err_errno(err, ERR_INTERNAL, "writing frame");
  return 0;
}
