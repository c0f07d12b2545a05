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

void frame_reader_init(struct frame_reader *r, size_t max) { *r = (struct frame_reader){.max = max}; }

void frame_reader_free(struct frame_reader *r) {
  free(r->buf);
  *r = (struct frame_reader){0};
}

static uint32_t header_length(const char *h) {
  const unsigned char *u = (const unsigned char *)h;
  return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

int frame_reader_fill(struct frame_reader *r, int fd, struct agent_error *err) {
  /* Room for the whole frame once its header is in (one big put arrives in few reads), else 64 KiB. */
  size_t want = r->len + 65536;
  if (r->len >= 4) {
    uint32_t n = header_length(r->buf);
    if (n > 0 && n <= r->max && 4 + (size_t)n > want) want = 4 + (size_t)n;
  }
  if (want > r->cap) {
    char *p = realloc(r->buf, want);
    if (p == NULL) return agent_err(err, ERR_INTERNAL, "out of memory for an incoming frame");
    r->buf = p;
    r->cap = want;
  }
  ssize_t n;
  do n = read(fd, r->buf + r->len, r->cap - r->len);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return 1;
  if (n < 0) return agent_err_errno(err, ERR_BAD_FRAME, "reading a frame");
  r->len += (size_t)n;
  return n > 0;
}

int frame_reader_next(struct frame_reader *r, char **buf, size_t *len, struct agent_error *err) {
  if (r->len < 4) return 0;
  uint32_t n = header_length(r->buf);
  if (n == 0) return agent_err(err, ERR_BAD_FRAME, "frame length 0");
  if (n > r->max) return agent_err(err, ERR_BAD_FRAME, "frame length %u exceeds limit %zu", n, r->max);
  if (r->len < 4 + (size_t)n) return 0;
  if (r->len == 4 + (size_t)n) { /* the usual case, and a big put's: hand the buffer over, no copy */
    memmove(r->buf, r->buf + 4, n);
    r->buf[n] = '\0';
    *buf = r->buf;
    *len = n;
    *r = (struct frame_reader){.max = r->max};
    return 1;
  }
  char *b = malloc((size_t)n + 1);
  if (b == NULL) return agent_err(err, ERR_INTERNAL, "out of memory for %u-byte frame", n);
  memcpy(b, r->buf + 4, n);
  b[n] = '\0';
  memmove(r->buf, r->buf + 4 + n, r->len - 4 - n);
  r->len -= 4 + (size_t)n;
  *buf = b;
  *len = n;
  return 1;
}

bool frame_reader_partial(const struct frame_reader *r) { return r->len > 0; }
