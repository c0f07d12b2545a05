/* Minimal TAP helpers: ok N - name / not ok N - name, then "1..N" and "# P passed, F failed". */
#ifndef RC_TAP_H
#define RC_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;
#define TAP_FN static __attribute__((unused))

TAP_FN __attribute__((format(printf, 2, 3))) int tap_ok(int cond, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
  vprintf(fmt, ap);
  putchar('\n');
  va_end(ap);
  if (!cond) tap_failed++;
  fflush(stdout);
  return cond;
}

TAP_FN __attribute__((format(printf, 1, 2))) void tap_diag(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("# ", stdout);
  vprintf(fmt, ap);
  putchar('\n');
  va_end(ap);
}

TAP_FN int tap_done(void) {
  printf("1..%d\n# %d passed, %d failed\n", tap_n, tap_n - tap_failed, tap_failed);
  return tap_failed ? 1 : 0;
}

#endif
