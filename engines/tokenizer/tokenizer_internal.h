/* Private to engines/tokenizer: what the files of the two tokenizer kinds share. Layers:
 * tokenizer.c (by kind) -> llama2c_tokenizer.c, bpe_tokenizer.c (-> pretokenizer.c) -> vocab.c,
 * merge.c. */
#ifndef ENGINES_TOKENIZER_TOKENIZER_INTERNAL_H_
#define ENGINES_TOKENIZER_TOKENIZER_INTERNAL_H_

#include "engine/tokenizer.h"

/* Little-endian fields of the tokenizer files, read from any alignment. */
static inline uint32_t em_read_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline int32_t em_read_i32(const uint8_t *p) { return (int32_t)em_read_u32(p); }
static inline float em_read_f32(const uint8_t *p) {
  uint32_t u = em_read_u32(p);
  float f;
  __builtin_memcpy(&f, &u, sizeof f);
  return f;
}

/* vocab.c: sorts ids by (piece bytes, id); heapsort (in place, O(n log n), no recursion) of
 * ids by a total order less(ctx, a, b) < 0, which the first uses. */
void em_tokenizer_sort_ids(const em_tokenizer *tok, int32_t *ids, int n);
typedef int (*em_compare_fn)(const void *ctx, int32_t a, int32_t b);
void em_heapsort(int32_t *ids, int n, em_compare_fn compare, const void *ctx);

/* merge.c: merges adjacent pairs of tokens[0..n) until none is left, the best first: pair()
 * gives the id two tokens merge into (or -1) and its priority (higher first; equal: the
 * leftmost pair). Scratch of 24 bytes a token comes from the top of tok->arena when set (and
 * is given back); without it, or when it is short, the quadratic loop. Returns the new count. */
typedef int (*em_merge_pair_fn)(em_tokenizer *tok, int left, int right, float *priority);
int em_merge_pairs(em_tokenizer *tok, int *tokens, int n, em_merge_pair_fn pair);

/* llama2c_tokenizer.c: encode and decode of tokenizer.bin. */
em_status em_llama2c_encode(em_tokenizer *tok, const char *text, bool bos, bool eos, int *tokens,
                            int capacity, int *n_tokens);
const char *em_llama2c_decode(const em_tokenizer *tok, int prev, int token, int *len);

/* bpe_tokenizer.c: encode and decode of the byte-level BPE. */
em_status em_bpe_encode(em_tokenizer *tok, const char *text, bool bos, bool eos, int *tokens,
                        int capacity, int *n_tokens);
const char *em_bpe_decode(const em_tokenizer *tok, int prev, int token, int *len);

/* pretokenizer.c: the end of the pre-tokenizer's chunk that starts at text[0] (the end of
 * the text for EM_PRETOK_SENTENCEPIECE and EM_PRETOK_NONE); the byte length of the code point
 * at p (1 for a byte that does not start valid UTF-8; 0 at the NUL). */
const char *em_bpe_split_chunk(const char *text, em_pretokenizer pretok);
int em_bpe_char_length(const char *p);

/* llama2c_tokenizer.c: the byte a "<0xXX>" piece stands for, or -1 for any other piece. */
int em_byte_of_piece(const char *p, int len);

#endif /* ENGINES_TOKENIZER_TOKENIZER_INTERNAL_H_ */
