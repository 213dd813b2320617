/* The tokenizer calls that depend on the kind (llama2c_tokenizer.c, bpe_tokenizer.c), and
 * UTF-8 streaming of decoded pieces. */
#include "engine/tokenizer.h"

#include "engines/tokenizer/tokenizer_internal.h"

em_status em_tokenizer_encode(em_tokenizer *tok, const char *text, bool bos, bool eos, int *tokens,
                              int capacity, int *n_tokens) {
  if (tok->kind == EM_TOKENIZER_BPE)
    return em_bpe_encode(tok, text, bos, eos, tokens, capacity, n_tokens);
  return em_llama2c_encode(tok, text, bos, eos, tokens, capacity, n_tokens);
}

const char *em_tokenizer_decode(const em_tokenizer *tok, int prev, int token, int *len) {
  if (tok->kind == EM_TOKENIZER_BPE) return em_bpe_decode(tok, token, len);
  return em_llama2c_decode(tok, prev, token, len);
}

/* ---- UTF-8 streaming ---- */

void em_utf8_init(em_utf8_stream *s) {
  s->have = 0;
  s->need = 0;
}

static void put_replacement(em_putc_fn putc, void *user) {
  putc(user, (char)0xEF);
  putc(user, (char)0xBF);
  putc(user, (char)0xBD);
}

/* Length of the sequence a lead byte starts, or 0 if it cannot start one. */
static int utf8_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

/* Whether b may follow `lead` as its first continuation byte (no overlongs, surrogates,
 * or code points above U+10FFFF). */
static bool valid_second(uint8_t lead, uint8_t b) {
  if (lead == 0xE0) return b >= 0xA0 && b <= 0xBF;
  if (lead == 0xED) return b >= 0x80 && b <= 0x9F;
  if (lead == 0xF0) return b >= 0x90 && b <= 0xBF;
  if (lead == 0xF4) return b >= 0x80 && b <= 0x8F;
  return b >= 0x80 && b <= 0xBF;
}

void em_utf8_write(em_utf8_stream *s, const char *bytes, int len, em_putc_fn putc, void *user) {
  for (int i = 0; i < len; i++) {
    uint8_t b = (uint8_t)bytes[i];
    if (s->have > 0) {
      bool ok = s->have == 1 ? valid_second(s->pending[0], b) : (b & 0xC0) == 0x80;
      if (ok) {
        s->pending[s->have++] = b;
        if (s->have == s->need) {
          for (int k = 0; k < s->have; k++) putc(user, (char)s->pending[k]);
          s->have = 0;
        }
        continue;
      }
      put_replacement(putc, user); /* broken sequence; b starts afresh below */
      s->have = 0;
    }
    int need = utf8_length(b);
    if (need == 0)
      put_replacement(putc, user);
    else if (need == 1)
      putc(user, (char)b);
    else {
      s->pending[0] = b;
      s->have = 1;
      s->need = need;
    }
  }
}

void em_utf8_flush(em_utf8_stream *s, em_putc_fn putc, void *user) {
  if (s->have > 0) put_replacement(putc, user);
  s->have = 0;
}
