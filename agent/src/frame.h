#ifndef RC_FRAME_H
#define RC_FRAME_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Read one frame (4-byte big-endian length + payload). Length 0, length > max, EOF or a short
 * payload are bad_frame errors. On success *buf is malloc'd (NUL-terminated) and *len set. */
int frame_read(int fd, size_t max, char **buf, size_t *len, struct agent_error *err);
/* Write one frame; len must be 1..max (else internal error). */
int frame_write(int fd, const char *buf, size_t len, size_t max, struct agent_error *err);

/* Incremental reader for an event loop: fill it when the fd is readable, then take whole frames. */
struct frame_reader {
  char *buf;
  size_t len, cap, max;
};

void frame_reader_init(struct frame_reader *r, size_t max);
void frame_reader_free(struct frame_reader *r);
/* One read() of what the fd has: 1 when bytes came, 0 at end of input, -1 on an error. */
int frame_reader_fill(struct frame_reader *r, int fd, struct agent_error *err);
/* Takes the next complete frame: 1 with *buf (malloc'd, NUL-terminated) and *len, 0 when none is
 * complete yet, -1 (bad_frame) on a length of 0 or above max. */
int frame_reader_next(struct frame_reader *r, char **buf, size_t *len, struct agent_error *err);
/* Whether a frame was cut short (bytes left over at end of input). */
bool frame_reader_partial(const struct frame_reader *r);

#endif
