/* nanochat's byte-level BPE (tiktoken-style ranks), read in place; see engine/tokenizer.h.
 * Sections: payload -> classes -> split pattern -> merges -> decode. */
#include "engine/tokenizer.h"
#include "engines/tokenizer/tokenizer_internal.h"
#include "engines/tokenizer/unicode_tables.h"

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

em_status em_tokenizer_load_bpe(em_tokenizer *tok, const void *bytes, size_t size, int vocab_size,
                                em_arena *arena, const char **msg) {
  const uint8_t *data = (const uint8_t *)bytes;
  *msg = "ok";
  if (!tok || !data || !arena || vocab_size <= 0) return fail(msg, "bpe: bad argument", EM_ERR_ARG);
  if (size > 0xffffffffu) return fail(msg, "bpe: payload larger than 4 GiB", EM_ERR_OVERFLOW);

  /* First pass: framing, every length against the bytes left. */
  cursor k = {data, size, 0};
  uint32_t n_ranked, len, longest = 0;
  if (!take_u32(&k, &n_ranked)) return fail(msg, "bpe: payload truncated", EM_ERR_TRUNCATED);
  if (n_ranked > (uint32_t)vocab_size)
    return fail(msg, "bpe: more ranked tokens than the vocabulary", EM_ERR_DIMS);
  if (n_ranked < 256)
    return fail(msg, "bpe: fewer than 256 ranked tokens (not byte-level)", EM_ERR_DIMS);
  size_t ranked_start = k.off;
  for (uint32_t i = 0; i < n_ranked; i++) {
    if (!take_u32(&k, &len) || !skip(&k, len))
      return fail(msg, "bpe: payload truncated in the ranked tokens", EM_ERR_TRUNCATED);
    if (len == 0) return fail(msg, "bpe: an empty ranked token", EM_ERR_DIMS);
    if (len > longest) longest = len;
  }
  uint32_t pattern_len;
  if (!take_u32(&k, &pattern_len) || !skip(&k, pattern_len))
    return fail(msg, "bpe: payload truncated in the split pattern", EM_ERR_TRUNCATED);
  const uint8_t *pattern = data + k.off - pattern_len;
  int digit_group = same_text(pattern, pattern_len, kNanochatPattern) ? 2
                    : same_text(pattern, pattern_len, kGpt4Pattern)   ? 3
                                                                      : 0;
  if (!digit_group)
    return fail(msg, "bpe: split pattern is neither nanochat's nor GPT-4's (unsupported)",
                EM_ERR_UNSUPPORTED);
  uint32_t n_special, id;
  if (!take_u32(&k, &n_special)) return fail(msg, "bpe: payload truncated", EM_ERR_TRUNCATED);
  size_t special_start = k.off;
  for (uint32_t i = 0; i < n_special; i++) {
    if (!take_u32(&k, &id) || !take_u32(&k, &len) || !skip(&k, len))
      return fail(msg, "bpe: payload truncated in the special tokens", EM_ERR_TRUNCATED);
    if (id >= (uint32_t)vocab_size)
      return fail(msg, "bpe: a special token id is outside the vocabulary", EM_ERR_DIMS);
  }
  if (k.off != k.size) return fail(msg, "bpe: bytes after the last special token", EM_ERR_DIMS);

  size_t mark = em_arena_mark(arena);
  tok->entry_offset = (uint32_t *)em_arena_alloc_array(arena, n_ranked, sizeof(uint32_t), 4);
  tok->sorted_ids = (int32_t *)em_arena_alloc_array(arena, n_ranked, sizeof(int32_t), 4);
  tok->special_offset =
      (uint32_t *)em_arena_alloc_array(arena, n_special ? n_special : 1, sizeof(uint32_t), 4);
  tok->merge_buffer = (char *)em_arena_alloc(arena, 2 * (size_t)longest + 1, 1);
  if (!tok->entry_offset || !tok->sorted_ids || !tok->special_offset || !tok->merge_buffer) {
    em_arena_reset(arena, mark);
    return fail(msg, "bpe: arena too small", EM_ERR_NOMEM);
  }
  tok->kind = EM_TOKENIZER_BPE;
  tok->arena = NULL; /* the caller may set one (engine/tokenizer.h) */
  tok->data = data;
  tok->size = size;
  tok->vocab_size = vocab_size;
  tok->max_token_length = (int)longest;
  tok->n_ranked = (int)n_ranked;
  tok->n_special = (int)n_special;
  tok->digit_group = digit_group;
  size_t off = ranked_start;
  for (uint32_t i = 0; i < n_ranked; i++) {
    tok->entry_offset[i] = (uint32_t)off;
    tok->sorted_ids[i] = (int32_t)i;
    off += 4 + em_read_u32(data + off);
  }
  off = special_start;
  for (uint32_t i = 0; i < n_special; i++) {
    tok->special_offset[i] = (uint32_t)off;
    off += 8 + em_read_u32(data + off + 4);
  }
  em_tokenizer_sort_ids(tok, tok->sorted_ids, (int)n_ranked);
  for (int b = 0; b < 256; b++) {
    tok->byte_char[b] = (char)b;
    tok->byte_token[b] = -1;
  }
  for (int i = (int)n_ranked - 1; i >= 0; i--) { /* lowest id wins */
    const uint8_t *entry = data + tok->entry_offset[i];
    if (em_read_u32(entry) == 1) tok->byte_token[entry[4]] = i;
  }
  for (int b = 0; b < 256; b++) {
    if (tok->byte_token[b] < 0) {
      em_arena_reset(arena, mark);
      return fail(msg, "bpe: a single byte is not a ranked token (not byte-level)", EM_ERR_DIMS);
    }
  }
  int bos = em_tokenizer_special(tok, "<|bos|>");
  tok->bos_id = bos >= 0 ? bos : 0;
  tok->eos_id = tok->bos_id;
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

const char *em_bpe_decode(const em_tokenizer *tok, int token, int *len) {
  if (token < 0 || token >= tok->n_ranked) { /* special tokens (and unused ids) print nothing */
    *len = 0;
    return "";
  }
  return em_tokenizer_piece(tok, token, len);
}

/* ---------------------------------------------------------------------------------------
 * Character classes */

#define NO_CLASS 0xFFFFFFFFu /* an invalid UTF-8 byte */

static bool in_table(const uint32_t (*table)[2], int count, uint32_t cp) {
  int lo = 0, hi = count - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    if (cp < table[mid][0])
      hi = mid - 1;
    else if (cp > table[mid][1])
      lo = mid + 1;
    else
      return true;
  }
  return false;
}

static bool is_letter(uint32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return cp != NO_CLASS && in_table(em_unicode_letter, em_unicode_letter_count, cp);
}

static bool is_number(uint32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return cp != NO_CLASS && in_table(em_unicode_number, em_unicode_number_count, cp);
}

static bool is_space(uint32_t cp) {
  return cp != NO_CLASS && in_table(em_unicode_space, em_unicode_space_count, cp);
}

static bool is_newline(uint32_t cp) { return cp == '\r' || cp == '\n'; }

/* Decodes the code point at p (p[0] != 0) into *cp; returns its byte length. A byte that
 * does not start a valid sequence is one code point of no class. */
static int decode(const char *p, uint32_t *cp) {
  const uint8_t *s = (const uint8_t *)p;
  uint8_t b = s[0];
  if (b < 0x80) {
    *cp = b;
    return 1;
  }
  int len = (b >= 0xC2 && b <= 0xDF)   ? 2
            : (b >= 0xE0 && b <= 0xEF) ? 3
            : (b >= 0xF0 && b <= 0xF4) ? 4
                                       : 0;
  if (len == 0) {
    *cp = NO_CLASS;
    return 1;
  }
  uint32_t v = b & (0xFFu >> (len + 1));
  for (int k = 1; k < len; k++) {
    uint8_t t = s[k]; /* a NUL stops here: it is not a continuation byte */
    uint8_t lo = 0x80, hi = 0xBF;
    if (k == 1 && b == 0xE0) lo = 0xA0;
    if (k == 1 && b == 0xED) hi = 0x9F;
    if (k == 1 && b == 0xF0) lo = 0x90;
    if (k == 1 && b == 0xF4) hi = 0x8F;
    if (t < lo || t > hi) {
      *cp = NO_CLASS;
      return 1;
    }
    v = v << 6 | (t & 0x3Fu);
  }
  *cp = v;
  return len;
}

/* The code point at p, or 0 at the end of the text. */
static uint32_t peek(const char *p, int *len) {
  if (*p == 0) {
    *len = 0;
    return 0;
  }
  uint32_t cp;
  *len = decode(p, &cp);
  return cp;
}

static uint32_t lower_ascii(uint32_t cp) { return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp; }

/* ---------------------------------------------------------------------------------------
 * The split pattern, alternative by alternative (first match wins at each position) */

const char *em_bpe_split_chunk(const char *text, int digit_group) {
  const char *p = text;
  int n0, n1, n2;
  uint32_t c0 = peek(p, &n0);
  if (n0 == 0) return p;

  /* '(?i:[sdmt]|ll|ve|re) */
  if (c0 == '\'') {
    uint32_t c1 = peek(p + n0, &n1);
    uint32_t l1 = c1 == 0x17F ? 's' : lower_ascii(c1);
    if (n1 && (l1 == 's' || l1 == 'd' || l1 == 'm' || l1 == 't')) return p + n0 + n1;
    if (n1) {
      uint32_t l2 = lower_ascii(peek(p + n0 + n1, &n2));
      if (n2 && ((l1 == 'l' && l2 == 'l') || (l1 == 'v' && l2 == 'e') || (l1 == 'r' && l2 == 'e')))
        return p + n0 + n1 + n2;
    }
  }

  /* [^\r\n\p{L}\p{N}]?+\p{L}+ */
  const char *q = p;
  if (!is_newline(c0) && !is_letter(c0) && !is_number(c0)) q = p + n0;
  int n;
  if (is_letter(peek(q, &n)) && n) {
    while (n && is_letter(peek(q, &n))) q += n;
    return q;
  }

  /* \p{N}{1,digit_group} */
  if (is_number(c0)) {
    q = p;
    for (int i = 0; i < digit_group && is_number(peek(q, &n)) && n; i++) q += n;
    return q;
  }

  /* " ?[^\s\p{L}\p{N}]++[\r\n]*" */
  q = c0 == ' ' ? p + 1 : p;
  uint32_t c = peek(q, &n);
  if (n && !is_space(c) && !is_letter(c) && !is_number(c)) {
    for (c = peek(q, &n); n && !is_space(c) && !is_letter(c) && !is_number(c); c = peek(q, &n))
      q += n;
    while (*q == '\r' || *q == '\n') q++;
    return q;
  }

  /* whitespace run: \s*[\r\n] | \s+(?!\S) | \s+ */
  if (is_space(c0)) {
    const char *end = p, *after_newline = NULL, *last_start = p;
    int count = 0;
    for (c = peek(end, &n); n && is_space(c); c = peek(end, &n)) {
      last_start = end;
      end += n;
      count++;
      if (is_newline(c)) after_newline = end;
    }
    if (after_newline) return after_newline; /* \s*[\r\n]: up to the run's last newline */
    if (*end == 0) return end;               /* \s+(?!\S) at the end of the text */
    if (count >= 2) return last_start;       /* \s+(?!\S): leave one space before the \S */
    return end;                              /* \s+ */
  }
  return p + n0; /* not reached: every code point starts one of the alternatives */
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

static em_status encode_chunk(em_tokenizer *tok, const char *chunk, int len, int *tokens,
                              int capacity, int *n) {
  int whole = len <= tok->max_token_length ? em_tokenizer_lookup(tok, chunk, len) : -1;
  if (whole >= 0) return push(tokens, capacity, n, whole);
  int start = *n;
  for (int i = 0; i < len; i++) {
    if (push(tokens, capacity, n, tok->byte_token[(uint8_t)chunk[i]]) != EM_OK) return EM_ERR_FULL;
  }
  *n = start + em_merge_pairs(tok, tokens + start, *n - start, ranked_pair);
  return EM_OK;
}

em_status em_bpe_encode(em_tokenizer *tok, const char *text, bool bos, bool eos, int *tokens,
                        int capacity, int *n_tokens) {
  int n = 0;
  *n_tokens = 0;
  if (bos && push(tokens, capacity, &n, tok->bos_id) != EM_OK) return EM_ERR_FULL;
  for (const char *p = text; *p;) {
    const char *end = em_bpe_split_chunk(p, tok->digit_group);
    em_status st = encode_chunk(tok, p, (int)(end - p), tokens, capacity, &n);
    if (st != EM_OK) return st;
    p = end;
  }
  if (eos && push(tokens, capacity, &n, tok->eos_id) != EM_OK) return EM_ERR_FULL;
  *n_tokens = n;
  return EM_OK;
}
