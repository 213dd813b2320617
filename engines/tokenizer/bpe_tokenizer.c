/* The BPE payloads, read in place (engine/tokenizer.h): kind 2, nanochat's ranked tokens
 * (tiktoken's rule), and kind 3, a Hugging Face BPE with ranked merges (byte-level or
 * SentencePiece-style with byte fallback). The text is cut by pretokenizer.c.
 * Sections: payloads -> decode -> merges -> encode. */
#include "engine/tokenizer.h"
#include "engines/tokenizer/tokenizer_internal.h"

/* The split patterns this file implements (docs: engine/tokenizer.h). */
static const char kNanochatPattern[] =
    "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,2}| "
    "?[^\\s\\p{L}\\p{N}]++[\\r\\n]*"
    "|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
static const char kGpt4Pattern[] =
    "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]++[\\r\\n]*"
    "|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";

static bool same_text(const uint8_t *a, uint32_t a_len, const char *b) {
  uint32_t i = 0;
  for (; i < a_len; i++) {
    if (b[i] == 0 || (uint8_t)b[i] != a[i]) return false;
  }
  return b[i] == 0;
}

/* ---------------------------------------------------------------------------------------
 * Payload */

typedef struct cursor {
  const uint8_t *p;
  size_t size, off;
} cursor;

static bool take_u32(cursor *k, uint32_t *v) {
  if (k->size - k->off < 4) return false;
  *v = em_read_u32(k->p + k->off);
  k->off += 4;
  return true;
}

static bool skip(cursor *k, uint32_t n) {
  if (n > k->size - k->off) return false;
  k->off += n;
  return true;
}

static em_status fail(const char **msg, const char *text, em_status status) {
  *msg = text;
  return status;
}

static em_status check_arguments(const em_tokenizer *tok, const uint8_t *data, size_t size,
                                 int vocab_size, const em_arena *arena, const char **msg) {
  *msg = "ok";
  if (!tok || !data || !arena || vocab_size <= 0) return fail(msg, "bpe: bad argument", EM_ERR_ARG);
  if (size > 0xffffffffu) return fail(msg, "bpe: payload larger than 4 GiB", EM_ERR_OVERFLOW);
  return EM_OK;
}

/* Walks n {u32 length; bytes} token records; *longest receives the longest. */
static em_status take_tokens(cursor *k, uint32_t n, bool allow_empty, uint32_t *longest,
                             const char **msg) {
  uint32_t len;
  *longest = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (!take_u32(k, &len) || !skip(k, len))
      return fail(msg, "bpe: payload truncated in the tokens", EM_ERR_TRUNCATED);
    if (len == 0 && !allow_empty) return fail(msg, "bpe: an empty ranked token", EM_ERR_DIMS);
    if (len > *longest) *longest = len;
  }
  return EM_OK;
}

/* Walks the special tokens, which end the payload. */
static em_status take_specials(cursor *k, int vocab_size, uint32_t *n_special, const char **msg) {
  uint32_t id, len;
  if (!take_u32(k, n_special)) return fail(msg, "bpe: payload truncated", EM_ERR_TRUNCATED);
  for (uint32_t i = 0; i < *n_special; i++) {
    if (!take_u32(k, &id) || !take_u32(k, &len) || !skip(k, len))
      return fail(msg, "bpe: payload truncated in the special tokens", EM_ERR_TRUNCATED);
    if (id >= (uint32_t)vocab_size)
      return fail(msg, "bpe: a special token id is outside the vocabulary", EM_ERR_DIMS);
  }
  if (k->off != k->size) return fail(msg, "bpe: bytes after the last special token", EM_ERR_DIMS);
  return EM_OK;
}

/* What both payload kinds index once framed: where each token and special token is, the ids
 * sorted by bytes, and the merge scratch. The caller sets pretok, flags and the merges. */
static em_status place(em_tokenizer *tok, const uint8_t *data, size_t size, int vocab_size,
                       uint32_t n_tokens, size_t tokens_start, uint32_t n_special,
                       size_t special_start, uint32_t longest, em_arena *arena, const char **msg) {
  tok->entry_offset = (uint32_t *)em_arena_alloc_array(arena, n_tokens ? n_tokens : 1, 4, 4);
  tok->sorted_ids = (int32_t *)em_arena_alloc_array(arena, n_tokens ? n_tokens : 1, 4, 4);
  tok->special_offset = (uint32_t *)em_arena_alloc_array(arena, n_special ? n_special : 1, 4, 4);
  tok->merge_buffer = (char *)em_arena_alloc(arena, 2 * (size_t)longest + 1, 1);
  if (!tok->entry_offset || !tok->sorted_ids || !tok->special_offset || !tok->merge_buffer)
    return fail(msg, "bpe: arena too small", EM_ERR_NOMEM);
  tok->kind = EM_TOKENIZER_BPE;
  tok->arena = NULL; /* the caller may set one (engine/tokenizer.h) */
  tok->data = data;
  tok->size = size;
  tok->vocab_size = vocab_size;
  tok->max_token_length = (int)longest;
  tok->n_ranked = (int)n_tokens;
  tok->n_special = (int)n_special;
  tok->n_merges = 0;
  tok->merge_order = NULL;
  size_t off = tokens_start;
  for (uint32_t i = 0; i < n_tokens; i++) {
    tok->entry_offset[i] = (uint32_t)off;
    tok->sorted_ids[i] = (int32_t)i;
    off += 4 + em_read_u32(data + off);
  }
  off = special_start;
  for (uint32_t i = 0; i < n_special; i++) {
    tok->special_offset[i] = (uint32_t)off;
    off += 8 + em_read_u32(data + off + 4);
  }
  em_tokenizer_sort_ids(tok, tok->sorted_ids, (int)n_tokens);
  return EM_OK;
}

/* The token each byte starts as: its single-byte token (byte-level) or its <0xXX> token
 * (spelled, SentencePiece), the lowest id when several; false when a byte has none. */
static bool find_byte_tokens(em_tokenizer *tok, bool spelled) {
  for (int b = 0; b < 256; b++) {
    tok->byte_char[b] = (char)b;
    tok->byte_token[b] = -1;
  }
  for (int i = tok->n_ranked - 1; i >= 0; i--) {
    const uint8_t *entry = tok->data + tok->entry_offset[i];
    uint32_t n = em_read_u32(entry);
    int b = spelled ? em_byte_of_piece((const char *)entry + 4, (int)n) : n == 1 ? entry[4] : -1;
    if (b >= 0) tok->byte_token[b] = i;
  }
  for (int b = 0; b < 256; b++)
    if (tok->byte_token[b] < 0) return false;
  return true;
}

em_status em_tokenizer_load_bpe(em_tokenizer *tok, const void *bytes, size_t size, int vocab_size,
                                em_arena *arena, const char **msg) {
  const uint8_t *data = (const uint8_t *)bytes;
  em_status st = check_arguments(tok, data, size, vocab_size, arena, msg);
  if (st != EM_OK) return st;

  /* First pass: framing, every length against the bytes left. */
  cursor k = {data, size, 0};
  uint32_t n_ranked, longest, pattern_len, n_special;
  if (!take_u32(&k, &n_ranked)) return fail(msg, "bpe: payload truncated", EM_ERR_TRUNCATED);
  if (n_ranked > (uint32_t)vocab_size)
    return fail(msg, "bpe: more ranked tokens than the vocabulary", EM_ERR_DIMS);
  if (n_ranked < 256)
    return fail(msg, "bpe: fewer than 256 ranked tokens (not byte-level)", EM_ERR_DIMS);
  size_t ranked_start = k.off;
  st = take_tokens(&k, n_ranked, false, &longest, msg);
  if (st != EM_OK) return st;
  if (!take_u32(&k, &pattern_len) || !skip(&k, pattern_len))
    return fail(msg, "bpe: payload truncated in the split pattern", EM_ERR_TRUNCATED);
  const uint8_t *pattern = data + k.off - pattern_len;
  em_pretokenizer pretok = same_text(pattern, pattern_len, kNanochatPattern) ? EM_PRETOK_NANOCHAT
                           : same_text(pattern, pattern_len, kGpt4Pattern)   ? EM_PRETOK_GPT4
                                                                             : EM_PRETOK_NONE;
  if (pretok == EM_PRETOK_NONE)
    return fail(msg, "bpe: split pattern is neither nanochat's nor GPT-4's (unsupported)",
                EM_ERR_UNSUPPORTED);
  size_t special_start = k.off + 4;
  st = take_specials(&k, vocab_size, &n_special, msg);
  if (st != EM_OK) return st;

  size_t mark = em_arena_mark(arena);
  st = place(tok, data, size, vocab_size, n_ranked, ranked_start, n_special, special_start, longest,
             arena, msg);
  if (st == EM_OK && !find_byte_tokens(tok, false))
    st = fail(msg, "bpe: a single byte is not a ranked token (not byte-level)", EM_ERR_DIMS);
  if (st != EM_OK) {
    em_arena_reset(arena, mark);
    return st;
  }
  tok->pretok = pretok;
  tok->flags = EM_BPE_IGNORE_MERGES;
  int bos = em_tokenizer_special(tok, "<|bos|>");
  tok->bos_id = bos >= 0 ? bos : 0;
  tok->eos_id = tok->bos_id;
  return EM_OK;
}

/* Kind 3 (docs/CONTAINER.md):
 *   u32 pre_tokenizer (em_pretokenizer); u32 flags (EM_BPE_*)
 *   u32 n_tokens; n_tokens x { u32 length; u8 bytes[length] }   ids 0..n_tokens-1
 *   u32 n_merges; n_merges x { u32 left; u32 right; u32 merged }  by rank, earliest first
 *   u32 n_special; n_special x { u32 id; u32 length; u8 text[length] } */

#define MERGE_AT(tok, rank) ((tok)->data + (tok)->merges_offset + 12u * (uint32_t)(rank))

static int compare_merges(const void *ctx, int32_t a, int32_t b) {
  const em_tokenizer *tok = (const em_tokenizer *)ctx;
  const uint8_t *ma = MERGE_AT(tok, a), *mb = MERGE_AT(tok, b);
  uint32_t la = em_read_u32(ma), lb = em_read_u32(mb), ra = em_read_u32(ma + 4),
           rb = em_read_u32(mb + 4);
  if (la != lb) return la < lb ? -1 : 1;
  if (ra != rb) return ra < rb ? -1 : 1;
  return (a > b) - (a < b);
}

static bool known_pretokenizer(uint32_t p) {
  return p == EM_PRETOK_GPT2 || p == EM_PRETOK_LLAMA3 || p == EM_PRETOK_QWEN2 ||
         p == EM_PRETOK_SMOLLM || p == EM_PRETOK_SENTENCEPIECE;
}

em_status em_tokenizer_load_hf(em_tokenizer *tok, const void *bytes, size_t size, int vocab_size,
                               em_arena *arena, const char **msg) {
  const uint8_t *data = (const uint8_t *)bytes;
  em_status st = check_arguments(tok, data, size, vocab_size, arena, msg);
  if (st != EM_OK) return st;

  /* First pass: framing, every length and id against the bytes and the vocabulary. */
  cursor k = {data, size, 0};
  uint32_t pretok, flags, n_tokens, longest, n_merges, v, n_special;
  if (!take_u32(&k, &pretok) || !take_u32(&k, &flags) || !take_u32(&k, &n_tokens))
    return fail(msg, "bpe: payload truncated", EM_ERR_TRUNCATED);
  if (!known_pretokenizer(pretok))
    return fail(msg, "bpe: unknown pre-tokenizer (unsupported)", EM_ERR_UNSUPPORTED);
  if (flags & ~(EM_BPE_IGNORE_MERGES | EM_BPE_DUMMY_PREFIX))
    return fail(msg, "bpe: unknown flags (unsupported)", EM_ERR_UNSUPPORTED);
  if (n_tokens > (uint32_t)vocab_size)
    return fail(msg, "bpe: more tokens than the vocabulary", EM_ERR_DIMS);
  size_t tokens_start = k.off;
  st = take_tokens(&k, n_tokens, true, &longest, msg);
  if (st != EM_OK) return st;
  if (longest > 0xffffu) return fail(msg, "bpe: a token longer than 65535 bytes", EM_ERR_DIMS);
  if (!take_u32(&k, &n_merges)) return fail(msg, "bpe: payload truncated", EM_ERR_TRUNCATED);
  if (n_merges >= (1u << 24)) /* ranks are exact as float priorities below 2^24 */
    return fail(msg, "bpe: 2^24 merges or more", EM_ERR_DIMS);
  size_t merges_start = k.off;
  for (uint32_t i = 0; i < 3 * n_merges; i++) {
    if (!take_u32(&k, &v))
      return fail(msg, "bpe: payload truncated in the merges", EM_ERR_TRUNCATED);
    if (v >= n_tokens) return fail(msg, "bpe: a merge names no token", EM_ERR_DIMS);
  }
  size_t special_start = k.off + 4;
  st = take_specials(&k, vocab_size, &n_special, msg);
  if (st != EM_OK) return st;

  size_t mark = em_arena_mark(arena);
  uint32_t *order = (uint32_t *)em_arena_alloc_array(arena, n_merges ? n_merges : 1, 4, 4);
  st = order ? place(tok, data, size, vocab_size, n_tokens, tokens_start, n_special, special_start,
                     longest, arena, msg)
             : fail(msg, "bpe: arena too small", EM_ERR_NOMEM);
  bool sentencepiece = pretok == EM_PRETOK_SENTENCEPIECE;
  if (st == EM_OK && !find_byte_tokens(tok, sentencepiece))
    st = fail(msg,
              sentencepiece ? "bpe: a byte has no <0xXX> token (byte fallback is required)"
                            : "bpe: a single byte is not a token (not byte-level)",
              EM_ERR_DIMS);
  if (st != EM_OK) {
    em_arena_reset(arena, mark);
    return st;
  }
  tok->pretok = (em_pretokenizer)pretok;
  tok->flags = flags;
  tok->n_merges = (int)n_merges;
  tok->merges_offset = (uint32_t)merges_start;
  tok->merge_order = order;
  for (uint32_t i = 0; i < n_merges; i++) order[i] = i;
  em_heapsort((int32_t *)order, (int)n_merges, compare_merges, tok);
  tok->bos_id = 0; /* the container's header names them */
  tok->eos_id = 0;
  return EM_OK;
}

int em_tokenizer_special(const em_tokenizer *tok, const char *text) {
  if (tok->kind != EM_TOKENIZER_BPE) return -1;
  for (int i = 0; i < tok->n_special; i++) {
    const uint8_t *entry = tok->data + tok->special_offset[i];
    if (same_text(entry + 8, em_read_u32(entry + 4), text)) return (int)em_read_u32(entry);
  }
  return -1;
}

const char *em_bpe_decode(const em_tokenizer *tok, int prev, int token, int *len) {
  /* special tokens (kind 3: also those with an empty ordinary entry) print nothing */
  if (token < 0 || token >= tok->n_ranked ||
      em_read_u32(tok->data + tok->entry_offset[token]) == 0) {
    *len = 0;
    return "";
  }
  const char *piece = em_tokenizer_piece(tok, token, len);
  if (tok->pretok != EM_PRETOK_SENTENCEPIECE) return piece;
  int b = em_byte_of_piece(piece, *len);
  if (b >= 0 && tok->byte_token[b] == token) {
    *len = 1;
    return &tok->byte_char[b];
  }
  if ((tok->flags & EM_BPE_DUMMY_PREFIX) && (prev < 0 || prev == tok->bos_id) && *len > 0 &&
      piece[0] == ' ') {
    piece++;
    (*len)--;
  }
  return piece;
}

/* ---------------------------------------------------------------------------------------
 * Merges */

static em_status push(int *tokens, int capacity, int *n, int id) {
  if (*n >= capacity) return EM_ERR_FULL;
  tokens[(*n)++] = id;
  return EM_OK;
}

/* Rank (= id) of the concatenation of two ranked tokens, or -1. */
static int pair_rank(em_tokenizer *tok, int left, int right) {
  int a_len, b_len;
  const char *a = em_tokenizer_piece(tok, left, &a_len);
  const char *b = em_tokenizer_piece(tok, right, &b_len);
  if (a_len + b_len > tok->max_token_length) return -1;
  for (int i = 0; i < a_len; i++) tok->merge_buffer[i] = a[i];
  for (int i = 0; i < b_len; i++) tok->merge_buffer[a_len + i] = b[i];
  return em_tokenizer_lookup(tok, tok->merge_buffer, a_len + b_len);
}

/* The pair's merged rank, lowest first (ranks are ids, exact as floats below 2^24). */
static int ranked_pair(em_tokenizer *tok, int left, int right, float *priority) {
  int rank = pair_rank(tok, left, right);
  *priority = -(float)rank;
  return rank;
}

/* Kind 3: the rank of the merge (left, right) as the priority, earliest first, and the token
 * it makes; -1 when the pair is not a merge. */
static int listed_pair(em_tokenizer *tok, int left, int right, float *priority) {
  int lo = 0, hi = tok->n_merges - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    const uint8_t *m = MERGE_AT(tok, tok->merge_order[mid]);
    uint32_t l = em_read_u32(m), r = em_read_u32(m + 4);
    if (l == (uint32_t)left && r == (uint32_t)right) {
      *priority = -(float)tok->merge_order[mid];
      return (int)em_read_u32(m + 8);
    }
    if (l < (uint32_t)left || (l == (uint32_t)left && r < (uint32_t)right))
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return -1;
}

static em_merge_pair_fn pair_rule(const em_tokenizer *tok) {
  return tok->n_merges > 0 ? listed_pair : ranked_pair;
}

/* SentencePiece-style: one token per code point, else its bytes' <0xXX> tokens. */
static em_status push_code_points(em_tokenizer *tok, const char *text, int *tokens, int capacity,
                                  int *n) {
  for (const char *p = text; *p;) {
    int len = em_bpe_char_length(p);
    int id = em_tokenizer_lookup(tok, p, len);
    if (id >= 0) {
      if (push(tokens, capacity, n, id) != EM_OK) return EM_ERR_FULL;
    } else {
      for (int i = 0; i < len; i++)
        if (push(tokens, capacity, n, tok->byte_token[(uint8_t)p[i]]) != EM_OK) return EM_ERR_FULL;
    }
    p += len;
  }
  return EM_OK;
}

static em_status encode_chunk(em_tokenizer *tok, const char *chunk, int len, int *tokens,
                              int capacity, int *n) {
  if (tok->flags & EM_BPE_IGNORE_MERGES) {
    int whole = len <= tok->max_token_length ? em_tokenizer_lookup(tok, chunk, len) : -1;
    if (whole >= 0) return push(tokens, capacity, n, whole);
  }
  int start = *n;
  for (int i = 0; i < len; i++) {
    if (push(tokens, capacity, n, tok->byte_token[(uint8_t)chunk[i]]) != EM_OK) return EM_ERR_FULL;
  }
  *n = start + em_merge_pairs(tok, tokens + start, *n - start, pair_rule(tok));
  return EM_OK;
}

em_status em_bpe_encode(em_tokenizer *tok, const char *text, bool bos, bool eos, int *tokens,
                        int capacity, int *n_tokens) {
  int n = 0;
  *n_tokens = 0;
  if (bos && push(tokens, capacity, &n, tok->bos_id) != EM_OK) return EM_ERR_FULL;
  if (tok->pretok == EM_PRETOK_SENTENCEPIECE) {
    int start = n, space = em_tokenizer_lookup(tok, " ", 1);
    if ((tok->flags & EM_BPE_DUMMY_PREFIX) && *text) {
      em_status st = space >= 0 ? push(tokens, capacity, &n, space)
                                : push_code_points(tok, " ", tokens, capacity, &n);
      if (st != EM_OK) return st;
    }
    if (push_code_points(tok, text, tokens, capacity, &n) != EM_OK) return EM_ERR_FULL;
    n = start + em_merge_pairs(tok, tokens + start, n - start, pair_rule(tok));
    text = "";
  }
  for (const char *p = text; *p;) {
    const char *end = em_bpe_split_chunk(p, tok->pretok);
    em_status st = encode_chunk(tok, p, (int)(end - p), tokens, capacity, &n);
    if (st != EM_OK) return st;
    p = end;
  }
  if (eos && push(tokens, capacity, &n, tok->eos_id) != EM_OK) return EM_ERR_FULL;
  *n_tokens = n;
  return EM_OK;
}
