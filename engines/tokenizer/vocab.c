/* What both tokenizer kinds share: the vocabulary read in place (a token's piece and score,
 * the special tokens), and lookup of a piece through the ids sorted by piece bytes. */
#include "engine/tokenizer.h"
#include "engines/tokenizer/tokenizer_internal.h"

/* An ordinary token's bytes (BPE); empty for a kind-3 id that is a special token only. */
static const char *ordinary_piece(const em_tokenizer *tok, int id, int *len) {
  if (tok->kind != EM_TOKENIZER_BPE) return em_tokenizer_piece(tok, id, len);
  const uint8_t *entry = tok->data + tok->entry_offset[id];
  *len = (int)em_read_u32(entry);
  return (const char *)(entry + 4);
}

static const char *bpe_piece(const em_tokenizer *tok, int id, int *len) {
  if (id >= 0 && id < tok->n_ranked) {
    const char *piece = ordinary_piece(tok, id, len);
    if (*len > 0) return piece;
  } /* kind 3: an id without a piece may be a special token */
  for (int i = 0; i < tok->n_special; i++) {
    const uint8_t *entry = tok->data + tok->special_offset[i];
    if (em_read_u32(entry) == (uint32_t)id) {
      *len = (int)em_read_u32(entry + 4);
      return (const char *)(entry + 8);
    }
  }
  *len = 0;
  return "";
}

const char *em_tokenizer_piece(const em_tokenizer *tok, int id, int *len) {
  if (tok->kind == EM_TOKENIZER_BPE) return bpe_piece(tok, id, len);
  const uint8_t *entry = tok->data + tok->entry_offset[id];
  *len = (int)em_read_i32(entry + 4);
  return (const char *)(entry + 8);
}

float em_tokenizer_score(const em_tokenizer *tok, int id) {
  return em_read_f32(tok->data + tok->entry_offset[id]);
}

/* Orders byte strings like strcmp (a prefix sorts first). */
static int compare_bytes(const char *a, int a_len, const char *b, int b_len) {
  int n = a_len < b_len ? a_len : b_len;
  for (int i = 0; i < n; i++) {
    if (a[i] != b[i]) return (uint8_t)a[i] < (uint8_t)b[i] ? -1 : 1;
  }
  return (a_len > b_len) - (a_len < b_len);
}

/* Total order on ids: by piece, then by id (so equal pieces resolve to the lowest id). */
static int compare_ids(const em_tokenizer *tok, int32_t a, int32_t b) {
  int a_len, b_len;
  const char *pa = ordinary_piece(tok, a, &a_len);
  const char *pb = ordinary_piece(tok, b, &b_len);
  int c = compare_bytes(pa, a_len, pb, b_len);
  return c ? c : (a > b) - (a < b);
}

static int compare_piece_ids(const void *ctx, int32_t a, int32_t b) {
  return compare_ids((const em_tokenizer *)ctx, a, b);
}

static void sift_down(int32_t *ids, int root, int n, em_compare_fn compare, const void *ctx) {
  for (;;) {
    int child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n && compare(ctx, ids[child], ids[child + 1]) < 0) child++;
    if (compare(ctx, ids[root], ids[child]) >= 0) return;
    int32_t t = ids[root];
    ids[root] = ids[child];
    ids[child] = t;
    root = child;
  }
}

void em_heapsort(int32_t *ids, int n, em_compare_fn compare, const void *ctx) {
  for (int i = n / 2 - 1; i >= 0; i--) sift_down(ids, i, n, compare, ctx);
  for (int end = n - 1; end > 0; end--) {
    int32_t t = ids[0];
    ids[0] = ids[end];
    ids[end] = t;
    sift_down(ids, 0, end, compare, ctx);
  }
}

void em_tokenizer_sort_ids(const em_tokenizer *tok, int32_t *ids, int n) {
  em_heapsort(ids, n, compare_piece_ids, tok);
}

int em_tokenizer_lookup(const em_tokenizer *tok, const char *str, int len) {
  int count = tok->kind == EM_TOKENIZER_BPE ? tok->n_ranked : tok->vocab_size;
  int lo = 0, hi = count; /* first index whose piece >= str */
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    int mid_len;
    const char *piece = ordinary_piece(tok, tok->sorted_ids[mid], &mid_len);
    if (compare_bytes(piece, mid_len, str, len) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == count) return -1;
  int found_len;
  const char *piece = ordinary_piece(tok, tok->sorted_ids[lo], &found_len);
  return compare_bytes(piece, found_len, str, len) == 0 ? tok->sorted_ids[lo] : -1;
}
