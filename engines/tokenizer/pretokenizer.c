/* The pre-tokenizers of the byte-level BPE vocabularies: each split pattern below is matched
 * by hand over the generated Unicode tables (no regex engine on a board); see
 * engine/tokenizer.h for the patterns. em_bpe_split_chunk gives the end of the chunk that
 * starts at a position, so the encoder walks the text chunk by chunk in one pass.
 * Sections: classes -> the cl100k family (nanochat, GPT-4, Llama 3, Qwen2) -> GPT-2 and
 * SmolLM (digits isolated first) -> by pre-tokenizer. */
#include "engine/tokenizer.h"
#include "engines/tokenizer/tokenizer_internal.h"
#include "engines/tokenizer/unicode_tables.h"

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

/* The code point at p, or n = 0 at the end of the text; with stop_at_number also at a
 * number (SmolLM isolates digits before GPT-2's pattern runs on the text between them, so a
 * number ends that text). */
static uint32_t peek_in(const char *p, int *len, bool stop_at_number) {
  uint32_t cp = peek(p, len);
  if (stop_at_number && *len && is_number(cp)) *len = 0;
  return cp;
}

/* ---------------------------------------------------------------------------------------
 * The cl100k family, alternative by alternative (first match wins at each position):
 *   '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]++[\r\n]*
 *   |\s*[\r\n]|\s+(?!\S)|\s+
 * with D digits at most per chunk: 2 nanochat, 3 GPT-4 and Llama 3, 1 Qwen2. (Llama 3 and
 * Qwen2 spell it without the possessive quantifiers and with \s*[\r\n]+; neither changes
 * what matches: a backtrack into those spots finds no other match.) */

static const char *cl100k_chunk(const char *p, int digit_group) {
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
 * GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * (contractions case-sensitive, only U+0020 as the optional leading space). */

static bool is_other(uint32_t cp) { return !is_space(cp) && !is_letter(cp) && !is_number(cp); }

/* The end of the run of code points from q for which in_class holds. */
static const char *run_of(const char *q, bool (*in_class)(uint32_t), bool stop_at_number) {
  int n;
  for (uint32_t c = peek_in(q, &n, stop_at_number); n && in_class(c);
       c = peek_in(q, &n, stop_at_number))
    q += n;
  return q;
}

static const char *gpt2_chunk(const char *p, bool stop_at_number) {
  int n0, n1, n2, n;
  uint32_t c0 = peek_in(p, &n0, stop_at_number);
  if (n0 == 0) return p;

  if (c0 == '\'') {
    uint32_t c1 = peek_in(p + n0, &n1, stop_at_number);
    if (n1 && (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd')) return p + n0 + n1;
    if (n1) {
      uint32_t c2 = peek_in(p + n0 + n1, &n2, stop_at_number);
      if (n2 && ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')))
        return p + n0 + n1 + n2;
    }
  }

  /* " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": the class of the code point after the
   * optional space picks the alternative */
  const char *q = c0 == ' ' ? p + 1 : p;
  uint32_t c = peek_in(q, &n, stop_at_number);
  if (n && is_letter(c)) return run_of(q, is_letter, stop_at_number);
  if (n && is_number(c)) return run_of(q, is_number, stop_at_number);
  if (n && is_other(c)) return run_of(q, is_other, stop_at_number);

  /* \s+(?!\S)|\s+ : c0 is white space here */
  const char *end = p, *last_start = p;
  int count = 0;
  for (c = peek_in(end, &n, stop_at_number); n && is_space(c);
       c = peek_in(end, &n, stop_at_number)) {
    last_start = end;
    end += n;
    count++;
  }
  if (n == 0) return end;            /* the run reaches the end of the text */
  if (count >= 2) return last_start; /* leave one space before the \S */
  return end;
}

/* ---------------------------------------------------------------------------------------
 * By pre-tokenizer */

const char *em_bpe_split_chunk(const char *text, em_pretokenizer pretok) {
  int n;
  switch (pretok) {
    case EM_PRETOK_NANOCHAT:
      return cl100k_chunk(text, 2);
    case EM_PRETOK_GPT4:
    case EM_PRETOK_LLAMA3:
      return cl100k_chunk(text, 3);
    case EM_PRETOK_QWEN2:
      return cl100k_chunk(text, 1);
    case EM_PRETOK_GPT2:
      return gpt2_chunk(text, false);
    case EM_PRETOK_SMOLLM: /* Digits(individual_digits) then GPT-2's pattern between them */
      if (is_number(peek(text, &n)) && n) return text + n;
      return gpt2_chunk(text, true);
    default:
      break;
  }
  while (*text) text++; /* no split: the whole text is one chunk */
  return text;
}

int em_bpe_char_length(const char *p) {
  int n;
  (void)peek(p, &n);
  return n;
}
