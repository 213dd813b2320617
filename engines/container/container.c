/* Container reader: header -> sections -> tensor table -> tokenizer (docs/CONTAINER.md). */
#include "container/container.h"

#include <stdbool.h>

#include "common/crc32.h"

/* ---------------------------------------------------------------------------------------
 * Little-endian fields and CRC-32 */

static uint32_t u32_at(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t u64_at(const uint8_t *p) {
  return (uint64_t)u32_at(p) | (uint64_t)u32_at(p + 4) << 32;
}

static float f32_at(const uint8_t *p) {
  uint32_t u = u32_at(p);
  float f;
  __builtin_memcpy(&f, &u, sizeof f);
  return f;
}

static em_status fail(const char **msg, const char *text, em_status status) {
  *msg = text;
  return status;
}

static uint64_t align_up(uint64_t n) { return (n + (MC_ALIGN - 1)) & ~(uint64_t)(MC_ALIGN - 1); }

int mc_probe(const void *bytes, size_t size) {
  return bytes && size >= 4 && u32_at((const uint8_t *)bytes) == MC_MAGIC ? 100 : 0;
}

/* ---------------------------------------------------------------------------------------
 * Header and sections */

static uint32_t header_crc(const uint8_t *b) {
  uint32_t crc = crc32_update(0, b, 12);
  crc = crc32_update(crc, (const uint8_t[4]){0, 0, 0, 0}, 4);
  return crc32_update(crc, b + 16, MC_HEADER_SIZE - 16);
}

uint32_t mc_peek_architecture(const void *bytes, size_t size) {
  const uint8_t *b = (const uint8_t *)bytes;
  if (!b || size < MC_HEADER_SIZE || u32_at(b) != MC_MAGIC || u32_at(b + 4) != MC_VERSION ||
      u32_at(b + 8) != MC_HEADER_SIZE || header_crc(b) != u32_at(b + 12))
    return 0;
  return u32_at(b + 24);
}

static em_status check_header(mc_container *c, unsigned flags, const char **msg) {
  const uint8_t *b = c->bytes;
  if (c->size < 4) return fail(msg, "container: shorter than its magic", EM_ERR_TRUNCATED);
  if (u32_at(b) != MC_MAGIC) {
    if (u32_at(b) == MC_INFERPI_NANOCHAT_MAGIC)
      return fail(msg, "container: an InferPi nanochat model.bin (NCHT), not a container",
                  EM_ERR_MAGIC);
    return fail(msg, "container: no MCHC magic", EM_ERR_MAGIC);
  }
  if (c->size < MC_HEADER_SIZE)
    return fail(msg, "container: shorter than its 256-byte header", EM_ERR_TRUNCATED);
  if (u32_at(b + 4) != MC_VERSION)
    return fail(msg, "container: format version is not 1", EM_ERR_VERSION);
  if (u32_at(b + 8) != MC_HEADER_SIZE)
    return fail(msg, "container: header size field is not 256", EM_ERR_DIMS);
  if (header_crc(b) != u32_at(b + 12))
    return fail(msg, "container: header CRC-32 mismatch", EM_ERR_CORRUPT);
  uint64_t file_size = u64_at(b + 16);
  if (file_size > c->size)
    return fail(msg, "container: file shorter than the header's file size", EM_ERR_TRUNCATED);
  if (file_size < c->size)
    return fail(msg, "container: bytes after the header's file size", EM_ERR_DIMS);
  c->architecture = u32_at(b + 24);
  c->weight_format = u32_at(b + 28);
  c->group_size = u32_at(b + 32);
  c->tensor_count = u32_at(b + 36);

  static const char *const kCrcMsg[4] = {
      "container: tensor table section CRC-32 mismatch",
      "container: tokenizer section CRC-32 mismatch",
      "container: tensor data section CRC-32 mismatch",
      "container: manifest section CRC-32 mismatch",
  };
  uint64_t end = MC_HEADER_SIZE;
  for (uint32_t i = 0; i < 4; i++) {
    const uint8_t *e = b + 40 + 24 * i;
    mc_section *s = &c->sections[i];
    s->offset = u64_at(e);
    s->size = u64_at(e + 8);
    s->crc32 = u32_at(e + 16);
    if (u32_at(e + 20) != i + 1)
      return fail(msg, "container: section table entry of the wrong kind", EM_ERR_DIMS);
    if (s->offset != align_up(end))
      return fail(msg, "container: a section is not at its canonical offset", EM_ERR_DIMS);
    if (s->offset > c->size || s->size > c->size - s->offset)
      return fail(msg, "container: a section runs past the end of the file", EM_ERR_TRUNCATED);
    for (uint64_t k = end; k < s->offset; k++) {
      if (b[k]) return fail(msg, "container: nonzero padding before a section", EM_ERR_CORRUPT);
    }
    end = s->offset + s->size;
  }
  if (end != c->size) return fail(msg, "container: bytes after the manifest section", EM_ERR_DIMS);
  for (uint32_t i = 0; i < 4; i++) {
    const mc_section *s = &c->sections[i];
    if (i == MC_SECTION_TENSOR_DATA - 1 && (flags & MC_SKIP_DATA_CRC)) continue;
    if (crc32_update(0, b + s->offset, (size_t)s->size) != s->crc32)
      return fail(msg, kCrcMsg[i], EM_ERR_CORRUPT);
  }
  return EM_OK;
}

static em_status read_params(mc_container *c, const char **msg) {
  const uint8_t *p = c->bytes + 136;
  if (c->architecture == MC_ARCH_LLAMA) {
    mc_llama_params *l = &c->params.llama;
    l->dim = u32_at(p);
    l->hidden_dim = u32_at(p + 4);
    l->n_layers = u32_at(p + 8);
    l->n_heads = u32_at(p + 12);
    l->n_kv_heads = u32_at(p + 16);
    l->vocab_size = u32_at(p + 20);
    l->seq_len = u32_at(p + 24);
    l->rope_theta = f32_at(p + 28);
    l->norm_eps = f32_at(p + 32);
    l->shared_classifier = u32_at(p + 36);
    l->rope_layout = u32_at(p + 40);
    return EM_OK;
  }
  if (c->architecture == MC_ARCH_NANOCHAT) {
    mc_nanochat_params *n = &c->params.nanochat;
    uint32_t *u[] = {&n->n_embd,     &n->n_layer,           &n->n_head,       &n->n_kv_head,
                     &n->vocab_size, &n->padded_vocab_size, &n->sequence_len, &n->short_window};
    for (int i = 0; i < 8; i++) *u[i] = u32_at(p + 4 * i);
    n->softcap = f32_at(p + 32);
    n->rope_theta = f32_at(p + 36);
    n->qk_scale = f32_at(p + 40);
    n->mlp_ratio = u32_at(p + 44);
    n->smear_channels = u32_at(p + 48);
    n->value_embed_gate_channels = u32_at(p + 52);
    n->value_embed_scale = f32_at(p + 56);
    n->backout_layer = u32_at(p + 60);
    n->norm_eps = f32_at(p + 64);
    n->rope_layout = u32_at(p + 68);
    n->value_embed_layers = u64_at(p + 72);
    bool terminated = false;
    for (int i = 0; i < 32; i++) {
      n->window_pattern[i] = (char)p[80 + i];
      if (!p[80 + i]) terminated = true;
    }
    if (!terminated)
      return fail(msg, "container: nanochat window_pattern is not NUL-terminated", EM_ERR_DIMS);
    return EM_OK;
  }
  return fail(msg, "container: unknown architecture (1 Llama, 2 nanochat)", EM_ERR_UNSUPPORTED);
}

/* ---------------------------------------------------------------------------------------
 * Tensor table */

static const uint8_t *entry_at(const mc_container *c, uint32_t i) {
  return c->bytes + c->sections[0].offset + (uint64_t)i * MC_ENTRY_SIZE;
}

/* Whether s[0..n) is valid UTF-8 (no overlongs, surrogates, or code points past U+10FFFF). */
static bool valid_utf8(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t b = s[i];
    size_t len = b < 0x80                   ? 1
                 : (b >= 0xC2 && b <= 0xDF) ? 2
                 : (b >= 0xE0 && b <= 0xEF) ? 3
                 : (b >= 0xF0 && b <= 0xF4) ? 4
                                            : 0;
    if (len == 0 || len > n - i) return false;
    for (size_t k = 1; k < len; k++) {
      uint8_t t = s[i + k];
      uint8_t lo = 0x80, hi = 0xBF;
      if (k == 1 && b == 0xE0) lo = 0xA0;
      if (k == 1 && b == 0xED) hi = 0x9F;
      if (k == 1 && b == 0xF0) lo = 0x90;
      if (k == 1 && b == 0xF4) hi = 0x8F;
      if (t < lo || t > hi) return false;
    }
    i += len;
  }
  return true;
}

static bool same_name(const uint8_t *a, const uint8_t *b) {
  for (uint32_t i = 0; i < MC_NAME_SIZE; i++) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

/* Decodes entry i without checks (mc_open has checked every entry). */
static void decode_entry(const mc_container *c, uint32_t i, mc_tensor *t) {
  const uint8_t *e = entry_at(c, i);
  t->name = (const char *)e;
  t->format = u32_at(e + 48);
  t->group_size = u32_at(e + 52);
  t->ndim = u32_at(e + 56);
  t->count = 1;
  for (int d = 0; d < 4; d++) {
    t->shape[d] = u64_at(e + 64 + 8 * d);
    if ((uint32_t)d < t->ndim && t->ndim <= 4) t->count *= t->shape[d];
  }
  uint64_t voff = u64_at(e + 96), soff = u64_at(e + 112);
  t->values_size = u64_at(e + 104);
  t->scales_size = u64_at(e + 120);
  t->values = c->bytes + voff;
  t->scales = t->scales_size ? (const float *)(const void *)(c->bytes + soff) : NULL;
}

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1) {
  return a0 < b1 && b0 < a1;
}

static em_status check_entry(const mc_container *c, uint32_t i, const char **msg) {
  const uint8_t *e = entry_at(c, i);
  /* name: 1..47 bytes, NUL-padded, UTF-8, unique */
  uint32_t len = 0;
  while (len < MC_NAME_SIZE && e[len]) len++;
  if (len == 0 || len == MC_NAME_SIZE)
    return fail(msg, "container: a tensor name is empty or not NUL-terminated", EM_ERR_DIMS);
  for (uint32_t k = len; k < MC_NAME_SIZE; k++) {
    if (e[k]) return fail(msg, "container: a tensor name has bytes after its NUL", EM_ERR_DIMS);
  }
  if (!valid_utf8(e, len)) return fail(msg, "container: a tensor name is not UTF-8", EM_ERR_DIMS);
  for (uint32_t j = 0; j < i; j++) {
    if (same_name(e, entry_at(c, j)))
      return fail(msg, "container: two tensors have the same name", EM_ERR_DIMS);
  }
  uint32_t format = u32_at(e + 48), group = u32_at(e + 52), ndim = u32_at(e + 56);
  if (format < MC_F32 || format > MC_Q4)
    return fail(msg, "container: a tensor has an unknown format", EM_ERR_DIMS);
  if (ndim < 1 || ndim > 4 || u32_at(e + 60) != 0)
    return fail(msg, "container: a tensor's ndim is not 1..4 or its reserved field is set",
                EM_ERR_DIMS);
  uint64_t count = 1;
  for (uint32_t d = 0; d < 4; d++) {
    uint64_t extent = u64_at(e + 64 + 8 * d);
    if (d >= ndim) {
      if (extent) return fail(msg, "container: a shape entry past ndim is not 0", EM_ERR_DIMS);
      continue;
    }
    if (extent == 0) return fail(msg, "container: a tensor has a zero dimension", EM_ERR_DIMS);
    if (extent > ((uint64_t)1 << 48) / count)
      return fail(msg, "container: a tensor has more than 2^48 elements", EM_ERR_OVERFLOW);
    count *= extent;
  }
  uint64_t row = u64_at(e + 64 + 8 * (ndim - 1));
  uint64_t voff = u64_at(e + 96), vsize = u64_at(e + 104);
  uint64_t soff = u64_at(e + 112), ssize = u64_at(e + 120);
  uint64_t want_values, want_scales = 0;
  if (format == MC_Q8 || format == MC_Q4) {
    if (group == 0 || row % group != 0)
      return fail(msg, "container: a quantized tensor's group size does not divide its rows",
                  EM_ERR_DIMS);
    if (format == MC_Q4 && group % 2 != 0)
      return fail(msg, "container: a q4 tensor has an odd group size", EM_ERR_DIMS);
    want_values = format == MC_Q8 ? count : count / 2;
    want_scales = 4 * (count / group);
  } else {
    if (group || soff || ssize)
      return fail(msg, "container: an f32/f16 tensor has a group size or scales", EM_ERR_DIMS);
    want_values = format == MC_F32 ? 4 * count : 2 * count;
  }
  if (vsize != want_values || ssize != want_scales)
    return fail(msg, "container: a tensor's values/scales sizes do not match its shape",
                EM_ERR_DIMS);
  const mc_section *data = &c->sections[MC_SECTION_TENSOR_DATA - 1];
  uint64_t data_end = data->offset + data->size;
  uint64_t at[2] = {voff, soff}, size[2] = {vsize, ssize};
  for (int r = 0; r < (ssize ? 2 : 1); r++) {
    if (at[r] % MC_ALIGN)
      return fail(msg, "container: a tensor region is not 64-byte aligned", EM_ERR_ALIGN);
    if (at[r] < data->offset || at[r] > data_end || size[r] > data_end - at[r])
      return fail(msg, "container: a tensor region lies outside the tensor data section",
                  EM_ERR_TRUNCATED);
  }
  if (ssize && overlaps(voff, voff + vsize, soff, soff + ssize))
    return fail(msg, "container: a tensor's values and scales overlap", EM_ERR_DIMS);
  for (uint32_t j = 0; j < i; j++) { /* earlier entries are checked: their regions are sane */
    mc_tensor o;
    decode_entry(c, j, &o);
    uint64_t o0 = (uint64_t)((const uint8_t *)o.values - c->bytes);
    uint64_t s0 = o.scales ? (uint64_t)((const uint8_t *)o.scales - c->bytes) : 0;
    for (int r = 0; r < (ssize ? 2 : 1); r++) {
      if (overlaps(at[r], at[r] + size[r], o0, o0 + o.values_size) ||
          (o.scales_size && overlaps(at[r], at[r] + size[r], s0, s0 + o.scales_size)))
        return fail(msg, "container: two tensor regions overlap", EM_ERR_DIMS);
    }
  }
  return EM_OK;
}

static em_status check_table(mc_container *c, const char **msg) {
  if (c->tensor_count == 0) return fail(msg, "container: tensor count is 0", EM_ERR_DIMS);
  if (c->sections[0].size != (uint64_t)c->tensor_count * MC_ENTRY_SIZE)
    return fail(msg, "container: tensor table size is not tensor_count * 128", EM_ERR_DIMS);
  uint64_t largest = 0;
  uint32_t largest_index = 0;
  for (uint32_t i = 0; i < c->tensor_count; i++) {
    em_status s = check_entry(c, i, msg);
    if (s != EM_OK) return s;
    mc_tensor t;
    decode_entry(c, i, &t);
    if (t.count > largest) {
      largest = t.count;
      largest_index = i;
    }
  }
  mc_tensor big;
  decode_entry(c, largest_index, &big);
  if (c->weight_format != big.format || c->group_size != big.group_size)
    return fail(msg, "container: header weight format/group size differ from the largest tensor's",
                EM_ERR_DIMS);
  return EM_OK;
}

/* ---------------------------------------------------------------------------------------
 * Tokenizer section */

/* A cursor over a payload that never reads past its end. */
typedef struct cursor {
  const uint8_t *p;
  uint64_t size, off;
} cursor;

static bool take_u32(cursor *k, uint32_t *v) {
  if (k->size - k->off < 4) return false;
  *v = u32_at(k->p + k->off);
  k->off += 4;
  return true;
}

static bool skip(cursor *k, uint64_t n) {
  if (n > k->size - k->off) return false;
  k->off += n;
  return true;
}

/* The special tokens {u32 id; u32 length; text} that end both BPE payloads. */
static em_status check_specials(cursor *k, uint32_t vocab_size, const char **msg) {
  uint32_t n, id, len;
  if (!take_u32(k, &n)) return fail(msg, "container: BPE payload truncated", EM_ERR_TRUNCATED);
  for (uint32_t i = 0; i < n; i++) {
    if (!take_u32(k, &id) || !take_u32(k, &len) || !skip(k, len))
      return fail(msg, "container: BPE payload truncated in the special tokens", EM_ERR_TRUNCATED);
    if (id >= vocab_size)
      return fail(msg, "container: a special token id is outside the vocabulary", EM_ERR_DIMS);
  }
  return EM_OK;
}

static em_status check_tokenizer(mc_container *c, const char **msg) {
  const mc_section *s = &c->sections[MC_SECTION_TOKENIZER - 1];
  if (s->size < MC_TOKENIZER_HEADER_SIZE)
    return fail(msg, "container: tokenizer section shorter than its 32-byte header",
                EM_ERR_TRUNCATED);
  const uint8_t *h = c->bytes + s->offset;
  mc_tokenizer *t = &c->tokenizer;
  t->kind = u32_at(h);
  t->vocab_size = u32_at(h + 4);
  t->bos_id = u32_at(h + 8);
  t->eos_id = u32_at(h + 12);
  t->max_token_length = u32_at(h + 16);
  t->payload = h + MC_TOKENIZER_HEADER_SIZE;
  t->payload_size = (size_t)(s->size - MC_TOKENIZER_HEADER_SIZE);
  if (u32_at(h + 20) || u32_at(h + 24) || u32_at(h + 28))
    return fail(msg, "container: tokenizer header reserved fields are not 0", EM_ERR_DIMS);
  uint32_t model_vocab =
      c->architecture == MC_ARCH_LLAMA ? c->params.llama.vocab_size : c->params.nanochat.vocab_size;
  if (t->vocab_size != model_vocab)
    return fail(msg, "container: tokenizer vocabulary size differs from the model's", EM_ERR_DIMS);
  if (t->vocab_size == 0 || t->bos_id >= t->vocab_size || t->eos_id >= t->vocab_size)
    return fail(msg, "container: tokenizer BOS/EOS id outside the vocabulary", EM_ERR_DIMS);
  cursor k = {t->payload, t->payload_size, 0};
  uint32_t n;
  if (t->kind == MC_TOKENIZER_LLAMA2C) {
    uint32_t max_len;
    if (!take_u32(&k, &max_len))
      return fail(msg, "container: tokenizer.bin payload truncated", EM_ERR_TRUNCATED);
    if (max_len == 0 || max_len > (1u << 16) || max_len != t->max_token_length)
      return fail(msg,
                  "container: tokenizer.bin max_token_length is bad or differs from the "
                  "tokenizer header",
                  EM_ERR_DIMS);
    for (uint32_t i = 0; i < t->vocab_size; i++) {
      uint32_t score_bits, len;
      if (!take_u32(&k, &score_bits) || !take_u32(&k, &len))
        return fail(msg, "container: tokenizer.bin payload truncated", EM_ERR_TRUNCATED);
      if ((score_bits & 0x7F800000u) == 0x7F800000u)
        return fail(msg, "container: tokenizer.bin has a non-finite score", EM_ERR_DIMS);
      if (len > max_len)
        return fail(msg, "container: tokenizer.bin token longer than max_token_length",
                    EM_ERR_DIMS);
      if (!skip(&k, len))
        return fail(msg, "container: tokenizer.bin payload truncated", EM_ERR_TRUNCATED);
    }
  } else if (t->kind == MC_TOKENIZER_NANOCHAT) {
    if (!take_u32(&k, &n)) return fail(msg, "container: BPE payload truncated", EM_ERR_TRUNCATED);
    if (n > t->vocab_size)
      return fail(msg, "container: BPE payload has more ranked tokens than the vocabulary",
                  EM_ERR_DIMS);
    uint32_t len;
    for (uint32_t i = 0; i < n; i++) {
      if (!take_u32(&k, &len) || !skip(&k, len))
        return fail(msg, "container: BPE payload truncated in the ranked tokens", EM_ERR_TRUNCATED);
    }
    if (!take_u32(&k, &len) || !skip(&k, len))
      return fail(msg, "container: BPE payload truncated in the split pattern", EM_ERR_TRUNCATED);
    em_status st = check_specials(&k, t->vocab_size, msg);
    if (st != EM_OK) return st;
  } else if (t->kind == MC_TOKENIZER_HF) {
    /* pre-tokenizer, flags (em_tokenizer_load_hf checks their values), tokens, merges */
    uint32_t len, longest = 0;
    if (!take_u32(&k, &n) || !take_u32(&k, &n) || !take_u32(&k, &n))
      return fail(msg, "container: BPE payload truncated", EM_ERR_TRUNCATED);
    if (n > t->vocab_size)
      return fail(msg, "container: BPE payload has more tokens than the vocabulary", EM_ERR_DIMS);
    for (uint32_t i = 0; i < n; i++) {
      if (!take_u32(&k, &len) || !skip(&k, len))
        return fail(msg, "container: BPE payload truncated in the tokens", EM_ERR_TRUNCATED);
      if (len > longest) longest = len;
    }
    if (longest != t->max_token_length)
      return fail(msg, "container: BPE longest token differs from the tokenizer header",
                  EM_ERR_DIMS);
    if (!take_u32(&k, &n) || !skip(&k, 12ull * n))
      return fail(msg, "container: BPE payload truncated in the merges", EM_ERR_TRUNCATED);
    em_status st = check_specials(&k, t->vocab_size, msg);
    if (st != EM_OK) return st;
  } else {
    return fail(msg, "container: unknown tokenizer kind (1 llama2.c, 2 nanochat, 3 Hugging Face)",
                EM_ERR_UNSUPPORTED);
  }
  if (k.off != k.size)
    return fail(msg, "container: bytes after the tokenizer payload's last token", EM_ERR_DIMS);
  return EM_OK;
}

/* ---------------------------------------------------------------------------------------
 * Public */

em_status mc_open(mc_container *c, const void *bytes, size_t size, unsigned flags,
                  const char **msg) {
  *msg = "ok";
  if (!c || !bytes) return fail(msg, "container: null argument", EM_ERR_ARG);
  c->bytes = (const uint8_t *)bytes;
  c->size = size;
  em_status s = check_header(c, flags, msg);
  if (s == EM_OK) s = read_params(c, msg);
  if (s == EM_OK) s = check_table(c, msg);
  if (s == EM_OK) s = check_tokenizer(c, msg);
  return s;
}

void mc_tensor_at(const mc_container *c, uint32_t i, mc_tensor *out) { decode_entry(c, i, out); }

static bool name_is(const char *entry, const char *name) {
  uint32_t i = 0;
  for (; i < MC_NAME_SIZE && name[i]; i++) {
    if (entry[i] != name[i]) return false;
  }
  return i < MC_NAME_SIZE && entry[i] == 0;
}

em_status mc_find(const mc_container *c, const char *name, mc_tensor *out, const char **msg) {
  for (uint32_t i = 0; i < c->tensor_count; i++) {
    if (name_is((const char *)entry_at(c, i), name)) {
      decode_entry(c, i, out);
      return EM_OK;
    }
  }
  return fail(msg, "container: a tensor the architecture needs is missing", EM_ERR_DIMS);
}

em_status mc_matrix(const mc_tensor *t, uint64_t first_row, uint64_t rows, uint64_t cols,
                    em_matrix *out) {
  if (cols == 0 || cols != t->shape[t->ndim - 1] || rows == 0 || rows > 0x7fffffff ||
      cols > 0x7fffffff)
    return EM_ERR_DIMS;
  uint64_t total_rows = t->count / cols;
  if (first_row > total_rows || rows > total_rows - first_row) return EM_ERR_DIMS;
  uint64_t start = first_row * cols; /* first value */
  const uint8_t *v = (const uint8_t *)t->values;
  out->rows = (int)rows;
  out->cols = (int)cols;
  out->group_size = (int)t->group_size;
  out->scales = NULL;
  switch (t->format) {
    case MC_F32:
      out->dtype = EM_F32;
      out->data = v + 4 * start;
      if ((uintptr_t)out->data & 3u) return EM_ERR_ALIGN;
      return EM_OK;
    case MC_F16:
      out->dtype = EM_F16;
      out->data = v + 2 * start;
      if ((uintptr_t)out->data & 1u) return EM_ERR_ALIGN;
      return EM_OK;
    case MC_Q8:
    case MC_Q4:
      out->dtype = t->format == MC_Q8 ? EM_Q8 : EM_Q4;
      out->data = t->format == MC_Q8 ? v + start : v + start / 2;
      out->scales = t->scales + start / t->group_size;
      if ((uintptr_t)out->scales & 3u) return EM_ERR_ALIGN;
      return EM_OK;
  }
  return EM_ERR_DIMS;
}

float mc_value(const mc_tensor *t, uint64_t i) {
  const uint8_t *v = (const uint8_t *)t->values;
  switch (t->format) {
    case MC_F32:
      return f32_at(v + 4 * i);
    case MC_F16:
      return em_f16_to_f32((uint16_t)(v[2 * i] | v[2 * i + 1] << 8));
    case MC_Q8:
      return (float)(int8_t)v[i] * f32_at((const uint8_t *)t->scales + 4 * (i / t->group_size));
    case MC_Q4: {
      int nibble = (v[i / 2] >> (4 * (i & 1))) & 0xF;
      return (float)((nibble ^ 8) - 8) *
             f32_at((const uint8_t *)t->scales + 4 * (i / t->group_size));
    }
  }
  return 0.0f;
}

/* ---------------------------------------------------------------------------------------
 * Manifest: a protobuf walk that reads just what a board needs */

typedef struct pb_cursor {
  const uint8_t *p, *end;
} pb_cursor;

static bool pb_varint(pb_cursor *c, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && c->p < c->end; shift += 7) {
    uint8_t b = *c->p++;
    v |= (uint64_t)(b & 0x7fu) << shift;
    if (!(b & 0x80u)) {
      *out = v;
      return true;
    }
  }
  return false;
}

/* Finds field `field` of wire type `wire` in the message [c->p, c->end), skipping the others:
 * on success c points at its value (a length-delimited value: its bytes, c->end its end). */
static bool pb_find(pb_cursor *c, uint64_t field, uint64_t wire) {
  while (c->p < c->end) {
    uint64_t key, len;
    if (!pb_varint(c, &key)) return false;
    uint64_t type = key & 7u, number = key >> 3;
    if (number == field && type == wire) {
      if (wire != 2) return true;
      if (!pb_varint(c, &len) || len > (uint64_t)(c->end - c->p)) return false;
      c->end = c->p + len;
      return true;
    }
    switch (type) {
      case 0:
        if (!pb_varint(c, &len)) return false;
        break;
      case 1:
      case 5:
        len = type == 1 ? 8u : 4u;
        if (len > (uint64_t)(c->end - c->p)) return false;
        c->p += len;
        break;
      case 2:
        if (!pb_varint(c, &len) || len > (uint64_t)(c->end - c->p)) return false;
        c->p += len;
        break;
      default:
        return false;
    }
  }
  return false;
}

uint32_t mc_chat_template(const mc_container *c) {
  const mc_section *m = &c->sections[MC_SECTION_MANIFEST - 1];
  pb_cursor cur = {c->bytes + m->offset, c->bytes + m->offset + m->size};
  uint64_t kind;
  if (!pb_find(&cur, 11, 2) || !pb_find(&cur, 1, 0) || !pb_varint(&cur, &kind)) return 0;
  return kind <= 0xffffffffu ? (uint32_t)kind : 0;
}
