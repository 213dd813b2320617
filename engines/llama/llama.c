/* Llama engine: the forward pass over weights mapped in place, from a container or (through
 * llama2c_file.c) a llama2.c model file.
 * Sections in data-flow order: run state -> containers -> loading -> forward -> engine table. */
#include "llama/llama.h"

#include <stdint.h>

#include "container/container.h"
#include "container/tensor_map.h"
#include "engine/mathf.h"
#include "engine/ops.h"
#include "engine/tokenizer.h"
#include "engines/llama/llama_internal.h"

static em_status fail(const char **msg, const char *text, em_status status) {
  *msg = text;
  return status;
}

/* Checks that the seven numbers describe a buildable transformer. */
em_status llama_check_dims(const llama_config *c, const char **msg) {
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

/* ---------------------------------------------------------------------------------------
 * Run state */

/* n floats from the arena, 16-byte aligned; adds their bytes to *total. */
static float *alloc_floats(em_arena *arena, size_t n, size_t *total) {
  float *p = (float *)em_arena_alloc_array(arena, n, sizeof(float), 16);
  if (p) *total += n * sizeof(float);
  return p;
}

static em_status build_run_state(llama_run_state *s, const llama_config *c, int seq_len, int block,
                                 em_arena *arena, em_memory_report *mem) {
  size_t dim = (size_t)c->dim, hidden = (size_t)c->hidden_dim, B = (size_t)block;
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
  s->block = block;
  s->x = alloc_floats(arena, B * dim, act);
  s->xb = alloc_floats(arena, B * dim, act);
  s->xb2 = alloc_floats(arena, B * dim, act);
  s->hb = alloc_floats(arena, B * hidden, act);
  s->hb2 = alloc_floats(arena, B * hidden, act);
  s->q = alloc_floats(arena, B * dim, act);
  s->att = alloc_floats(arena, att_floats, act);
  s->logits = alloc_floats(arena, (size_t)c->vocab_size, act);
  s->rope_cos = alloc_floats(arena, B * (head_size / 2), act);
  s->rope_sin = alloc_floats(arena, B * (head_size / 2), act);
  if (!s->x || !s->xb || !s->xb2 || !s->hb || !s->hb2 || !s->q || !s->att || !s->logits ||
      !s->rope_cos || !s->rope_sin)
    return EM_ERR_NOMEM;
  s->xq = NULL;
  if (c->group_size > 0) {
    size_t widest = dim > hidden ? dim : hidden;
    s->xq = (em_qvec *)em_arena_alloc_array(arena, B, sizeof(em_qvec), 16);
    if (!s->xq) return EM_ERR_NOMEM;
    for (size_t b = 0; b < B; b++) {
      s->xq[b].q = (int8_t *)em_arena_alloc(arena, widest, 16);
      s->xq[b].s = alloc_floats(arena, widest / (size_t)c->group_size, act);
      if (!s->xq[b].q || !s->xq[b].s) return EM_ERR_NOMEM;
      *act += widest + sizeof(em_qvec);
    }
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
  /* The prefill block asked for, halved while its buffers do not fit beside the KV cache. */
  int block = options && options->prefill_block > 0 ? options->prefill_block : EM_PREFILL_BLOCK;
  size_t state_mark = em_arena_mark(arena);
  em_status status;
  for (;; block /= 2) {
    em_arena_reset(arena, state_mark);
    status = build_run_state(&m->state, c, m->seq_len, block, arena, &m->memory);
    if (status != EM_ERR_NOMEM || block == 1) break;
  }
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
  return llama_check_dims(c, msg);
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
  if (mc.tokenizer.kind != MC_TOKENIZER_LLAMA2C && mc.tokenizer.kind != MC_TOKENIZER_HF)
    return fail(msg,
                "llama: the container's tokenizer is neither llama2.c's nor a Hugging Face BPE",
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
  mc_map map;
  mc_map_init(&map, &mc, arena);
  mc_tensor emb, att, ffn, fin, wq, wk, wv, wo, w1, w2, w3, cls;
  mc_map_find(&map, "token_embedding", 2, (uint64_t[]){vocab, dim}, &emb);
  mc_map_find(&map, "rms_att", 2, (uint64_t[]){L, dim}, &att);
  mc_map_find(&map, "rms_ffn", 2, (uint64_t[]){L, dim}, &ffn);
  mc_map_find(&map, "rms_final", 1, (uint64_t[]){dim}, &fin);
  mc_map_find(&map, "wq", 3, (uint64_t[]){L, dim, dim}, &wq);
  mc_map_find(&map, "wk", 3, (uint64_t[]){L, kv, dim}, &wk);
  mc_map_find(&map, "wv", 3, (uint64_t[]){L, kv, dim}, &wv);
  mc_map_find(&map, "wo", 3, (uint64_t[]){L, dim, dim}, &wo);
  mc_map_find(&map, "w1", 3, (uint64_t[]){L, hidden, dim}, &w1);
  mc_map_find(&map, "w2", 3, (uint64_t[]){L, dim, hidden}, &w2);
  mc_map_find(&map, "w3", 3, (uint64_t[]){L, hidden, dim}, &w3);
  if (!c.shared_classifier) mc_map_find(&map, "wcls", 2, (uint64_t[]){vocab, dim}, &cls);

  llama_weights *w = &m->weights;
  w->layers = layers;
  w->token_embedding = mc_map_matrix(&map, &emb, 0, c.vocab_size, c.dim);
  w->classifier =
      c.shared_classifier ? w->token_embedding : mc_map_matrix(&map, &cls, 0, c.vocab_size, c.dim);
  w->rms_final = mc_map_vector(&map, &fin, 0, c.dim);
  int kv_dim = (int)kv;
  for (int l = 0; l < c.n_layers && map.status == EM_OK; l++) {
    llama_layer *y = &layers[l];
    y->rms_att = mc_map_vector(&map, &att, l * dim, c.dim);
    y->rms_ffn = mc_map_vector(&map, &ffn, l * dim, c.dim);
    y->wq = mc_map_matrix(&map, &wq, l * dim, c.dim, c.dim);
    y->wk = mc_map_matrix(&map, &wk, l * kv, kv_dim, c.dim);
    y->wv = mc_map_matrix(&map, &wv, l * kv, kv_dim, c.dim);
    y->wo = mc_map_matrix(&map, &wo, l * dim, c.dim, c.dim);
    y->w1 = mc_map_matrix(&map, &w1, l * hidden, c.hidden_dim, c.dim);
    y->w2 = mc_map_matrix(&map, &w2, l * dim, c.dim, c.hidden_dim);
    y->w3 = mc_map_matrix(&map, &w3, l * hidden, c.hidden_dim, c.dim);
  }
  if (map.status != EM_OK) {
    em_arena_reset(arena, mark);
    return fail(msg, map.msg, map.status);
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
  status = llama2c_check_file(&c, bytes, size, msg);
  if (status != EM_OK) return status;

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
  size_t in_place, copied;
  status = llama2c_map_weights(&c, bytes, size, arena, &m->weights, &in_place, &copied, msg);
  if (status != EM_OK) {
    em_arena_reset(arena, mark);
    return status;
  }

  m->tokenizer_kind = 0;
  m->tokenizer_bytes = NULL;
  m->tokenizer_size = 0;
  m->bos_id = 1;
  m->eos_id = 2;
  status = finish_load(m, options, arena, mark, in_place, copied, msg);
  if (status == EM_OK) *out = m;
  return status;
}

/* ---------------------------------------------------------------------------------------
 * Forward pass */

/* out[b] = w x[b] for the block's n inputs (em_linear over the model's threads and buffers). */
static void project(llama_model *m, float *out, int out_stride, const em_matrix *w, const float *x,
                    int n) {
  em_linear(&m->parallel, out, out_stride, w, x, m->state.xq, n);
}

const float *llama_forward_block(llama_model *m, const int *tokens, int n, int pos) {
  const llama_config *p = &m->config;
  const llama_weights *w = &m->weights;
  llama_run_state *s = &m->state;
  int dim = p->dim;
  int hidden_dim = p->hidden_dim;
  int head_size = dim / p->n_heads;
  int kv_dim = head_size * p->n_kv_heads;
  int half = head_size / 2;

  for (int b = 0; b < n; b++) {
    em_matrix_row(s->x + (size_t)b * dim, &w->token_embedding, tokens[b]); /* x: (n, dim) */
    em_rope_angles(s->rope_cos + b * half, s->rope_sin + b * half, head_size, pos + b,
                   p->rope_theta);
  }

  for (int l = 0; l < p->n_layers; l++) {
    const llama_layer *layer = &w->layers[l];

    /* attention: xb = rmsnorm(x); q, k, v projections; k and v go straight into the cache */
    for (int b = 0; b < n; b++)
      em_rmsnorm(s->xb + (size_t)b * dim, s->x + (size_t)b * dim, layer->rms_att, dim,
                 p->norm_eps); /* xb: (n, dim) */
    size_t layer_offset = (size_t)l * (size_t)m->seq_len * (size_t)kv_dim;
    float *key_cache = s->key_cache + layer_offset;     /* (seq_len, kv_dim) */
    float *value_cache = s->value_cache + layer_offset; /* (seq_len, kv_dim) */
    float *k = key_cache + (size_t)pos * kv_dim;        /* (n, kv_dim) */
    float *v = value_cache + (size_t)pos * kv_dim;      /* (n, kv_dim) */
    project(m, s->q, dim, &layer->wq, s->xb, n);        /* q: (n, n_heads * head_size) */
    project(m, k, kv_dim, &layer->wk, s->xb, n);        /* k: (n, n_kv_heads * head_size) */
    project(m, v, kv_dim, &layer->wv, s->xb, n);        /* v: (n, n_kv_heads * head_size) */

    for (int b = 0; b < n; b++) {
      /* RoPE on q and k: interleaved pairs, as llama2.c and Meta's checkpoints (or split
       * halves, as Hugging Face's, when the container says so) */
      float *qb = s->q + (size_t)b * dim, *kb = k + (size_t)b * kv_dim;
      const float *cos = s->rope_cos + b * half, *sin = s->rope_sin + b * half;
      if (p->rope_split) {
        em_rope_split(qb, p->n_heads, head_size, cos, sin);
        em_rope_split(kb, p->n_kv_heads, head_size, cos, sin);
      } else {
        em_rope_interleaved(qb, p->n_heads, head_size, cos, sin);
        em_rope_interleaved(kb, p->n_kv_heads, head_size, cos, sin);
      }
    }

    /* multi-head attention of each token over positions 0..its own (causal), heads sharing kv
     * heads (GQA) */
    for (int b = 0; b < n; b++) {
      em_attention_args att = {
          .out = s->xb + (size_t)b * dim, /* (n_heads, head_size) */
          .q = s->q + (size_t)b * dim,
          .k_cache = key_cache,
          .v_cache = value_cache,
          .att = s->att,
          .att_stride = m->seq_len, /* (n_heads, seq_len) */
          .n_heads = p->n_heads,
          .n_kv_heads = p->n_kv_heads,
          .head_size = head_size,
          .pos = pos + b,
          .window = 0,
          .score_divisor = em_sqrtf((float)head_size),
      };
      em_attention(&m->parallel, &att);
    }

    /* output projection and residual */
    project(m, s->xb2, dim, &layer->wo, s->xb, n); /* xb2: (n, dim) */
    for (int b = 0; b < n; b++) em_add(s->x + (size_t)b * dim, s->xb2 + (size_t)b * dim, dim);

    /* feed-forward: x += w2(silu(w1 xb) * w3 xb), xb = rmsnorm(x) */
    for (int b = 0; b < n; b++)
      em_rmsnorm(s->xb + (size_t)b * dim, s->x + (size_t)b * dim, layer->rms_ffn, dim, p->norm_eps);
    project(m, s->hb, hidden_dim, &layer->w1, s->xb, n);  /* hb: (n, hidden_dim) */
    project(m, s->hb2, hidden_dim, &layer->w3, s->xb, n); /* hb2: (n, hidden_dim) */
    for (int b = 0; b < n; b++)
      em_swiglu(s->hb + (size_t)b * hidden_dim, s->hb2 + (size_t)b * hidden_dim, hidden_dim);
    project(m, s->xb, dim, &layer->w2, s->hb, n); /* xb: (n, dim) */
    for (int b = 0; b < n; b++) em_add(s->x + (size_t)b * dim, s->xb + (size_t)b * dim, dim);
  }

  /* logits of the last token only */
  float *last = s->x + (size_t)(n - 1) * dim;
  em_rmsnorm(last, last, w->rms_final, dim, p->norm_eps);
  project(m, s->logits, p->vocab_size, &w->classifier, last, 1); /* logits: (vocab_size) */
  return s->logits;
}

const float *llama_forward(llama_model *m, int token, int pos) {
  return llama_forward_block(m, &token, 1, pos);
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
  if (m->tokenizer_kind == 0)
    return fail(msg, "llama: this model file carries no tokenizer (give tokenizer.bin)",
                EM_ERR_UNSUPPORTED);
  em_status s = em_tokenizer_load_kind(tok, m->tokenizer_kind, m->tokenizer_bytes,
                                       m->tokenizer_size, m->config.vocab_size, arena, msg);
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

static const float *forward_block(void *model, const int *tokens, int n, int pos) {
  return llama_forward_block((llama_model *)model, tokens, n, pos);
}

/* The prompt in blocks of state.block tokens; the logits are the last token's. */
static em_status engine_prefill(void *model, const int *tokens, int n, const float **logits) {
  llama_model *m = (llama_model *)model;
  return em_prefill_blocks(forward_block, m, tokens, n, m->state.block, m->config.vocab_size,
                           m->seq_len, &m->pos, logits);
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
