/* Llama engine: llama2.c model files read in place, and the forward pass.
 * Sections in data-flow order: header -> weights -> run state -> forward -> engine table. */
#include "llama/llama.h"

#include <stdint.h>

#include "container/container.h"
#include "engine/mathf.h"
#include "engine/ops.h"

#define LLAMA_MAGIC 0x616b3432u            /* "ak42" as a little-endian uint32 */
#define LLAMA_HEADER_V1 256                /* v1/v2 header bytes */
#define LLAMA_HEADER_V0 28                 /* v0: 7 int32 */
#define INFERPI_NANOCHAT_MAGIC 0x4E434854u /* "NCHT" */

static const float kRmsEps = 1e-5f;
static const float kRopeTheta = 10000.0f;

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

static em_status fail(const char **msg, const char *text, em_status status) {
  *msg = text;
  return status;
}

/* Checks that the seven numbers describe a buildable transformer. */
static em_status check_dims(const llama_config *c, const char **msg) {
  if (c->dim <= 0 || c->hidden_dim <= 0 || c->n_layers <= 0 || c->n_heads <= 0 ||
      c->n_kv_heads <= 0 || c->vocab_size <= 0 || c->seq_len <= 0)
    return fail(msg, "llama: header has a zero or negative dimension", EM_ERR_DIMS);
  if (c->dim % c->n_heads != 0)
    return fail(msg, "llama: dim is not a multiple of n_heads", EM_ERR_DIMS);
  if ((c->dim / c->n_heads) % 2 != 0)
    return fail(msg, "llama: head size is odd (RoPE rotates pairs)", EM_ERR_DIMS);
  if (c->n_kv_heads > c->n_heads || c->n_heads % c->n_kv_heads != 0)
    return fail(msg, "llama: n_heads is not a multiple of n_kv_heads", EM_ERR_DIMS);
  if (c->version == 2) {
    if (c->group_size <= 0 || c->dim % c->group_size != 0 || c->hidden_dim % c->group_size != 0)
      return fail(msg, "llama: v2 group size must divide dim and hidden_dim", EM_ERR_DIMS);
  }
  return EM_OK;
}

em_status llama_read_config(llama_config *c, const void *bytes, size_t size, const char **msg) {
  const uint8_t *b = (const uint8_t *)bytes;
  *msg = "ok";
  if (!b || size < 4) return fail(msg, "llama: file shorter than any header", EM_ERR_TRUNCATED);
  c->rope_theta = kRopeTheta;
  c->norm_eps = kRmsEps;
  c->rope_split = false;
  if (read_u32(b) == INFERPI_NANOCHAT_MAGIC)
    return fail(msg,
                "llama: an InferPi nanochat model.bin (NCHT); its layout is not published, "
                "export the checkpoint to a container instead",
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
  return check_dims(c, msg);
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

static bool mul_size(size_t a, size_t b, size_t *out) {
  if (b != 0 && a > (size_t)-1 / b) return false;
  *out = a * b;
  return true;
}

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

/* ---------------------------------------------------------------------------------------
 * Run state */

/* n floats from the arena, 16-byte aligned; adds their bytes to *total. */
static float *alloc_floats(em_arena *arena, size_t n, size_t *total) {
  float *p = (float *)em_arena_alloc_array(arena, n, sizeof(float), 16);
  if (p) *total += n * sizeof(float);
  return p;
}

static em_status build_run_state(llama_run_state *s, const llama_config *c, int seq_len,
                                 em_arena *arena, em_memory_report *mem) {
  size_t dim = (size_t)c->dim, hidden = (size_t)c->hidden_dim;
  size_t kv_dim = dim / (size_t)c->n_heads * (size_t)c->n_kv_heads;
  size_t head_size = dim / (size_t)c->n_heads;
  size_t cache_floats, att_floats;
  if (!mul_size((size_t)c->n_layers, (size_t)seq_len, &cache_floats) ||
      !mul_size(cache_floats, kv_dim, &cache_floats) ||
      !mul_size((size_t)c->n_heads, (size_t)seq_len, &att_floats))
    return EM_ERR_OVERFLOW;

  mem->kv_cache = 0;
  s->key_cache = alloc_floats(arena, cache_floats, &mem->kv_cache);
  s->value_cache = alloc_floats(arena, cache_floats, &mem->kv_cache);
  if (!s->key_cache || !s->value_cache) return EM_ERR_NOMEM;

  size_t *act = &mem->activations;
  *act = 0;
  s->x = alloc_floats(arena, dim, act);
  s->xb = alloc_floats(arena, dim, act);
  s->xb2 = alloc_floats(arena, dim, act);
  s->hb = alloc_floats(arena, hidden, act);
  s->hb2 = alloc_floats(arena, hidden, act);
  s->q = alloc_floats(arena, dim, act);
  s->att = alloc_floats(arena, att_floats, act);
  s->logits = alloc_floats(arena, (size_t)c->vocab_size, act);
  s->rope_cos = alloc_floats(arena, head_size / 2, act);
  s->rope_sin = alloc_floats(arena, head_size / 2, act);
  if (!s->x || !s->xb || !s->xb2 || !s->hb || !s->hb2 || !s->q || !s->att || !s->logits ||
      !s->rope_cos || !s->rope_sin)
    return EM_ERR_NOMEM;
  s->xq.q = NULL;
  s->xq.s = NULL;
  if (c->group_size > 0) {
    size_t widest = dim > hidden ? dim : hidden;
    s->xq.q = (int8_t *)em_arena_alloc(arena, widest, 16);
    s->xq.s = alloc_floats(arena, widest / (size_t)c->group_size, act);
    if (!s->xq.q || !s->xq.s) return EM_ERR_NOMEM;
    *act += widest;
  }
  return EM_OK;
}

/* The context length, run state and memory report of a model whose weights are mapped. */
static em_status finish_load(llama_model *m, const em_load_options *options, em_arena *arena,
                             size_t mark, size_t in_place, size_t copied, const char **msg) {
  const llama_config *c = &m->config;
  m->seq_len = c->seq_len;
  if (options && options->max_seq_len > 0 && options->max_seq_len < c->seq_len)
    m->seq_len = options->max_seq_len;
  m->parallel = options ? options->parallel : (em_parallel){NULL, NULL};
  m->pos = 0;
  m->memory.weights_in_place = in_place;
  m->memory.weights_copied = copied;
  em_status status = build_run_state(&m->state, c, m->seq_len, arena, &m->memory);
  if (status != EM_OK) {
    em_arena_reset(arena, mark);
    return fail(msg,
                status == EM_ERR_NOMEM ? "llama: arena too small for KV cache and activations"
                                       : "llama: KV cache size does not fit in size_t",
                status);
  }
  m->memory.arena_used = em_arena_used(arena) - mark;
  return EM_OK;
}

/* ---------------------------------------------------------------------------------------
 * Containers (docs/CONTAINER.md): tensors by name, layers stacked on axis 0. */

typedef struct container_map {
  const mc_container *c;
  em_arena *arena;
  size_t in_place, copied;
  int min_group; /* smallest q8/q4 group size seen, 0 if none */
  em_status status;
  const char *msg;
} container_map;

/* The tensor `name`, checked to have exactly the given shape (n dims). */
static bool find_shaped(container_map *m, const char *name, int n, const uint64_t *shape,
                        mc_tensor *t) {
  if (m->status != EM_OK) return false;
  if (mc_find(m->c, name, t, &m->msg) != EM_OK) {
    m->status = EM_ERR_DIMS;
    m->msg = "llama: the container lacks a tensor llama2.c's layout needs";
    return false;
  }
  bool ok = t->ndim == (uint32_t)n;
  for (int d = 0; ok && d < n; d++) ok = t->shape[d] == shape[d];
  if (!ok) {
    m->status = EM_ERR_DIMS;
    m->msg = "llama: a container tensor's shape differs from the header's dimensions";
  }
  return ok;
}

/* Layer l's (rows, cols) slice of a stacked matrix tensor (or the whole of a 2-D one). */
static em_matrix container_matrix(container_map *m, const mc_tensor *t, int layer, int rows,
                                  int cols) {
  em_matrix out = {EM_F32, NULL, NULL, rows, cols, 0};
  if (m->status != EM_OK) return out;
  em_status s =
      mc_matrix(t, (uint64_t)layer * (uint64_t)rows, (uint64_t)rows, (uint64_t)cols, &out);
  if (s != EM_OK) {
    m->status = s;
    m->msg = "llama: a container matrix cannot be viewed in place (shape or alignment)";
    return out;
  }
  if (out.group_size > 0 && (m->min_group == 0 || out.group_size < m->min_group))
    m->min_group = out.group_size;
  return out;
}

/* A norm vector: in place when f32, else widened into the arena. */
static const float *container_vector(container_map *m, const mc_tensor *t, int layer, int n) {
  if (m->status != EM_OK) return NULL;
  size_t first = (size_t)layer * (size_t)n;
  if (t->format == MC_F32) {
    m->in_place += (size_t)n * sizeof(float);
    return (const float *)t->values + first;
  }
  float *copy = (float *)em_arena_alloc_array(m->arena, (size_t)n, sizeof(float), 16);
  if (!copy) {
    m->status = EM_ERR_NOMEM;
    m->msg = "llama: arena too small for widened norm weights";
    return NULL;
  }
  for (int i = 0; i < n; i++) copy[i] = mc_value(t, first + (size_t)i);
  m->copied += (size_t)n * sizeof(float);
  return copy;
}

static bool finite_positive(float x) { return x > 0.0f && x <= 3.4e38f; }

static em_status config_from_container(llama_config *c, const mc_container *mc, const char **msg) {
  const mc_llama_params *p = &mc->params.llama;
  const uint32_t dims[7] = {p->dim,        p->hidden_dim, p->n_layers, p->n_heads,
                            p->n_kv_heads, p->vocab_size, p->seq_len};
  for (int i = 0; i < 7; i++) {
    if (dims[i] == 0 || dims[i] > 0x7fffffffu)
      return fail(msg, "llama: container dimension is 0 or above 2^31", EM_ERR_DIMS);
  }
  c->dim = (int)p->dim;
  c->hidden_dim = (int)p->hidden_dim;
  c->n_layers = (int)p->n_layers;
  c->n_heads = (int)p->n_heads;
  c->n_kv_heads = (int)p->n_kv_heads;
  c->vocab_size = (int)p->vocab_size;
  c->seq_len = (int)p->seq_len;
  c->shared_classifier = p->shared_classifier != 0;
  c->version = LLAMA_CONTAINER;
  c->group_size = 0;
  c->rope_theta = p->rope_theta;
  c->norm_eps = p->norm_eps;
  if (p->shared_classifier > 1)
    return fail(msg, "llama: container shared_classifier is not 0 or 1", EM_ERR_DIMS);
  if (p->rope_layout != MC_ROPE_INTERLEAVED && p->rope_layout != MC_ROPE_HALF_SPLIT)
    return fail(msg, "llama: container rope_layout is not 1 (interleaved) or 2 (half split)",
                EM_ERR_UNSUPPORTED);
  c->rope_split = p->rope_layout == MC_ROPE_HALF_SPLIT;
  if (!finite_positive(c->rope_theta) || !finite_positive(c->norm_eps))
    return fail(msg, "llama: container rope_theta or norm_eps is not a positive number",
                EM_ERR_DIMS);
  return check_dims(c, msg);
}

em_status llama_load_container(llama_model **out, const void *bytes, size_t size,
                               const em_load_options *options, em_arena *arena, const char **msg) {
  *msg = "ok";
  if (!out || !bytes || !arena) return fail(msg, "llama: null argument", EM_ERR_ARG);
  *out = NULL;
  if ((uintptr_t)bytes & 3u)
    return fail(msg, "llama: container buffer must be 4-byte aligned", EM_ERR_ALIGN);
  mc_container mc;
  em_status status = mc_open(&mc, bytes, size, 0, msg);
  if (status != EM_OK) return status;
  if (mc.architecture != MC_ARCH_LLAMA)
    return fail(msg, "llama: the container holds another architecture", EM_ERR_UNSUPPORTED);
  if (mc.tokenizer.kind != MC_TOKENIZER_LLAMA2C)
    return fail(msg, "llama: the container's tokenizer is not a llama2.c tokenizer.bin",
                EM_ERR_UNSUPPORTED);
  llama_config c;
  status = config_from_container(&c, &mc, msg);
  if (status != EM_OK) return status;

  size_t mark = em_arena_mark(arena);
  llama_model *m = (llama_model *)em_arena_alloc(arena, sizeof *m, 16);
  llama_layer *layers =
      m ? (llama_layer *)em_arena_alloc_array(arena, (size_t)c.n_layers, sizeof *layers, 16) : NULL;
  if (!layers) {
    em_arena_reset(arena, mark);
    return fail(msg, "llama: arena too small for the layer table", EM_ERR_NOMEM);
  }
  uint64_t L = (uint64_t)c.n_layers, dim = (uint64_t)c.dim, hidden = (uint64_t)c.hidden_dim;
  uint64_t kv = dim / (uint64_t)c.n_heads * (uint64_t)c.n_kv_heads, vocab = (uint64_t)c.vocab_size;
  container_map map = {&mc, arena, 0, 0, 0, EM_OK, "ok"};
  mc_tensor emb, att, ffn, fin, wq, wk, wv, wo, w1, w2, w3, cls;
  find_shaped(&map, "token_embedding", 2, (uint64_t[]){vocab, dim}, &emb);
  find_shaped(&map, "rms_att", 2, (uint64_t[]){L, dim}, &att);
  find_shaped(&map, "rms_ffn", 2, (uint64_t[]){L, dim}, &ffn);
  find_shaped(&map, "rms_final", 1, (uint64_t[]){dim}, &fin);
  find_shaped(&map, "wq", 3, (uint64_t[]){L, dim, dim}, &wq);
  find_shaped(&map, "wk", 3, (uint64_t[]){L, kv, dim}, &wk);
  find_shaped(&map, "wv", 3, (uint64_t[]){L, kv, dim}, &wv);
  find_shaped(&map, "wo", 3, (uint64_t[]){L, dim, dim}, &wo);
  find_shaped(&map, "w1", 3, (uint64_t[]){L, hidden, dim}, &w1);
  find_shaped(&map, "w2", 3, (uint64_t[]){L, dim, hidden}, &w2);
  find_shaped(&map, "w3", 3, (uint64_t[]){L, hidden, dim}, &w3);
  if (!c.shared_classifier) find_shaped(&map, "wcls", 2, (uint64_t[]){vocab, dim}, &cls);

  llama_weights *w = &m->weights;
  w->layers = layers;
  w->token_embedding = container_matrix(&map, &emb, 0, c.vocab_size, c.dim);
  w->classifier = c.shared_classifier ? w->token_embedding
                                      : container_matrix(&map, &cls, 0, c.vocab_size, c.dim);
  w->rms_final = container_vector(&map, &fin, 0, c.dim);
  int kv_dim = (int)kv;
  for (int l = 0; l < c.n_layers && map.status == EM_OK; l++) {
    llama_layer *y = &layers[l];
    y->rms_att = container_vector(&map, &att, l, c.dim);
    y->rms_ffn = container_vector(&map, &ffn, l, c.dim);
    y->wq = container_matrix(&map, &wq, l, c.dim, c.dim);
    y->wk = container_matrix(&map, &wk, l, kv_dim, c.dim);
    y->wv = container_matrix(&map, &wv, l, kv_dim, c.dim);
    y->wo = container_matrix(&map, &wo, l, c.dim, c.dim);
    y->w1 = container_matrix(&map, &w1, l, c.hidden_dim, c.dim);
    y->w2 = container_matrix(&map, &w2, l, c.dim, c.hidden_dim);
    y->w3 = container_matrix(&map, &w3, l, c.hidden_dim, c.dim);
  }
  if (map.status != EM_OK) {
    em_arena_reset(arena, mark);
    return fail(msg, map.msg, map.status);
  }
  /* matrices in place: every tensor but the norms */
  for (uint32_t i = 0; i < mc.tensor_count; i++) {
    mc_tensor t;
    mc_tensor_at(&mc, i, &t);
    if (t.name[0] != 'r') map.in_place += (size_t)(t.values_size + t.scales_size);
  }
  c.group_size = map.min_group;
  m->config = c;
  m->tokenizer_kind = mc.tokenizer.kind;
  m->tokenizer_bytes = mc.tokenizer.payload;
  m->tokenizer_size = mc.tokenizer.payload_size;
  m->bos_id = (int)mc.tokenizer.bos_id;
  m->eos_id = (int)mc.tokenizer.eos_id;
  status = finish_load(m, options, arena, mark, map.in_place, map.copied, msg);
  if (status == EM_OK) *out = m;
  return status;
}

em_status llama_load(llama_model **out, const void *bytes, size_t size,
                     const em_load_options *options, em_arena *arena, const char **msg) {
  *msg = "ok";
  if (!out || !bytes || !arena) return fail(msg, "llama: null argument", EM_ERR_ARG);
  *out = NULL;
  if (mc_probe(bytes, size)) return llama_load_container(out, bytes, size, options, arena, msg);
  llama_config c;
  em_status status = llama_read_config(&c, bytes, size, msg);
  if (status != EM_OK) return status;
  pick_headerless_version(&c, size);
  size_t expected;
  if (!model_file_size(&c, &expected))
    return fail(msg, "llama: the header's sizes overflow size_t", EM_ERR_OVERFLOW);
  if (expected > size) return fail(msg, "llama: file ends before its weights do", EM_ERR_TRUNCATED);
  if ((uintptr_t)bytes & (sizeof(float) - 1))
    return fail(msg, "llama: model buffer must be 4-byte aligned to use fp32 weights in place",
                EM_ERR_ALIGN);

  size_t mark = em_arena_mark(arena);
  llama_model *m = (llama_model *)em_arena_alloc(arena, sizeof *m, 16);
  llama_layer *layers =
      m ? (llama_layer *)em_arena_alloc_array(arena, (size_t)c.n_layers, sizeof *layers, 16) : NULL;
  if (!layers) {
    em_arena_reset(arena, mark);
    return fail(msg, "llama: arena too small for the layer table", EM_ERR_NOMEM);
  }
  m->config = c;
  m->weights.layers = layers;
  reader r = {
      (const uint8_t *)bytes,
      size,
      (c.version == 0 || c.version == LLAMA_INFERPI_F16) ? LLAMA_HEADER_V0 : LLAMA_HEADER_V1,
      arena,
      0,
      0,
      EM_OK,
      "ok"};
  map_weights(&r, &c, &m->weights);
  if (r.status != EM_OK) {
    em_arena_reset(arena, mark);
    return fail(msg, r.msg, r.status);
  }

  m->tokenizer_kind = 0;
  m->tokenizer_bytes = NULL;
  m->tokenizer_size = 0;
  m->bos_id = 1;
  m->eos_id = 2;
  status = finish_load(m, options, arena, mark, r.in_place, r.copied, msg);
  if (status == EM_OK) *out = m;
  return status;
}

/* ---------------------------------------------------------------------------------------
 * Forward pass */

/* out = w x; quantizes x first when the weights are int8. */
static void project(llama_model *m, float *out, const em_matrix *w, const float *x) {
  em_qvec *xq = &m->state.xq;
  if (w->dtype == EM_Q8 || w->dtype == EM_Q4) {
    xq->n = w->cols;
    xq->group_size = w->group_size;
    em_quantize_q8(xq->q, xq->s, x, w->cols, w->group_size);
  }
  em_matmul(&m->parallel, out, w, x, xq);
}

const float *llama_forward(llama_model *m, int token, int pos) {
  const llama_config *p = &m->config;
  const llama_weights *w = &m->weights;
  llama_run_state *s = &m->state;
  int dim = p->dim;
  int hidden_dim = p->hidden_dim;
  int head_size = dim / p->n_heads;
  int kv_dim = head_size * p->n_kv_heads;

  em_matrix_row(s->x, &w->token_embedding, token); /* x: (dim) */
  em_rope_angles(s->rope_cos, s->rope_sin, head_size, pos, p->rope_theta);

  for (int l = 0; l < p->n_layers; l++) {
    const llama_layer *layer = &w->layers[l];

    /* attention: xb = rmsnorm(x); q, k, v projections; k and v go straight into the cache */
    em_rmsnorm(s->xb, s->x, layer->rms_att, dim, p->norm_eps); /* xb: (dim) */
    size_t layer_offset = (size_t)l * (size_t)m->seq_len * (size_t)kv_dim;
    float *key_cache = s->key_cache + layer_offset;     /* (seq_len, kv_dim) */
    float *value_cache = s->value_cache + layer_offset; /* (seq_len, kv_dim) */
    float *k = key_cache + (size_t)pos * kv_dim;        /* (kv_dim) */
    float *v = value_cache + (size_t)pos * kv_dim;      /* (kv_dim) */
    project(m, s->q, &layer->wq, s->xb);                /* q: (n_heads, head_size) */
    project(m, k, &layer->wk, s->xb);                   /* k: (n_kv_heads, head_size) */
    project(m, v, &layer->wv, s->xb);                   /* v: (n_kv_heads, head_size) */

    /* RoPE on q and k: interleaved pairs, as llama2.c and Meta's checkpoints (or split
     * halves, as Hugging Face's, when the container says so) */
    if (p->rope_split) {
      em_rope_split(s->q, p->n_heads, head_size, s->rope_cos, s->rope_sin);
      em_rope_split(k, p->n_kv_heads, head_size, s->rope_cos, s->rope_sin);
    } else {
      em_rope_interleaved(s->q, p->n_heads, head_size, s->rope_cos, s->rope_sin);
      em_rope_interleaved(k, p->n_kv_heads, head_size, s->rope_cos, s->rope_sin);
    }

    /* multi-head attention over positions 0..pos, heads sharing kv heads (GQA) */
    em_attention_args att = {
        .out = s->xb, /* (n_heads, head_size) */
        .q = s->q,
        .k_cache = key_cache,
        .v_cache = value_cache,
        .att = s->att,
        .att_stride = m->seq_len, /* (n_heads, seq_len) */
        .n_heads = p->n_heads,
        .n_kv_heads = p->n_kv_heads,
        .head_size = head_size,
        .pos = pos,
        .window = 0,
        .score_divisor = em_sqrtf((float)head_size),
    };
    em_attention(&m->parallel, &att);

    /* output projection and residual */
    project(m, s->xb2, &layer->wo, s->xb); /* xb2: (dim) */
    em_add(s->x, s->xb2, dim);

    /* feed-forward: x += w2(silu(w1 xb) * w3 xb), xb = rmsnorm(x) */
    em_rmsnorm(s->xb, s->x, layer->rms_ffn, dim, p->norm_eps);
    project(m, s->hb, &layer->w1, s->xb);  /* hb: (hidden_dim) */
    project(m, s->hb2, &layer->w3, s->xb); /* hb2: (hidden_dim) */
    em_swiglu(s->hb, s->hb2, hidden_dim);
    project(m, s->xb, &layer->w2, s->hb); /* xb: (dim) */
    em_add(s->x, s->xb, dim);
  }

  em_rmsnorm(s->x, s->x, w->rms_final, dim, p->norm_eps);
  project(m, s->logits, &w->classifier, s->x); /* logits: (vocab_size) */
  return s->logits;
}

/* ---------------------------------------------------------------------------------------
 * Engine interface */

static em_status engine_load(void **model, const void *bytes, size_t size,
                             const em_load_options *options, em_arena *arena, const char **msg) {
  llama_model *m;
  em_status status = llama_load(&m, bytes, size, options, arena, msg);
  *model = status == EM_OK ? m : NULL;
  return status;
}

static void engine_info(const void *model, em_model_info *out) {
  const llama_model *m = (const llama_model *)model;
  out->engine = "llama";
  out->vocab_size = m->config.vocab_size;
  out->seq_len = m->seq_len;
  out->pos = m->pos;
  out->bos_id = m->bos_id;
  out->eos_id = m->eos_id;
}

static em_status engine_tokenizer(const void *model, em_tokenizer *tok, em_arena *arena,
                                  const char **msg) {
  const llama_model *m = (const llama_model *)model;
  if (m->tokenizer_kind != MC_TOKENIZER_LLAMA2C)
    return fail(msg, "llama: this model file carries no tokenizer (give tokenizer.bin)",
                EM_ERR_UNSUPPORTED);
  em_status s = em_tokenizer_load(tok, m->tokenizer_bytes, m->tokenizer_size, m->config.vocab_size,
                                  arena, msg);
  if (s == EM_OK) {
    tok->bos_id = m->bos_id;
    tok->eos_id = m->eos_id;
  }
  return s;
}

static em_status engine_decode(void *model, int token, const float **logits) {
  llama_model *m = (llama_model *)model;
  if (token < 0 || token >= m->config.vocab_size) return EM_ERR_ARG;
  if (m->pos >= m->seq_len) return EM_ERR_FULL;
  *logits = llama_forward(m, token, m->pos);
  m->pos++;
  return EM_OK;
}

static em_status engine_prefill(void *model, const int *tokens, int n, const float **logits) {
  for (int i = 0; i < n; i++) {
    em_status status = engine_decode(model, tokens[i], logits);
    if (status != EM_OK) return status;
  }
  return EM_OK;
}

static void engine_reset(void *model) { ((llama_model *)model)->pos = 0; }

static void engine_memory(const void *model, em_memory_report *out) {
  *out = ((const llama_model *)model)->memory;
}

const em_engine llama_engine = {
    .name = "llama",
    .probe = llama_probe,
    .load = engine_load,
    .info = engine_info,
    .prefill = engine_prefill,
    .decode = engine_decode,
    .reset = engine_reset,
    .memory = engine_memory,
    .tokenizer = engine_tokenizer,
};
