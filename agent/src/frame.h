#ifndef RC_FRAME_H
#define RC_FRAME_H

#include <stddef.h>

#include "util.h"

/* Read one frame (4-byte big-endian length + payload). Length 0, length > max, EOF or a short
 * payload are bad_frame errors. On success *buf is malloc'd (NUL-terminated) and *len set. */
int frame_read(int fd, size_t max, char **buf, size_t *len, struct agent_error *err);
/* Write one frame; len must be 1..max (else internal error). */
int frame_write(int fd, const char *buf, size_t len, size_t max, struct agent_error *err);

#endif
