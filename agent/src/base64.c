#include "base64.h"

#include <stdint.h>
#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t len) { return (len + 2) / 3 * 4; }

char *base64_encode(const unsigned char *data, size_t len) {
  char *out = malloc(base64_encoded_len(len) + 1);
  if (out == NULL) return NULL;
  char *o = out;
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
    *o++ = alphabet[v >> 18 & 63];
    *o++ = alphabet[v >> 12 & 63];
    *o++ = alphabet[v >> 6 & 63];
    *o++ = alphabet[v & 63];
  }
  if (i < len) {
    uint32_t v = (uint32_t)data[i] << 16;
    if (i + 1 < len) v |= (uint32_t)data[i + 1] << 8;
    *o++ = alphabet[v >> 18 & 63];
    *o++ = alphabet[v >> 12 & 63];
    *o++ = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
    *o++ = '=';
  }
  *o = '\0';
  return out;
}

static int decode_char(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* Decode one 4-char group; pad = number of trailing '=' allowed (only in the last group). */
static int decode_group(const char *g, int last, unsigned char *o, size_t *n) {
  int pad = (g[3] == '=') + (g[3] == '=' && g[2] == '=');
  if (pad > 0 && !last) return -1;
  int v[4] = {0, 0, 0, 0};
  for (int k = 0; k < 4 - pad; k++)
    if ((v[k] = decode_char(g[k])) < 0) return -1;
  uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
  /* Reject non-canonical encodings (non-zero bits under the padding). */
  if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff))) return -1;
  o[0] = (unsigned char)(w >> 16);
  o[1] = (unsigned char)(w >> 8);
  o[2] = (unsigned char)w;
  *n = (size_t)(3 - pad);
  return 0;
}

int base64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len) {
  if (len % 4 != 0) return -1;
  unsigned char *buf = malloc(len / 4 * 3 + 1);
  if (buf == NULL) return -2;
  size_t total = 0;
  for (size_t i = 0; i < len; i += 4) {
    size_t n;
    if (decode_group(in + i, i + 4 == len, buf + total, &n) < 0) {
      free(buf);
      return -1;
    }
    total += n;
  }
  *out = buf;
  *out_len = total;
  return 0;
}
