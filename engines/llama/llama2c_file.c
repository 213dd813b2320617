/* llama2.c model files (v0, v1, v2) and InferPi's fp16 model.bin: the header, the probe and
 * the weights read in place with every size checked (llama.h describes the formats). */
#include <stdint.h>

#include "common/fmt.h"
#include "container/container.h"
#include "engines/llama/llama_internal.h"
#include "llama/llama.h"

/* llama2.c's fixed RMSNorm epsilon and RoPE base (a container carries its own). */
static const float kRmsEps = 1e-5f;
static const float kRopeTheta = 10000.0f;

static em_status fail(const char **msg, const char *text, em_status status) {
  *msg = text;
  return status;
}

/* ---------------------------------------------------------------------------------------
 * Header */

static int32_t read_i32(const uint8_t *p) {
  int32_t v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

static uint32_t read_u32(const uint8_t *p) {
  uint32_t v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

em_status llama_read_config(llama_config *c, const void *bytes, size_t size, const char **msg) {
  const uint8_t *b = (const uint8_t *)bytes;
  *msg = "ok";
  if (!b || size < 4) return fail(msg, "llama: file shorter than any header", EM_ERR_TRUNCATED);
  c->rope_theta = kRopeTheta;
  c->norm_eps = kRmsEps;
  c->rope_split = false;
  if (read_u32(b) == MC_INFERPI_NANOCHAT_MAGIC)
    return fail(msg,
                "an InferPi nanochat model.bin (magic NCHT: InferPi's GPT-2 format), which no "
                "engine reads: export the nanochat checkpoint to a container instead",
                EM_ERR_UNSUPPORTED);
  if (read_u32(b) == MC_MAGIC)
    return fail(msg, "llama: a container; llama_load reads it, not llama_read_config",
                EM_ERR_MAGIC);
  const uint8_t *dims;
  if (read_u32(b) == LLAMA_MAGIC) {
    if (size < LLAMA_HEADER_V1)
      return fail(msg, "llama: file shorter than its 256-byte header", EM_ERR_TRUNCATED);
    c->version = read_i32(b + 4);
    if (c->version != 1 && c->version != 2)
      return fail(msg, "llama: ak42 file of a version other than 1 or 2", EM_ERR_VERSION);
    dims = b + 8;
    c->shared_classifier = b[36] != 0;
    c->group_size = c->version == 2 ? read_i32(b + 37) : 0;
  } else {
    if (read_i32(b) <= 0)
      return fail(msg, "llama: no ak42 magic and not a v0 header (dim <= 0)", EM_ERR_MAGIC);
    if (size < LLAMA_HEADER_V0)
      return fail(msg, "llama: file shorter than the v0 header", EM_ERR_TRUNCATED);
    c->version = 0;
    c->group_size = 0;
    dims = b;
  }
  c->dim = read_i32(dims);
  c->hidden_dim = read_i32(dims + 4);
  c->n_layers = read_i32(dims + 8);
  c->n_heads = read_i32(dims + 12);
  c->n_kv_heads = read_i32(dims + 16);
  c->vocab_size = read_i32(dims + 20);
  c->seq_len = read_i32(dims + 24);
  if (c->version == 0) { /* v0: a negative vocab size flags a separate classifier */
    c->shared_classifier = c->vocab_size > 0;
    if (c->vocab_size < 0 && c->vocab_size != INT32_MIN) c->vocab_size = -c->vocab_size;
  }
  return llama_check_dims(c, msg);
}

/* ---------------------------------------------------------------------------------------
 * Weights: a cursor over the file that checks every size (overflow-safe) before use. */

typedef struct reader {
  const uint8_t *base;
  size_t size, off;
  em_arena *arena; /* for the rare misaligned fp32 block that must be copied */
  size_t in_place, copied;
  em_status status;
  const char *msg;
} reader;

/* Bytes of `count` items of `elem` bytes: the next bytes of the file, or NULL on error. */
static const uint8_t *take(reader *r, size_t count, size_t elem) {
  size_t bytes;
  if (r->status != EM_OK) return NULL;
  if (!mul_size(count, elem, &bytes)) {
    r->status = EM_ERR_OVERFLOW;
    r->msg = "llama: a tensor size does not fit in size_t";
    return NULL;
  }
  if (bytes > r->size - r->off) {
    r->status = EM_ERR_TRUNCATED;
    r->msg = "llama: file ends before its weights do";
    return NULL;
  }
  const uint8_t *p = r->base + r->off;
  r->off += bytes;
  return p;
}

/* `count` fp32 values: in place when aligned, else copied into the arena. */
static const float *take_f32(reader *r, size_t count) {
  const uint8_t *p = take(r, count, sizeof(float));
  if (!p) return NULL;
  if (((uintptr_t)p & (sizeof(float) - 1)) == 0) {
    r->in_place += count * sizeof(float);
    return (const float *)p;
  }
  float *copy = (float *)em_arena_alloc_array(r->arena, count, sizeof(float), sizeof(float));
  if (!copy) {
    r->status = EM_ERR_NOMEM;
    r->msg = "llama: arena too small for a misaligned scale block";
    return NULL;
  }
  __builtin_memcpy(copy, p, count * sizeof(float));
  r->copied += count * sizeof(float);
  return copy;
}

/* `count` fp16 values widened to fp32 in the arena (InferPi's norms). */
static const float *take_f16_as_f32(reader *r, size_t count) {
  const uint8_t *p = take(r, count, 2);
  if (!p) return NULL;
  float *copy = (float *)em_arena_alloc_array(r->arena, count, sizeof(float), 16);
  if (!copy) {
    r->status = EM_ERR_NOMEM;
    r->msg = "llama: arena too small for the fp16 norm weights";
    return NULL;
  }
  for (size_t i = 0; i < count; i++)
    copy[i] = em_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
  r->copied += count * sizeof(float);
  return copy;
}

/* A (rows, cols) matrix: fp32 (v0, v1), int8 followed by its group scales (v2), or fp16
 * (InferPi). */
static em_matrix take_matrix(reader *r, const llama_config *c, int rows, int cols) {
  em_matrix m = {EM_F32, NULL, NULL, rows, cols, 0};
  size_t count;
  if (!mul_size((size_t)rows, (size_t)cols, &count)) {
    if (r->status == EM_OK) {
      r->status = EM_ERR_OVERFLOW;
      r->msg = "llama: a tensor size does not fit in size_t";
    }
    return m;
  }
  if (c->version == 2) {
    m.dtype = EM_Q8;
    m.group_size = c->group_size;
    m.data = take(r, count, 1);
    if (m.data) r->in_place += count;
    m.scales = take_f32(r, count / (size_t)c->group_size);
  } else if (c->version == LLAMA_INFERPI_F16) {
    m.dtype = EM_F16;
    m.data = take(r, count, 2);
    if (m.data) r->in_place += count * 2;
  } else {
    m.data = take_f32(r, count);
  }
  return m;
}

/* Per-layer tensors are stored layer after layer; these fill one field of every layer. */
static void take_layer_matrices(reader *r, const llama_config *c, llama_layer *layers, size_t field,
                                int rows, int cols) {
  for (int l = 0; l < c->n_layers; l++) {
    *(em_matrix *)((uint8_t *)&layers[l] + field) = take_matrix(r, c, rows, cols);
  }
}

static void take_layer_vectors(reader *r, const llama_config *c, llama_layer *layers, size_t field,
                               int n) {
  for (int l = 0; l < c->n_layers; l++) {
    *(const float **)((uint8_t *)&layers[l] + field) =
        c->version == LLAMA_INFERPI_F16 ? take_f16_as_f32(r, (size_t)n) : take_f32(r, (size_t)n);
  }
}

#define LAYER_FIELD(name) offsetof(llama_layer, name)

static void take_block_matrices(reader *r, const llama_config *c, llama_layer *layers) {
  int dim = c->dim, hidden = c->hidden_dim;
  int kv_dim = dim / c->n_heads * c->n_kv_heads;
  take_layer_matrices(r, c, layers, LAYER_FIELD(wq), dim, dim);
  take_layer_matrices(r, c, layers, LAYER_FIELD(wk), kv_dim, dim);
  take_layer_matrices(r, c, layers, LAYER_FIELD(wv), kv_dim, dim);
  take_layer_matrices(r, c, layers, LAYER_FIELD(wo), dim, dim);
  if (c->version == 0 || c->version == LLAMA_INFERPI_F16)
    take_layer_vectors(r, c, layers, LAYER_FIELD(rms_ffn), dim);
  take_layer_matrices(r, c, layers, LAYER_FIELD(w1), hidden, dim);
  take_layer_matrices(r, c, layers, LAYER_FIELD(w2), dim, hidden);
  take_layer_matrices(r, c, layers, LAYER_FIELD(w3), hidden, dim);
}

/* Maps every tensor in file order (see llama.h for the three layouts). */
static void map_weights(reader *r, const llama_config *c, llama_weights *w) {
  int dim = c->dim, head_size = c->dim / c->n_heads;
  if (c->version == 0 || c->version == LLAMA_INFERPI_F16) {
    bool half = c->version == LLAMA_INFERPI_F16;
    w->token_embedding = take_matrix(r, c, c->vocab_size, dim);
    take_layer_vectors(r, c, w->layers, LAYER_FIELD(rms_att), dim);
    take_block_matrices(r, c, w->layers); /* includes rms_ffn, between wo and w1 */
    w->rms_final = half ? take_f16_as_f32(r, (size_t)dim) : take_f32(r, (size_t)dim);
    size_t freq_cis; /* (seq_len, head_size / 2), real then imaginary: unused */
    if (!mul_size((size_t)c->seq_len, (size_t)head_size, &freq_cis)) freq_cis = (size_t)-1;
    take(r, freq_cis, half ? 2 : sizeof(float));
  } else {
    take_layer_vectors(r, c, w->layers, LAYER_FIELD(rms_att), dim);
    take_layer_vectors(r, c, w->layers, LAYER_FIELD(rms_ffn), dim);
    w->rms_final = take_f32(r, (size_t)dim);
    w->token_embedding = take_matrix(r, c, c->vocab_size, dim);
    take_block_matrices(r, c, w->layers);
  }
  w->classifier = c->shared_classifier ? w->token_embedding : take_matrix(r, c, c->vocab_size, dim);
}

static bool add_size(size_t a, size_t b, size_t *out) {
  if (a > (size_t)-1 - b) return false;
  *out = a + b;
  return true;
}

/* a*b + c*d ... as one overflow-checked accumulation: *acc += a * b. */
static bool add_product(size_t *acc, size_t a, size_t b) {
  size_t p;
  return mul_size(a, b, &p) && add_size(*acc, p, acc);
}

/* Bytes the whole file must have for this config (false when the sum overflows size_t). */
static bool model_file_size(const llama_config *c, size_t *out) {
  size_t dim = (size_t)c->dim, hidden = (size_t)c->hidden_dim, vocab = (size_t)c->vocab_size;
  size_t kv_dim = dim / (size_t)c->n_heads * (size_t)c->n_kv_heads;
  size_t layers = (size_t)c->n_layers;
  size_t per_layer = 0, matrix = 0, floats = 0, scales_bytes = 0;
  bool ok = add_product(&per_layer, dim, dim) &&    /* wq */
            add_product(&per_layer, kv_dim, dim) && /* wk */
            add_product(&per_layer, kv_dim, dim) && /* wv */
            add_product(&per_layer, dim, dim) &&    /* wo */
            add_product(&per_layer, hidden, dim) && /* w1 */
            add_product(&per_layer, hidden, dim) && /* w2 */
            add_product(&per_layer, hidden, dim) && /* w3 */
            add_product(&matrix, per_layer, layers) &&
            add_product(&matrix, vocab, dim) && /* token embedding */
            (c->shared_classifier || add_product(&matrix, vocab, dim)) &&
            add_product(&floats, 2 * layers, dim) &&                 /* rms_att, rms_ffn */
            add_size(floats, dim, &floats) &&                        /* rms_final */
            ((c->version != 0 && c->version != LLAMA_INFERPI_F16) || /* v0: freq_cis, */
             add_product(&floats, (size_t)c->seq_len, dim / (size_t)c->n_heads)); /* re+im */
  if (!ok) return false;
  size_t elem = c->version == LLAMA_INFERPI_F16 ? 2 : sizeof(float);
  if (c->version == 2) { /* int8 values, plus one fp32 scale per group */
    if (!mul_size(matrix / (size_t)c->group_size, sizeof(float), &scales_bytes)) return false;
  } else if (!mul_size(matrix, elem, &matrix)) {
    return false;
  }
  bool headerless = c->version == 0 || c->version == LLAMA_INFERPI_F16;
  return mul_size(floats, elem, out) && add_size(*out, matrix, out) &&
         add_size(*out, scales_bytes, out) &&
         add_size(*out, headerless ? LLAMA_HEADER_V0 : LLAMA_HEADER_V1, out);
}

/* A header without magic: v0 when its fp32 sizes fit in `size`, else InferPi fp16 when its
 * fp16 sizes are exactly `size`. Returns false (v0 kept) when neither. */
static bool pick_headerless_version(llama_config *c, size_t size) {
  size_t v0, f16;
  if (c->version != 0) return true;
  if (model_file_size(c, &v0) && v0 <= size) return true;
  c->version = LLAMA_INFERPI_F16;
  if (model_file_size(c, &f16) && f16 == size) return true;
  c->version = 0;
  return false;
}

int llama_probe(const void *bytes, size_t size) {
  if (mc_probe(bytes, size)) return mc_peek_architecture(bytes, size) == MC_ARCH_LLAMA ? 100 : 0;
  llama_config c;
  const char *msg;
  if (llama_read_config(&c, bytes, size, &msg) != EM_OK) return 0;
  pick_headerless_version(&c, size);
  size_t expected;
  if (!model_file_size(&c, &expected) || expected > size) return 0;
  if (c.version == 1 || c.version == 2) return 100;
  return expected == size ? 50 : 0; /* no magic: the sizes must add up exactly */
}

/* The message of a file shorter than its header says, with the sizes (one load at a time). */
static struct {
  char text[200];
  unsigned len;
} size_msg;

static void size_msg_putc(char ch) {
  if (size_msg.len + 1 < sizeof size_msg.text) size_msg.text[size_msg.len++] = ch;
}

static const char *truncated_msg(const llama_config *c, size_t expected, size_t size) {
  size_msg.len = 0;
  llama_config f16 = *c;
  f16.version = LLAMA_INFERPI_F16;
  size_t f16_size;
  if (c->version == 0 && model_file_size(&f16, &f16_size))
    fmt_printf(size_msg_putc,
               "llama: truncated: the header (no magic) needs %llu bytes as a llama2.c fp32 file "
               "or %llu as an InferPi fp16 model.bin, the file has %llu",
               (unsigned long long)expected, (unsigned long long)f16_size,
               (unsigned long long)size);
  else
    fmt_printf(size_msg_putc, "llama: truncated: the header needs %llu bytes, the file has %llu",
               (unsigned long long)expected, (unsigned long long)size);
  size_msg.text[size_msg.len] = '\0';
  return size_msg.text;
}

em_status llama2c_check_file(llama_config *c, const void *bytes, size_t size, const char **msg) {
  pick_headerless_version(c, size);
  size_t expected;
  if (!model_file_size(c, &expected))
    return fail(msg, "llama: the header's sizes overflow size_t", EM_ERR_OVERFLOW);
  if (expected > size) return fail(msg, truncated_msg(c, expected, size), EM_ERR_TRUNCATED);
  if ((uintptr_t)bytes & (sizeof(float) - 1))
    return fail(msg, "llama: model buffer must be 4-byte aligned to use fp32 weights in place",
                EM_ERR_ALIGN);
  return EM_OK;
}

em_status llama2c_map_weights(const llama_config *c, const void *bytes, size_t size,
                              em_arena *arena, llama_weights *w, size_t *in_place, size_t *copied,
                              const char **msg) {
  reader r = {
      (const uint8_t *)bytes,
      size,
      (c->version == 0 || c->version == LLAMA_INFERPI_F16) ? LLAMA_HEADER_V0 : LLAMA_HEADER_V1,
      arena,
      0,
      0,
      EM_OK,
      "ok"};
  map_weights(&r, c, w);
  *in_place = r.in_place;
  *copied = r.copied;
  if (r.status != EM_OK) return fail(msg, r.msg, r.status);
  return EM_OK;
}
