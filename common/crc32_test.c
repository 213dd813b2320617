// Host unit test for common/crc32: known values of the IEEE CRC-32 (as zlib.crc32 gives them).
#include "common/crc32.h"

#include <stdio.h>
#include <string.h>

int main(void) {
  int failed = 0;
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
    if (got != cases[i].want) {
      printf("FAIL crc32(\"%s\") = %08x, want %08x\n", cases[i].text, got, cases[i].want);
      failed++;
    }
  }
  // Incremental: split anywhere, same result.
  const char *text = "The quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= strlen(text); cut++) {
    uint32_t crc = crc32_update(crc32_update(0, text, cut), text + cut, strlen(text) - cut);
    if (crc != 0x414fa339u) {
      printf("FAIL split at %zu\n", cut);
      failed++;
    }
  }
  printf("%d failed\n", failed);
  return failed != 0;
}
