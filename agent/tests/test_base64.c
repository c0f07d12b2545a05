#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "tap.h"

static int roundtrip(const unsigned char *data, size_t len) {
  char *enc = base64_encode(data, len);
  unsigned char *dec = NULL;
  size_t dlen = 0;
  int ok = enc && strlen(enc) == base64_encoded_len(len) && base64_decode(enc, strlen(enc), &dec, &dlen) == 0 &&
           dlen == len && memcmp(dec, data, len) == 0;
  free(enc);
  free(dec);
  return ok;
}

static int encodes(const char *in, const char *want) {
  char *enc = base64_encode((const unsigned char *)in, strlen(in));
  int ok = enc && strcmp(enc, want) == 0;
  free(enc);
  return ok;
}

static int invalid(const char *in) {
  unsigned char *out = NULL;
  size_t n;
  int rc = base64_decode(in, strlen(in), &out, &n);
  free(out);
  return rc == -1;
}

int main(void) {
  /* RFC 4648 test vectors */
  const char *v[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
                        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) tap_ok(encodes(v[i][0], v[i][1]), "encode \"%s\"", v[i][0]);
  unsigned char all[256];
  for (int i = 0; i < 256; i++) all[i] = (unsigned char)i;
  for (size_t n = 0; n <= 5; n++) tap_ok(roundtrip(all + 250, n), "round trip %zu bytes", n);
  tap_ok(roundtrip(all, sizeof all), "round trip all byte values");
  const char *bad[] = {"Zg", "Zg=", "Z===", "Zm9v!A==", "Zg==Zg==", "Zh==", "Zm9=", "Zm 9v", "=Zm9"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) tap_ok(invalid(bad[i]), "rejects \"%s\"", bad[i]);
  return tap_done();
}
