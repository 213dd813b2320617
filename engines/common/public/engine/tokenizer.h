/* llama2.c BPE tokenizer over its tokenizer.bin format, read in place:
 *   int32 max_token_length, then per token: float32 score, int32 length, `length` bytes.
 * Encoding follows llama2.c: optional BOS, a dummy-prefix " " token for non-empty text,
 * one token per UTF-8 code point (byte-fallback tokens <0xXX> when a code point is not in
 * the vocabulary), then repeated merges of the adjacent pair whose merged string has the
 * highest score. */
#ifndef ENGINE_TOKENIZER_H_
#define ENGINE_TOKENIZER_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/arena.h"
#include "engine/status.h"

typedef struct em_tokenizer {
  const uint8_t *data; /* the caller's tokenizer.bin bytes (not copied) */
  size_t size;
  int vocab_size;
  int max_token_length;    /* longest piece actually present */
  uint32_t *entry_offset;  /* (vocab) byte offset of each token's score field in data */
  int32_t *sorted_ids;     /* (vocab) ids sorted by piece bytes, for lookup */
  int32_t byte_token[256]; /* id of <0xXX> for each byte, or -1 */
  char byte_char[256];     /* byte_char[b] == b: what a <0xXX> token decodes to */
  char *merge_buffer;      /* (2 * max_token_length) scratch for encode */
  int bos_id, eos_id;      /* 1 and 2, as in llama2.c */
} em_tokenizer;

/* Loads a tokenizer.bin in place. vocab_size > 0 reads exactly that many tokens (llama2.c
 * takes it from the model); vocab_size <= 0 reads tokens until the end of the buffer.
 * Needs about 8 bytes per token from the arena. On error *msg says what is wrong. */
em_status em_tokenizer_load(em_tokenizer *tok, const void *bytes, size_t size, int vocab_size,
                            em_arena *arena, const char **msg);

/* The bytes of a token's piece (not NUL-terminated); *len receives the length. */
const char *em_tokenizer_piece(const em_tokenizer *tok, int id, int *len);

/* The merge score of a token. */
float em_tokenizer_score(const em_tokenizer *tok, int id);

/* Token id whose piece is exactly str[0..len), or -1. */
int em_tokenizer_lookup(const em_tokenizer *tok, const char *str, int len);

/* Encodes NUL-terminated text into tokens[0..*n_tokens). Needs capacity for
 * strlen(text) + 3 tokens in the worst case; returns EM_ERR_FULL if `capacity` is short. */
em_status em_tokenizer_encode(em_tokenizer *tok, const char *text, bool bos, bool eos, int *tokens,
                              int capacity, int *n_tokens);

/* The bytes to print for `token` following `prev`: byte tokens become their byte, and the
 * leading space of a piece right after BOS is dropped. *len receives the length. */
const char *em_tokenizer_decode(const em_tokenizer *tok, int prev, int token, int *len);

/* Streams bytes to a putc callback, holding back an incomplete UTF-8 sequence until its
 * last byte arrives (a token may end in the middle of a character). Invalid sequences are
 * written as U+FFFD. */
typedef void (*em_putc_fn)(void *user, char c);
typedef struct em_utf8_stream {
  uint8_t pending[4];
  int have, need;
} em_utf8_stream;

void em_utf8_init(em_utf8_stream *s);
void em_utf8_write(em_utf8_stream *s, const char *bytes, int len, em_putc_fn putc, void *user);
/* Writes U+FFFD for a sequence left incomplete at the end of the stream. */
void em_utf8_flush(em_utf8_stream *s, em_putc_fn putc, void *user);

#endif /* ENGINE_TOKENIZER_H_ */
