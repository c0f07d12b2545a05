#ifndef RC_OUTPUT_H
#define RC_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

/* A capped byte buffer: keeps the first `limit` bytes, drops the rest and sets `truncated`. */
struct outbuf {
  char *data;
  size_t len, cap, limit;
  bool truncated;
};

void outbuf_init(struct outbuf *b, size_t limit);
/* Returns 0, or -1 on allocation failure. */
int outbuf_append(struct outbuf *b, const char *data, size_t n);
void outbuf_free(struct outbuf *b);

#endif
