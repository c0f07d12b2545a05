#include "output.h"

#include <stdlib.h>
#include <string.h>

void outbuf_init(struct outbuf *b, size_t limit) { *b = (struct outbuf){.limit = limit}; }

static int outbuf_reserve(struct outbuf *b, size_t need) {
  if (need <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < need) cap *= 2;
  if (cap > b->limit) cap = b->limit;
  char *p = realloc(b->data, cap);
  if (p == NULL) return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

int outbuf_append(struct outbuf *b, const char *data, size_t n) {
  size_t room = b->limit - b->len;
  if (n > room) {
    b->truncated = true;
    n = room;
  }
  if (n == 0) return 0;
  if (outbuf_reserve(b, b->len + n) < 0) return -1;
  memcpy(b->data + b->len, data, n);
  b->len += n;
  return 0;
}

void outbuf_free(struct outbuf *b) {
  free(b->data);
  *b = (struct outbuf){0};
}
