/* Fuzz target: the encoders on arbitrary text (bytes up to the first NUL). nanochat's BPE
 * (a tokenizer built here: 256 bytes, a few merges, nanochat's split pattern) must be
 * lossless: the decoded tokens give back exactly the input bytes (else abort). The llama2.c
 * encoder (a built-in vocabulary of <unk> <s> </s>, the byte tokens and some words) runs on
 * the same text. Returns 1 always. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer.h"

static const char kPattern[] =
    "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,2}| "
    "?[^\\s\\p{L}\\p{N}]++[\\r\\n]*"
    "|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
static const char *const kMerges[] = {"th",       "he", "the", " t",  " the", "in",
                                      "ing",      "er", " a",  "12",  "  ",   "\n\n",
                                      "\xc3\xa9", "'s", "or",  "wor", "world"};

static uint8_t bpe_bytes[8192], llama_bytes[16384];
static uint8_t arena_mem[1 << 20] __attribute__((aligned(64)));
static em_tokenizer bpe, llama;
static int ready;

static size_t put_u32(uint8_t *p, size_t at, uint32_t v) {
  for (int i = 0; i < 4; i++) p[at + i] = (uint8_t)(v >> (8 * i));
  return at + 4;
}

static size_t put_bytes(uint8_t *p, size_t at, const void *s, size_t n) {
  memcpy(p + at, s, n);
  return at + n;
}

static void build(void) {
  size_t n_merges = sizeof kMerges / sizeof kMerges[0], at = 0;
  at = put_u32(bpe_bytes, at, (uint32_t)(256 + n_merges));
  for (int b = 0; b < 256; b++) {
    uint8_t c = (uint8_t)b;
    at = put_bytes(bpe_bytes, put_u32(bpe_bytes, at, 1), &c, 1);
  }
  for (size_t i = 0; i < n_merges; i++)
    at = put_bytes(bpe_bytes, put_u32(bpe_bytes, at, (uint32_t)strlen(kMerges[i])), kMerges[i],
                   strlen(kMerges[i]));
  at = put_bytes(bpe_bytes, put_u32(bpe_bytes, at, sizeof kPattern - 1), kPattern,
                 sizeof kPattern - 1);
  at = put_u32(bpe_bytes, at, 1);
  at = put_u32(bpe_bytes, at, (uint32_t)(256 + n_merges));
  at = put_bytes(bpe_bytes, put_u32(bpe_bytes, at, 7), "<|bos|>", 7);
  em_arena arena;
  em_arena_init(&arena, arena_mem, sizeof arena_mem);
  const char *msg;
  if (em_tokenizer_load_bpe(&bpe, bpe_bytes, at, (int)(257 + n_merges), &arena, &msg) != EM_OK)
    abort();

  size_t l = put_u32(llama_bytes, 0, 16);
  static const char *const kFixed[] = {"<unk>", "\n<s>\n", "\n</s>\n"};
  float score = 0.0f;
  for (int i = 0; i < 3; i++) {
    l = put_bytes(llama_bytes, l, &score, 4);
    l = put_bytes(llama_bytes, put_u32(llama_bytes, l, (uint32_t)strlen(kFixed[i])), kFixed[i],
                  strlen(kFixed[i]));
  }
  for (int b = 0; b < 256; b++) {
    static const char hex[] = "0123456789ABCDEF";
    char piece[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
    l = put_bytes(llama_bytes, l, &score, 4);
    l = put_bytes(llama_bytes, put_u32(llama_bytes, l, 6), piece, 6);
  }
  for (size_t i = 0; i < n_merges; i++) {
    score = (float)(n_merges - i);
    l = put_bytes(llama_bytes, l, &score, 4);
    l = put_bytes(llama_bytes, put_u32(llama_bytes, l, (uint32_t)strlen(kMerges[i])), kMerges[i],
                  strlen(kMerges[i]));
  }
  if (em_tokenizer_load(&llama, llama_bytes, l, -1, &arena, &msg) != EM_OK) abort();
  ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!ready) build();
  char *text = malloc(size + 1);
  int *ids = malloc((size + 3) * sizeof(int));
  char *back = malloc(size + 1);
  if (!text || !ids || !back) abort();
  memcpy(text, data, size);
  text[size] = 0;
  size_t len = strlen(text);
  int n;
  if (em_tokenizer_encode(&bpe, text, false, false, ids, (int)len + 3, &n) != EM_OK) abort();
  size_t at = 0;
  for (int i = 0; i < n; i++) {
    int piece_len;
    const char *piece = em_tokenizer_decode(&bpe, 0, ids[i], &piece_len);
    if (at + (size_t)piece_len > len) abort(); /* more bytes than the input */
    memcpy(back + at, piece, (size_t)piece_len);
    at += (size_t)piece_len;
  }
  if (at != len || memcmp(back, text, len) != 0) abort(); /* not lossless */
  (void)em_tokenizer_encode(&llama, text, true, true, ids, (int)len + 3, &n);
  free(text);
  free(ids);
  free(back);
  return 1;
}
