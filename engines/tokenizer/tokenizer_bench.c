/* Encoding cost against text length (a benchmark, not a test): a Hugging Face BPE tokenizer
 * built here (the 256 bytes, then 2000 merges of random adjacent pairs of a seeded
 * pseudo-random text over 16 letters, the way BPE training would make them) encodes one chunk
 * of N letters, the worst case: GPT-2's pattern keeps a run of letters in one chunk, and
 * SentencePiece never splits. tokenizer_bench.py runs it under callgrind for the instructions
 * of em_tokenizer_encode alone, at growing N, with the merge heap and with the quadratic loop.
 *   tokenizer_bench N [--plain]     (--plain: no arena, so the quadratic merge loop) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/arena.h"
#include "engine/tokenizer.h"

#define N_MERGES 2000

static uint32_t g_state = 15;

static uint32_t next_random(void) { /* xorshift32: the same text and merges on every run */
  g_state ^= g_state << 13;
  g_state ^= g_state >> 17;
  g_state ^= g_state << 5;
  return g_state;
}

static void put_u32(uint8_t **p, uint32_t v) {
  for (int i = 0; i < 4; i++) *(*p)++ = (uint8_t)(v >> (8 * i));
}

/* The payload: tokens are byte strings; merge m joins two earlier tokens into token 256 + m. */
static uint8_t *build_payload(size_t *size) {
  static char token[256 + N_MERGES][64];
  static int token_len[256 + N_MERGES], left[N_MERGES], right[N_MERGES];
  int n = 256;
  for (int b = 0; b < 256; b++) token[b][0] = (char)b, token_len[b] = 1;
  while (n < 256 + N_MERGES) { /* join two random tokens over the 16 letters a..p */
    int a = 'a' + (int)(next_random() % 16), b = 'a' + (int)(next_random() % 16);
    if (n > 256 + 16 && next_random() % 2) a = 256 + (int)(next_random() % (uint32_t)(n - 256));
    if (n > 256 + 16 && next_random() % 2) b = 256 + (int)(next_random() % (uint32_t)(n - 256));
    if (token_len[a] + token_len[b] > 48) continue;
    bool known = false; /* the joined bytes must be new */
    for (int t = 0; t < n && !known; t++)
      known = token_len[t] == token_len[a] + token_len[b] &&
              memcmp(token[t], token[a], (size_t)token_len[a]) == 0 &&
              memcmp(token[t] + token_len[a], token[b], (size_t)token_len[b]) == 0;
    if (known) continue;
    memcpy(token[n], token[a], (size_t)token_len[a]);
    memcpy(token[n] + token_len[a], token[b], (size_t)token_len[b]);
    token_len[n] = token_len[a] + token_len[b];
    left[n - 256] = a;
    right[n - 256] = b;
    n++;
  }
  uint8_t *payload = malloc(64 * (size_t)n + 12 * N_MERGES + 64), *p = payload;
  put_u32(&p, 1); /* GPT-2 */
  put_u32(&p, 0);
  put_u32(&p, (uint32_t)n);
  for (int t = 0; t < n; t++) {
    put_u32(&p, (uint32_t)token_len[t]);
    memcpy(p, token[t], (size_t)token_len[t]);
    p += token_len[t];
  }
  put_u32(&p, N_MERGES);
  for (int m = 0; m < N_MERGES; m++) {
    put_u32(&p, (uint32_t)left[m]);
    put_u32(&p, (uint32_t)right[m]);
    put_u32(&p, (uint32_t)(256 + m));
  }
  put_u32(&p, 0);
  *size = (size_t)(p - payload);
  return payload;
}

int main(int argc, char **argv) {
  if (argc < 2 || atoi(argv[1]) <= 0) {
    fprintf(stderr, "usage: tokenizer_bench N [--plain]\n");
    return 2;
  }
  int n = atoi(argv[1]);
  bool plain = argc > 2 && strcmp(argv[2], "--plain") == 0;
  size_t size, arena_size = 64u << 20;
  uint8_t *payload = build_payload(&size);
  em_arena arena;
  em_arena_init(&arena, malloc(arena_size), arena_size);
  em_tokenizer tok;
  const char *msg;
  if (em_tokenizer_load_hf(&tok, payload, size, 256 + N_MERGES, &arena, &msg) != EM_OK) {
    fprintf(stderr, "%s\n", msg);
    return 1;
  }
  tok.arena = plain ? NULL : &arena;
  char *text = malloc((size_t)n + 1);
  int *ids = malloc(((size_t)n + 3) * sizeof(int));
  for (int i = 0; i < n; i++) text[i] = (char)('a' + next_random() % 16);
  text[n] = 0;
  int count;
  if (em_tokenizer_encode(&tok, text, false, false, ids, n + 3, &count) != EM_OK) return 1;
  printf("%d bytes -> %d tokens\n", n, count);
  return 0;
}
