#ifndef RC_BASE64_H
#define RC_BASE64_H

#include <stddef.h>

/* Standard alphabet, '=' padding. */
size_t base64_encoded_len(size_t len);
/* Returns a malloc'd NUL-terminated string, or NULL on allocation failure. */
char *base64_encode(const unsigned char *data, size_t len);
/* Strict decode (length multiple of 4, padding only at the end, no whitespace).
 * Returns 0 and a malloc'd buffer (*out, *out_len; never NULL on success),
 * -1 on invalid input, -2 on allocation failure. */
int base64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len);

#endif
