/* llama2.c's tokenizer (tokenizer.bin: scored pieces, merged by best score), read in place. */
#include "engine/tokenizer.h"
#include "engines/tokenizer/tokenizer_internal.h"

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int em_byte_of_piece(const char *p, int len) {
  if (len != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>') return -1;
  int hi = hex_digit(p[3]), lo = hex_digit(p[4]);
  return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

em_status em_tokenizer_load(em_tokenizer *tok, const void *bytes, size_t size, int vocab_size,
                            em_arena *arena, const char **msg) {
  const uint8_t *data = (const uint8_t *)bytes;
  *msg = "ok";
  if (!tok || !data || !arena) {
    *msg = "null argument";
    return EM_ERR_ARG;
  }
  if (size < 4) {
    *msg = "tokenizer: shorter than its 4-byte header";
    return EM_ERR_TRUNCATED;
  }
  if (size > 0xffffffffu) {
    *msg = "tokenizer: larger than 4 GiB";
    return EM_ERR_OVERFLOW;
  }
  int32_t header_max_len = em_read_i32(data);
  if (header_max_len < 0) {
    *msg = "tokenizer: negative max_token_length";
    return EM_ERR_DIMS;
  }

  /* First pass: walk the entries, checking every length against the bytes left. */
  size_t off = 4;
  int count = 0, longest = 0;
  while (vocab_size > 0 ? count < vocab_size : off < size) {
    if (size - off < 8) {
      *msg = "tokenizer: entry header runs past the end";
      return EM_ERR_TRUNCATED;
    }
    int32_t len = em_read_i32(data + off + 4);
    if (len < 0) {
      *msg = "tokenizer: negative token length";
      return EM_ERR_DIMS;
    }
    if ((size_t)len > size - off - 8) {
      *msg = "tokenizer: token bytes run past the end";
      return EM_ERR_TRUNCATED;
    }
    if (len > longest) longest = len;
    off += 8 + (size_t)len;
    count++;
  }
  if (count < 3) {
    *msg = "tokenizer: needs at least <unk>, <s>, </s>";
    return EM_ERR_DIMS;
  }

  size_t mark = em_arena_mark(arena);
  tok->entry_offset = (uint32_t *)em_arena_alloc_array(arena, (size_t)count, sizeof(uint32_t), 4);
  tok->sorted_ids = (int32_t *)em_arena_alloc_array(arena, (size_t)count, sizeof(int32_t), 4);
  tok->merge_buffer = (char *)em_arena_alloc(arena, 2 * (size_t)longest + 1, 1);
  if (!tok->entry_offset || !tok->sorted_ids || !tok->merge_buffer) {
    em_arena_reset(arena, mark);
    *msg = "tokenizer: arena too small";
    return EM_ERR_NOMEM;
  }
  tok->kind = EM_TOKENIZER_LLAMA2C;
  tok->arena = NULL; /* the caller may set one (engine/tokenizer.h) */
  tok->n_ranked = 0;
  tok->n_special = 0;
  tok->special_offset = NULL;
  tok->pretok = EM_PRETOK_NONE;
  tok->flags = 0;
  tok->n_merges = 0;
  tok->merge_order = NULL;
  tok->data = data;
  tok->size = size;
  tok->vocab_size = count;
  tok->max_token_length = longest;
  tok->bos_id = 1;
  tok->eos_id = 2;

  off = 4;
  for (int i = 0; i < count; i++) {
    tok->entry_offset[i] = (uint32_t)off;
    tok->sorted_ids[i] = i;
    off += 8 + (size_t)em_read_i32(data + off + 4);
  }
  em_tokenizer_sort_ids(tok, tok->sorted_ids, count);

  for (int b = 0; b < 256; b++) {
    tok->byte_token[b] = -1;
    tok->byte_char[b] = (char)b;
  }
  for (int i = count - 1; i >= 0; i--) { /* lowest id wins */
    int len;
    const char *piece = em_tokenizer_piece(tok, i, &len);
    int b = em_byte_of_piece(piece, len);
    if (b >= 0) tok->byte_token[b] = i;
  }
  return EM_OK;
}

static em_status push_token(int *tokens, int capacity, int *n, int id) {
  if (*n >= capacity) return EM_ERR_FULL;
  tokens[(*n)++] = id;
  return EM_OK;
}

/* Emits the tokens for one code point's bytes: its own token, else one per byte. */
static em_status push_code_point(em_tokenizer *tok, const char *cp, int len, int *tokens,
                                 int capacity, int *n) {
  int id = em_tokenizer_lookup(tok, cp, len);
  if (id >= 0) return push_token(tokens, capacity, n, id);
  for (int i = 0; i < len; i++) {
    int b = (uint8_t)cp[i];
    int byte_id = tok->byte_token[b] >= 0 ? tok->byte_token[b] : 0; /* no byte token: <unk> */
    if (push_token(tokens, capacity, n, byte_id) != EM_OK) return EM_ERR_FULL;
  }
  return EM_OK;
}

/* Id of the concatenation of two pieces, or -1. */
static int lookup_pair(em_tokenizer *tok, int left, int right) {
  int a_len, b_len;
  const char *a = em_tokenizer_piece(tok, left, &a_len);
  const char *b = em_tokenizer_piece(tok, right, &b_len);
  if (a_len + b_len > 2 * tok->max_token_length) return -1;
  for (int i = 0; i < a_len; i++) tok->merge_buffer[i] = a[i];
  for (int i = 0; i < b_len; i++) tok->merge_buffer[a_len + i] = b[i];
  return em_tokenizer_lookup(tok, tok->merge_buffer, a_len + b_len);
}

/* The pair's merged id and its score as the priority; llama2.c merges only pairs scoring
 * above -1e10 (its initial best score). */
static int scored_pair(em_tokenizer *tok, int left, int right, float *priority) {
  int id = lookup_pair(tok, left, right);
  if (id < 0) return -1;
  *priority = em_tokenizer_score(tok, id);
  return *priority > -1e10f ? id : -1;
}

em_status em_llama2c_encode(em_tokenizer *tok, const char *text, bool bos, bool eos, int *tokens,
                            int capacity, int *n_tokens) {
  int n = 0;
  *n_tokens = 0;
  if (bos && push_token(tokens, capacity, &n, tok->bos_id) != EM_OK) return EM_ERR_FULL;
  if (text[0] != '\0') {
    int space = em_tokenizer_lookup(tok, " ", 1);
    if (space >= 0 && push_token(tokens, capacity, &n, space) != EM_OK) return EM_ERR_FULL;
  }

  /* One token per code point: a code point is a lead byte plus up to 3 continuation bytes. */
  char cp[4];
  int cp_len = 0;
  for (const char *c = text; *c; c++) {
    if (((uint8_t)*c & 0xC0) != 0x80) cp_len = 0;
    cp[cp_len++] = *c;
    if (((uint8_t)c[1] & 0xC0) == 0x80 && cp_len < 4) continue;
    if (push_code_point(tok, cp, cp_len, tokens, capacity, &n) != EM_OK) return EM_ERR_FULL;
    cp_len = 0;
  }

  /* Merge the best-scoring adjacent pair until no pair forms a token. */
  n = em_merge_pairs(tok, tokens, n, scored_pair);

  if (eos && push_token(tokens, capacity, &n, tok->eos_id) != EM_OK) return EM_ERR_FULL;
  *n_tokens = n;
  return EM_OK;
}

const char *em_llama2c_decode(const em_tokenizer *tok, int prev, int token, int *len) {
  const char *piece = em_tokenizer_piece(tok, token, len);
  if (prev == tok->bos_id && *len > 0 && piece[0] == ' ') {
    piece++;
    (*len)--;
  }
  int b = em_byte_of_piece(piece, *len);
  if (b >= 0) {
    *len = 1;
    return &tok->byte_char[b];
  }
  return piece;
}
