/* Llama engine: llama2.c model files read in place, and the forward pass.
 * Sections in data-flow order: header -> weights -> run state -> forward -> engine table. */
#include "llama/llama.h"

#include <stdint.h>

#include "engine/mathf.h"
#include "engine/ops.h"

#define LLAMA_MAGIC 0x616b3432u /* "ak42" as a little-endian uint32 */
#define LLAMA_HEADER_V1 256     /* v1/v2 header bytes */
#define LLAMA_HEADER_V0 28      /* v0: 7 int32 */

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

/* A (rows, cols) matrix: fp32 (v0, v1), or int8 followed by its group scales (v2). */
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
    *(const float **)((uint8_t *)&layers[l] + field) = take_f32(r, (size_t)n);
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
  if (c->version == 0) take_layer_vectors(r, c, layers, LAYER_FIELD(rms_ffn), dim);
  take_layer_matrices(r, c, layers, LAYER_FIELD(w1), hidden, dim);
  take_layer_matrices(r, c, layers, LAYER_FIELD(w2), dim, hidden);
  take_layer_matrices(r, c, layers, LAYER_FIELD(w3), hidden, dim);
}

/* Maps every tensor in file order (see llama.h for the three layouts). */
static void map_weights(reader *r, const llama_config *c, llama_weights *w) {
  int dim = c->dim, head_size = c->dim / c->n_heads;
  if (c->version == 0) {
    w->token_embedding = take_matrix(r, c, c->vocab_size, dim);
    take_layer_vectors(r, c, w->layers, LAYER_FIELD(rms_att), dim);
    take_block_matrices(r, c, w->layers); /* includes rms_ffn, between wo and w1 */
    w->rms_final = take_f32(r, (size_t)dim);
    size_t freq_cis; /* (seq_len, head_size / 2), real then imaginary: unused */
    if (!mul_size((size_t)c->seq_len, (size_t)head_size, &freq_cis)) freq_cis = (size_t)-1;
    take(r, freq_cis, sizeof(float));
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
            add_product(&floats, 2 * layers, dim) && /* rms_att, rms_ffn */
            add_size(floats, dim, &floats) &&        /* rms_final */
            (c->version != 0 ||                      /* v0: freq_cis, real and imaginary */
             add_product(&floats, (size_t)c->seq_len, dim / (size_t)c->n_heads));
  if (!ok) return false;
  if (c->version == 2) { /* int8 values, plus one fp32 scale per group */
    if (!mul_size(matrix / (size_t)c->group_size, sizeof(float), &scales_bytes)) return false;
  } else if (!mul_size(matrix, sizeof(float), &matrix)) {
    return false;
  }
  return mul_size(floats, sizeof(float), out) && add_size(*out, matrix, out) &&
         add_size(*out, scales_bytes, out) &&
         add_size(*out, c->version == 0 ? LLAMA_HEADER_V0 : LLAMA_HEADER_V1, out);
}

int llama_probe(const void *bytes, size_t size) {
  llama_config c;
  const char *msg;
  if (llama_read_config(&c, bytes, size, &msg) != EM_OK) return 0;
  size_t expected;
  if (!model_file_size(&c, &expected) || expected > size) return 0;
  if (c.version != 0) return 100;
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
  if (c->version == 2) {
    size_t widest = dim > hidden ? dim : hidden;
    s->xq.q = (int8_t *)em_arena_alloc(arena, widest, 16);
    s->xq.s = alloc_floats(arena, widest / (size_t)c->group_size, act);
    if (!s->xq.q || !s->xq.s) return EM_ERR_NOMEM;
    *act += widest;
  }
  return EM_OK;
}

em_status llama_load(llama_model **out, const void *bytes, size_t size,
                     const em_load_options *options, em_arena *arena, const char **msg) {
  *msg = "ok";
  if (!out || !bytes || !arena) return fail(msg, "llama: null argument", EM_ERR_ARG);
  *out = NULL;
  llama_config c;
  em_status status = llama_read_config(&c, bytes, size, msg);
  if (status != EM_OK) return status;
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
  reader r = {(const uint8_t *)bytes,
              size,
              c.version == 0 ? LLAMA_HEADER_V0 : LLAMA_HEADER_V1,
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

  m->seq_len = c.seq_len;
  if (options && options->max_seq_len > 0 && options->max_seq_len < c.seq_len)
    m->seq_len = options->max_seq_len;
  m->parallel = options ? options->parallel : (em_parallel){NULL, NULL};
  m->pos = 0;
  m->memory.weights_in_place = r.in_place;
  m->memory.weights_copied = r.copied;
  status = build_run_state(&m->state, &c, m->seq_len, arena, &m->memory);
  if (status != EM_OK) {
    em_arena_reset(arena, mark);
    return fail(msg,
                status == EM_ERR_NOMEM ? "llama: arena too small for KV cache and activations"
                                       : "llama: KV cache size does not fit in size_t",
                status);
  }
  m->memory.arena_used = em_arena_used(arena) - mark;
  *out = m;
  return EM_OK;
}

/* ---------------------------------------------------------------------------------------
 * Forward pass */

/* out = w x; quantizes x first when the weights are int8. */
static void project(llama_model *m, float *out, const em_matrix *w, const float *x) {
  em_qvec *xq = &m->state.xq;
  if (w->dtype == EM_Q8) {
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
  em_rope_angles(s->rope_cos, s->rope_sin, head_size, pos, kRopeTheta);

  for (int l = 0; l < p->n_layers; l++) {
    const llama_layer *layer = &w->layers[l];

    /* attention: xb = rmsnorm(x); q, k, v projections; k and v go straight into the cache */
    em_rmsnorm(s->xb, s->x, layer->rms_att, dim, kRmsEps); /* xb: (dim) */
    size_t layer_offset = (size_t)l * (size_t)m->seq_len * (size_t)kv_dim;
    float *key_cache = s->key_cache + layer_offset;     /* (seq_len, kv_dim) */
    float *value_cache = s->value_cache + layer_offset; /* (seq_len, kv_dim) */
    float *k = key_cache + (size_t)pos * kv_dim;        /* (kv_dim) */
    float *v = value_cache + (size_t)pos * kv_dim;      /* (kv_dim) */
    project(m, s->q, &layer->wq, s->xb);                /* q: (n_heads, head_size) */
    project(m, k, &layer->wk, s->xb);                   /* k: (n_kv_heads, head_size) */
    project(m, v, &layer->wv, s->xb);                   /* v: (n_kv_heads, head_size) */

    /* RoPE on q and k: interleaved pairs, as llama2.c and Meta's checkpoints */
    em_rope_interleaved(s->q, p->n_heads, head_size, s->rope_cos, s->rope_sin);
    em_rope_interleaved(k, p->n_kv_heads, head_size, s->rope_cos, s->rope_sin);

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
    em_rmsnorm(s->xb, s->x, layer->rms_ffn, dim, kRmsEps);
    project(m, s->hb, &layer->w1, s->xb);  /* hb: (hidden_dim) */
    project(m, s->hb2, &layer->w3, s->xb); /* hb2: (hidden_dim) */
    em_swiglu(s->hb, s->hb2, hidden_dim);
    project(m, s->xb, &layer->w2, s->hb); /* xb: (dim) */
    em_add(s->x, s->xb, dim);
  }

  em_rmsnorm(s->x, s->x, w->rms_final, dim, kRmsEps);
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
  out->bos_id = 1;
  out->eos_id = 2;
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
};
