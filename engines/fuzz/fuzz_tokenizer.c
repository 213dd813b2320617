/* Fuzz target: the tokenizer loaders. Byte 0 picks the kind (mod 3: 0 llama2.c tokenizer.bin,
 * 1 nanochat BPE payload, 2 Hugging Face BPE payload, container kind 3), bytes 1-2 the vocabulary
 * size (little-endian; 0 = llama2.c's "read to the end"), the rest is the tokenizer. A loaded
 * tokenizer encodes a fixed text and decodes what it produced. Returns 1 when it loaded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer.h"

static uint8_t arena_mem[8 << 20] __attribute__((aligned(64)));

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  int kind = data[0] % 3, vocab = data[1] | data[2] << 8;
  em_arena arena;
  em_arena_init(&arena, arena_mem, sizeof arena_mem);
  em_tokenizer tok;
  const char *msg;
  em_status s =
      kind == 2   ? em_tokenizer_load_hf(&tok, data + 3, size - 3, vocab ? vocab : 1, &arena, &msg)
      : kind == 1 ? em_tokenizer_load_bpe(&tok, data + 3, size - 3, vocab ? vocab : 1, &arena, &msg)
                  : em_tokenizer_load(&tok, data + 3, size - 3, vocab ? vocab : -1, &arena, &msg);
  if (s != EM_OK) return 0;
  static const char text[] =
      "Hello, world! It's 12345 caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac  \r\n\tx \xff";
  int ids[sizeof text + 3], n;
  for (int pass = 0; pass < 2; pass++) { /* the quadratic merge loop, then the heap */
    tok.arena = pass ? &arena : NULL;
    if (em_tokenizer_encode(&tok, text, true, true, ids, (int)(sizeof text + 3), &n) == EM_OK) {
      for (int i = 0; i < n; i++) {
        int len;
        (void)em_tokenizer_decode(&tok, i ? ids[i - 1] : ids[0], ids[i], &len);
      }
    }
  }
  return 1;
}
