// Host unit test for common/crc32: known values of the IEEE CRC-32 (as zlib.crc32 gives them).
#include "common/crc32.h"

#include "common/check.h"

int main(void) {
  struct {
    const char *text;
    uint32_t want;
  } cases[] = {
      {"", 0x00000000u},
      {"a", 0xe8b7be43u},
      {"123456789", 0xcbf43926u},
      {"The quick brown fox jumps over the lazy dog", 0x414fa339u},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint32_t got = crc32_update(0, cases[i].text, strlen(cases[i].text));
    CHECKF(got == cases[i].want, "crc32(\"%s\") = %08x, want %08x", cases[i].text, got,
           cases[i].want);
  }
  // Incremental: split anywhere, same result.
  const char *text = "The quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= strlen(text); cut++) {
    uint32_t crc = crc32_update(crc32_update(0, text, cut), text + cut, strlen(text) - cut);
    CHECKF(crc == 0x414fa339u, "split at %zu", cut);
  }
  return finish();
}
