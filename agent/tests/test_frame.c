#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "tap.h"

/* Feed raw bytes through a pipe, then read a frame with the given limit. */
static int read_bytes(const void *bytes, size_t n, size_t max, char **buf, size_t *len, struct agent_error *err) {
  int p[2];
  if (pipe(p) < 0) return -2;
  if (write_all(p[1], bytes, n) < 0) return -2;
  close(p[1]);
  int rc = frame_read(p[0], max, buf, len, err);
  close(p[0]);
  return rc;
}

static int expect_bad(const void *bytes, size_t n, size_t max) {
  char *buf = NULL;
  size_t len;
  struct agent_error err = {0};
  int rc = read_bytes(bytes, n, max, &buf, &len, &err);
  free(buf);
  return rc == -1 && err.code && strcmp(err.code, ERR_BAD_FRAME) == 0;
}

int main(void) {
  char *buf = NULL;
  size_t len = 0;
  struct agent_error err = {0};
  tap_ok(read_bytes("\0\0\0\x02{}", 6, 100, &buf, &len, &err) == 0 && len == 2 && strcmp(buf, "{}") == 0,
         "reads a 2-byte frame");
  free(buf);
  tap_ok(read_bytes("\0\0\0\x0a" "0123456789", 14, 10, &buf, &len, &err) == 0 && len == 10, "length == limit ok");
  free(buf);
  tap_ok(expect_bad("\0\0\0\0", 4, 100), "length 0 is bad_frame");
  tap_ok(expect_bad("\0\0\0\x0b" "0123456789x", 15, 10), "length > limit is bad_frame");
  tap_ok(expect_bad("\x7f\xff\xff\xff", 4, 67108864), "huge length is bad_frame");
  tap_ok(expect_bad("\0\0\0\x05" "abc", 7, 100), "truncated payload is bad_frame");
  tap_ok(expect_bad("\0\0", 2, 100), "truncated header is bad_frame");
  tap_ok(expect_bad("", 0, 100), "empty input is bad_frame");

  int p[2];
  if (pipe(p) < 0) return 1;
  struct agent_error werr = {0};
  int rc = frame_write(p[1], "hello", 5, 100, &werr);
  close(p[1]);
  tap_ok(rc == 0 && frame_read(p[0], 100, &buf, &len, &err) == 0 && len == 5 && memcmp(buf, "hello", 5) == 0,
         "write/read round trip");
  free(buf);
  close(p[0]);
  tap_ok(frame_write(1, "x", 1, 0, &werr) < 0, "oversize write refused");
  return tap_done();
}
