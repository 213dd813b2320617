/* The tokenizer calls that depend on the kind (llama2c_tokenizer.c, bpe_tokenizer.c), and
 * UTF-8 streaming of decoded pieces. */
#include "engine/tokenizer.h"

#include "common/fmt.h"
#include "engines/tokenizer/tokenizer_internal.h"

em_status em_tokenizer_load_kind(em_tokenizer *tok, uint32_t kind, const void *bytes, size_t size,
                                 int vocab_size, em_arena *arena, const char **msg) {
  if (kind == 1) return em_tokenizer_load(tok, bytes, size, vocab_size, arena, msg);
  if (kind == 2) return em_tokenizer_load_bpe(tok, bytes, size, vocab_size, arena, msg);
  if (kind == 3) return em_tokenizer_load_hf(tok, bytes, size, vocab_size, arena, msg);
  *msg = "tokenizer: unknown kind (1 llama2.c, 2 nanochat, 3 Hugging Face BPE)";
  return EM_ERR_UNSUPPORTED;
}

em_status em_tokenizer_encode(em_tokenizer *tok, const char *text, bool bos, bool eos, int *tokens,
                              int capacity, int *n_tokens) {
  if (tok->kind == EM_TOKENIZER_BPE)
    return em_bpe_encode(tok, text, bos, eos, tokens, capacity, n_tokens);
  return em_llama2c_encode(tok, text, bos, eos, tokens, capacity, n_tokens);
}

const char *em_tokenizer_decode(const em_tokenizer *tok, int prev, int token, int *len) {
  if (tok->kind == EM_TOKENIZER_BPE) return em_bpe_decode(tok, prev, token, len);
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

void em_utf8_write(em_utf8_stream *s, const char *bytes, int len, em_putc_fn putc, void *user) {
  for (int i = 0; i < len; i++) {
    uint8_t b = (uint8_t)bytes[i];
    if (s->have > 0) {
      bool ok = s->have == 1 ? fmt_utf8_valid_second(s->pending[0], b) : (b & 0xC0) == 0x80;
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
    int need = fmt_utf8_length(b);
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
