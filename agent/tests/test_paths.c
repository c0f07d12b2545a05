#include <string.h>

#include "job.h"
#include "tap.h"

static int check(const char *p, size_t len) {
  const char *why = NULL;
  return path_validate(p, len, &why);
}
#define OK(p) tap_ok(check(p, strlen(p)) == 0, "accepts \"%s\"", p)
#define BAD(p) tap_ok(check(p, strlen(p)) < 0, "rejects \"%s\"", p)

int main(void) {
  OK("a");
  OK("a/b.c");
  OK("dir/sub/file.txt");
  OK("..a/b..");
  OK(".hidden");
  BAD("");
  BAD("/abs");
  BAD("..");
  BAD(".");
  BAD("a/../b");
  BAD("a/./b");
  BAD("a//b");
  BAD("./a");
  BAD("a/");
  BAD("a/..");
  tap_ok(check("a\0b", 3) < 0, "rejects embedded NUL");
  char longp[300];
  memset(longp, 'x', sizeof longp);
  tap_ok(check(longp, 255) == 0, "accepts 255 bytes");
  tap_ok(check(longp, 256) < 0, "rejects 256 bytes");
  const char *why = NULL;
  path_validate("a/../b", 6, &why);
  tap_ok(why && strcmp(why, "'..' is not allowed") == 0, "reason names '..'");
  return tap_done();
}
