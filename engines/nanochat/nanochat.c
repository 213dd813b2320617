/* nanochat engine: config -> weights -> run state -> forward -> chat -> engine table. */
#include "nanochat/nanochat.h"

#include "container/container.h"
#include "container/tensor_map.h"
#include "engine/mathf.h"
#include "engine/ops.h"
#include "engine/tokenizer.h"

static em_status fail(const char **msg, const char *text, em_status status) {
  *msg = text;
  return status;
}

/* ---------------------------------------------------------------------------------------
 * Config: the container's parameter block, zeros replaced by upstream's values */

static bool finite_nonnegative(float x) { return x >= 0.0f && x <= 3.4e38f; }

static em_status read_config(nanochat_config *c, const mc_nanochat_params *p, const char **msg) {
  const uint32_t dims[7] = {p->n_embd,     p->n_layer,           p->n_head,      p->n_kv_head,
                            p->vocab_size, p->padded_vocab_size, p->sequence_len};
  for (int i = 0; i < 7; i++) {
    if (dims[i] == 0 || dims[i] > (1u << 24))
      return fail(msg, "nanochat: a dimension is 0 or above 2^24", EM_ERR_DIMS);
  }
  c->n_embd = (int)p->n_embd;
  c->n_layer = (int)p->n_layer;
  c->n_head = (int)p->n_head;
  c->n_kv_head = (int)p->n_kv_head;
  c->vocab_size = (int)p->vocab_size;
  c->padded_vocab_size = (int)p->padded_vocab_size;
  c->sequence_len = (int)p->sequence_len;
  if (c->n_layer > NANOCHAT_MAX_LAYERS)
    return fail(msg, "nanochat: more than 64 layers", EM_ERR_DIMS);
  if (c->n_embd % c->n_head != 0 || (c->n_embd / c->n_head) % 2 != 0)
    return fail(msg, "nanochat: n_head does not divide n_embd into even head sizes", EM_ERR_DIMS);
  if (c->n_kv_head > c->n_head || c->n_head % c->n_kv_head != 0)
    return fail(msg, "nanochat: n_kv_head does not divide n_head", EM_ERR_DIMS);
  if (c->padded_vocab_size < c->vocab_size)
    return fail(msg, "nanochat: padded_vocab_size is below vocab_size", EM_ERR_DIMS);
  c->head_dim = c->n_embd / c->n_head;
  c->kv_dim = c->head_dim * c->n_kv_head;
  uint32_t ratio = p->mlp_ratio ? p->mlp_ratio : 4;
  if (ratio > 64) return fail(msg, "nanochat: mlp_ratio above 64", EM_ERR_DIMS);
  c->hidden_dim = (int)ratio * c->n_embd;
  c->smear_channels = p->smear_channels ? (int)p->smear_channels : 24;
  c->ve_gate_channels = p->value_embed_gate_channels ? (int)p->value_embed_gate_channels : 12;
  if (p->smear_channels > p->n_embd || p->value_embed_gate_channels > p->n_embd ||
      c->smear_channels > c->n_embd || c->ve_gate_channels > c->n_embd)
    return fail(msg, "nanochat: smear or gate channels exceed n_embd", EM_ERR_DIMS);
  c->backout_layer = p->backout_layer ? (int)p->backout_layer : c->n_layer / 2;
  if (c->backout_layer >= c->n_layer)
    return fail(msg, "nanochat: backout_layer is not a layer", EM_ERR_DIMS);
  const float floats[5] = {p->softcap, p->rope_theta, p->qk_scale, p->value_embed_scale,
                           p->norm_eps};
  for (int i = 0; i < 5; i++) {
    if (!finite_nonnegative(floats[i]))
      return fail(msg, "nanochat: a float parameter is negative or not finite", EM_ERR_DIMS);
  }
  c->softcap = p->softcap;
  c->rope_theta = p->rope_theta > 0.0f ? p->rope_theta : 100000.0f;
  c->qk_scale = p->qk_scale > 0.0f ? p->qk_scale : 1.2f;
  c->value_embed_scale = p->value_embed_scale > 0.0f ? p->value_embed_scale : 3.0f;
  c->norm_eps = p->norm_eps > 0.0f ? p->norm_eps : 1.1920929e-07f;
  if (p->rope_layout > MC_ROPE_HALF_SPLIT)
    return fail(msg, "nanochat: rope_layout is not 1 or 2", EM_ERR_UNSUPPORTED);
  c->rope_split = p->rope_layout != MC_ROPE_INTERLEAVED;

  /* windows */
  uint32_t seq = p->sequence_len;
  uint32_t short_window = p->short_window ? p->short_window : (((seq + 3) / 4 + 127) / 128) * 128;
  int pattern_len = 0;
  while (pattern_len < 32 && p->window_pattern[pattern_len]) pattern_len++;
  if (pattern_len == 0) return fail(msg, "nanochat: window_pattern is empty", EM_ERR_DIMS);
  for (int i = 0; i < c->n_layer; i++) {
    char ch = p->window_pattern[i % pattern_len];
    if (ch == 's') ch = 'S';
    if (ch == 'l') ch = 'L';
    if (ch != 'S' && ch != 'L')
      return fail(msg, "nanochat: window_pattern has a character other than S and L", EM_ERR_DIMS);
    uint32_t w = (ch == 'S' && i != c->n_layer - 1) ? short_window : seq;
    c->window[i] = (int)(w < seq ? w : seq);
  }
  uint64_t mask = p->value_embed_layers;
  if (c->n_layer < 64 && (mask >> c->n_layer) != 0)
    return fail(msg, "nanochat: value_embed_layers names a layer past the last", EM_ERR_DIMS);
  for (int i = 0; i < c->n_layer; i++) {
    c->has_ve[i] = mask ? ((mask >> i) & 1u) != 0 : (i % 2 == (c->n_layer - 1) % 2);
  }
  return EM_OK;
}

/* ---------------------------------------------------------------------------------------
 * Weights: tensors by upstream name, each checked against the config's shape */

/* Writes "prefix<i>suffix" into buf (a tensor name, below 48 bytes). */
static const char *layer_name(char *buf, const char *prefix, int i, const char *suffix) {
  int n = 0;
  for (const char *p = prefix; *p; p++) buf[n++] = *p;
  char digits[4];
  int d = 0;
  do {
    digits[d++] = (char)('0' + i % 10);
    i /= 10;
  } while (i > 0 && d < 4);
  while (d > 0) buf[n++] = digits[--d];
  for (const char *p = suffix; *p; p++) buf[n++] = *p;
  buf[n] = 0;
  return buf;
}

/* The first `rows` rows of the (total, cols) matrix tensor `name`, in place. */
static em_matrix matrix(mc_map *map, const char *name, uint64_t total, int rows, int cols) {
  mc_tensor t;
  if (!mc_map_find(map, name, 2, (uint64_t[]){total, (uint64_t)cols}, &t))
    return (em_matrix){EM_F32, NULL, NULL, rows, cols, 0};
  return mc_map_matrix(map, &t, 0, rows, cols);
}

/* A small parameter tensor of shape (d0,) or (d0, d1), as f32. */
static const float *vector(mc_map *map, const char *name, int ndim, uint64_t d0, uint64_t d1) {
  mc_tensor t;
  if (!mc_map_find(map, name, ndim, (uint64_t[]){d0, d1}, &t)) return NULL;
  return mc_map_vector(map, &t, 0, (int)t.count);
}

static void map_weights(mc_map *ld, const nanochat_config *c, nanochat_weights *w) {
  uint64_t C = (uint64_t)c->n_embd, V = (uint64_t)c->padded_vocab_size, L = (uint64_t)c->n_layer;
  char name[64];
  w->wte = matrix(ld, "transformer.wte.weight", V, c->vocab_size, c->n_embd);
  w->lm_head = matrix(ld, "lm_head.weight", V, c->vocab_size, c->n_embd);
  w->resid_lambdas = vector(ld, "resid_lambdas", 1, L, 0);
  w->x0_lambdas = vector(ld, "x0_lambdas", 1, L, 0);
  w->smear_gate = vector(ld, "smear_gate.weight", 2, 1, (uint64_t)c->smear_channels);
  const float *smear = vector(ld, "smear_lambda", 1, 1, 0);
  const float *backout = vector(ld, "backout_lambda", 1, 1, 0);
  w->smear_lambda = smear ? smear[0] : 0.0f;
  w->backout_lambda = backout ? backout[0] : 0.0f;
  for (int i = 0; i < c->n_layer && ld->status == EM_OK; i++) {
    nanochat_layer *y = &w->layers[i];
    const char *h = "transformer.h.";
    y->c_q = matrix(ld, layer_name(name, h, i, ".attn.c_q.weight"), C, c->n_embd, c->n_embd);
    y->c_k = matrix(ld, layer_name(name, h, i, ".attn.c_k.weight"), (uint64_t)c->kv_dim, c->kv_dim,
                    c->n_embd);
    y->c_v = matrix(ld, layer_name(name, h, i, ".attn.c_v.weight"), (uint64_t)c->kv_dim, c->kv_dim,
                    c->n_embd);
    y->c_proj = matrix(ld, layer_name(name, h, i, ".attn.c_proj.weight"), C, c->n_embd, c->n_embd);
    y->fc = matrix(ld, layer_name(name, h, i, ".mlp.c_fc.weight"), (uint64_t)c->hidden_dim,
                   c->hidden_dim, c->n_embd);
    y->mlp_proj =
        matrix(ld, layer_name(name, h, i, ".mlp.c_proj.weight"), C, c->n_embd, c->hidden_dim);
    y->value_embed = (em_matrix){EM_F32, NULL, NULL, 0, 0, 0};
    y->ve_gate = NULL;
    if (c->has_ve[i]) {
      y->value_embed =
          matrix(ld, layer_name(name, "value_embeds.", i, ".weight"), V, c->vocab_size, c->kv_dim);
      y->ve_gate = vector(ld, layer_name(name, h, i, ".attn.ve_gate.weight"), 2,
                          (uint64_t)c->n_kv_head, (uint64_t)c->ve_gate_channels);
    }
  }
}

/* ---------------------------------------------------------------------------------------
 * Run state */

static float *floats(em_arena *arena, size_t n, size_t *total, bool *ok) {
  float *p = (float *)em_arena_alloc_array(arena, n, sizeof(float), 16);
  if (p)
    *total += n * sizeof(float);
  else
    *ok = false;
  return p;
}

static em_status build_run_state(nanochat_model *m, em_arena *arena, int min_group, int block) {
  const nanochat_config *c = &m->config;
  nanochat_run_state *s = &m->state;
  size_t C = (size_t)c->n_embd, seq = (size_t)m->seq_len, B = (size_t)block;
  size_t cache = (size_t)c->n_layer * seq * (size_t)c->kv_dim; /* each factor <= 2^24, L <= 64 */
  if (cache / seq / (size_t)c->n_layer != (size_t)c->kv_dim) return EM_ERR_OVERFLOW;
  bool ok = true;
  m->memory.kv_cache = 0;
  s->key_cache = floats(arena, cache, &m->memory.kv_cache, &ok);
  s->value_cache = floats(arena, cache, &m->memory.kv_cache, &ok);
  size_t *act = &m->memory.activations;
  *act = 0;
  s->block = block;
  s->x = floats(arena, B * C, act, &ok);
  s->x0 = floats(arena, B * C, act, &ok);
  s->h = floats(arena, B * C, act, &ok);
  s->e = floats(arena, B * C, act, &ok);
  s->q = floats(arena, B * C, act, &ok);
  s->att_out = floats(arena, B * C, act, &ok);
  s->proj = floats(arena, B * C, act, &ok);
  s->hidden = floats(arena, B * (size_t)c->hidden_dim, act, &ok);
  s->rope_cos = floats(arena, B * ((size_t)c->head_dim / 2), act, &ok);
  s->rope_sin = floats(arena, B * ((size_t)c->head_dim / 2), act, &ok);
  s->xb = floats(arena, C, act, &ok);
  s->e_prev = floats(arena, C, act, &ok);
  s->ve = floats(arena, (size_t)c->kv_dim, act, &ok);
  s->att = floats(arena, (size_t)c->n_head * seq, act, &ok);
  s->logits = floats(arena, (size_t)c->vocab_size, act, &ok);
  s->xq = NULL;
  if (ok && min_group > 0) {
    size_t widest = (size_t)c->hidden_dim; /* inputs are C or 4C wide */
    s->xq = (em_qvec *)em_arena_alloc_array(arena, B, sizeof(em_qvec), 16);
    if (!s->xq) return EM_ERR_NOMEM;
    for (size_t b = 0; b < B && ok; b++) {
      s->xq[b].q = (int8_t *)em_arena_alloc(arena, widest, 16);
      s->xq[b].s = floats(arena, widest / (size_t)min_group, act, &ok);
      if (!s->xq[b].q) ok = false;
      *act += widest + sizeof(em_qvec);
    }
  }
  return ok ? EM_OK : EM_ERR_NOMEM;
}

int nanochat_probe(const void *bytes, size_t size) {
  return mc_probe(bytes, size) && mc_peek_architecture(bytes, size) == MC_ARCH_NANOCHAT ? 100 : 0;
}

em_status nanochat_load(nanochat_model **out, const void *bytes, size_t size,
                        const em_load_options *options, em_arena *arena, const char **msg) {
  *msg = "ok";
  if (!out || !bytes || !arena) return fail(msg, "nanochat: null argument", EM_ERR_ARG);
  *out = NULL;
  if ((uintptr_t)bytes & 3u)
    return fail(msg, "nanochat: model buffer must be 4-byte aligned", EM_ERR_ALIGN);
  mc_container mc;
  em_status status = mc_open(&mc, bytes, size, 0, msg);
  if (status != EM_OK) return status;
  if (mc.architecture != MC_ARCH_NANOCHAT)
    return fail(msg, "nanochat: the container holds another architecture", EM_ERR_UNSUPPORTED);
  if (mc.tokenizer.kind != MC_TOKENIZER_NANOCHAT)
    return fail(msg, "nanochat: the container's tokenizer is not nanochat's BPE",
                EM_ERR_UNSUPPORTED);
  nanochat_config config;
  status = read_config(&config, &mc.params.nanochat, msg);
  if (status != EM_OK) return status;

  size_t mark = em_arena_mark(arena);
  nanochat_model *m = (nanochat_model *)em_arena_alloc(arena, sizeof *m, 16);
  nanochat_layer *layers =
      m ? (nanochat_layer *)em_arena_alloc_array(arena, (size_t)config.n_layer, sizeof *layers, 16)
        : NULL;
  if (!layers) {
    em_arena_reset(arena, mark);
    return fail(msg, "nanochat: arena too small for the layer table", EM_ERR_NOMEM);
  }
  m->config = config;
  m->weights.layers = layers;
  mc_map ld;
  mc_map_init(&ld, &mc, arena);
  map_weights(&ld, &m->config, &m->weights);
  if (ld.status != EM_OK) {
    em_arena_reset(arena, mark);
    return fail(msg, ld.msg, ld.status);
  }
  m->seq_len = config.sequence_len;
  if (options && options->max_seq_len > 0 && options->max_seq_len < m->seq_len)
    m->seq_len = options->max_seq_len;
  m->parallel = options ? options->parallel : (em_parallel){NULL, NULL};
  m->pos = 0;
  m->memory.weights_in_place = ld.in_place;
  m->memory.weights_copied = ld.copied;
  m->tokenizer_bytes = mc.tokenizer.payload;
  m->tokenizer_size = mc.tokenizer.payload_size;
  m->bos_id = (int)mc.tokenizer.bos_id;
  m->eos_id = (int)mc.tokenizer.eos_id;
  /* The prefill block asked for, halved while its buffers do not fit beside the KV cache. */
  int block = options && options->prefill_block > 0 ? options->prefill_block : EM_PREFILL_BLOCK;
  size_t state_mark = em_arena_mark(arena);
  for (;; block /= 2) {
    em_arena_reset(arena, state_mark);
    status = build_run_state(m, arena, ld.min_group, block);
    if (status != EM_ERR_NOMEM || block == 1) break;
  }
  if (status != EM_OK) {
    em_arena_reset(arena, mark);
    return fail(msg,
                status == EM_ERR_NOMEM ? "nanochat: arena too small for KV cache and activations"
                                       : "nanochat: KV cache size does not fit in size_t",
                status);
  }
  m->memory.arena_used = em_arena_used(arena) - mark;
  *out = m;
  return EM_OK;
}

/* ---------------------------------------------------------------------------------------
 * Forward pass */

static float sigmoid(float x) { return 1.0f / (1.0f + em_expf(-x)); }

static float dot(const float *a, const float *b, int n) {
  float s = 0.0f;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* out = w x; quantizes x first for q8/q4 weights. */
/* out[b] = w x[b] for the block's n inputs (em_linear over the model's threads and buffers). */
static void project(nanochat_model *m, float *out, int out_stride, const em_matrix *w,
                    const float *x, int n) {
  em_linear(&m->parallel, out, out_stride, w, x, m->state.xq, n);
}

/* RMSNorm of each head of v (n_heads, head_dim), then * scale. */
static void qk_norm(float *v, int n_heads, int head_dim, float eps, float scale) {
  for (int h = 0; h < n_heads; h++) {
    float *head = v + (size_t)h * head_dim;
    em_rmsnorm(head, head, NULL, head_dim, eps);
    for (int i = 0; i < head_dim; i++) head[i] *= scale;
  }
}

const float *nanochat_forward_block(nanochat_model *m, const int *tokens, int n, int pos) {
  const nanochat_config *c = &m->config;
  const nanochat_weights *w = &m->weights;
  nanochat_run_state *s = &m->state;
  int C = c->n_embd, hd = c->head_dim, kv_dim = c->kv_dim, H = c->hidden_dim, half = hd / 2;
  float eps = c->norm_eps;
#define ROW(buf, b, width) ((buf) + (size_t)(b) * (size_t)(width))

  /* embedding, norm, smear with the previous token's normalized embedding */
  for (int b = 0; b < n; b++) {
    float *e = ROW(s->e, b, C), *x = ROW(s->x, b, C);
    em_matrix_row(e, &w->wte, tokens[b]);
    em_rmsnorm(e, e, NULL, C, eps); /* e: (n, C) */
    for (int i = 0; i < C; i++) x[i] = e[i];
    if (pos + b > 0) {
      const float *prev = b > 0 ? ROW(s->e, b - 1, C) : s->e_prev;
      float gate = w->smear_lambda * sigmoid(dot(w->smear_gate, e, c->smear_channels));
      for (int i = 0; i < C; i++) x[i] += gate * prev[i];
    }
    for (int i = 0; i < C; i++) ROW(s->x0, b, C)[i] = x[i];
    em_rope_angles(ROW(s->rope_cos, b, half), ROW(s->rope_sin, b, half), hd, pos + b,
                   c->rope_theta);
    for (int i = 0; i < half; i++) ROW(s->rope_sin, b, half)[i] *= -1.0f; /* by -angle */
  }
  for (int i = 0; i < C; i++) {
    s->e_prev[i] = ROW(s->e, n - 1, C)[i];
    s->xb[i] = ROW(s->x, n - 1, C)[i];
  }

  for (int l = 0; l < c->n_layer; l++) {
    const nanochat_layer *y = &w->layers[l];
    float rl = w->resid_lambdas[l], xl = w->x0_lambdas[l];
    for (int b = 0; b < n; b++) {
      float *x = ROW(s->x, b, C), *x0 = ROW(s->x0, b, C);
      for (int i = 0; i < C; i++) x[i] = rl * x[i] + xl * x0[i];
      em_rmsnorm(ROW(s->h, b, C), x, NULL, C, eps); /* h: (n, C) */
    }

    size_t layer_offset = (size_t)l * (size_t)m->seq_len * (size_t)kv_dim;
    float *key_cache = s->key_cache + layer_offset;     /* (seq_len, kv_dim) */
    float *value_cache = s->value_cache + layer_offset; /* (seq_len, kv_dim) */
    float *k = key_cache + (size_t)pos * kv_dim;        /* (n, n_kv_head, hd) */
    float *v = value_cache + (size_t)pos * kv_dim;      /* (n, n_kv_head, hd) */
    project(m, s->q, C, &y->c_q, s->h, n);              /* q: (n, n_head, hd) */
    project(m, k, kv_dim, &y->c_k, s->h, n);
    project(m, v, kv_dim, &y->c_v, s->h, n);

    for (int b = 0; b < n; b++) {
      float *qb = ROW(s->q, b, C), *kb = ROW(k, b, kv_dim), *vb = ROW(v, b, kv_dim);
      if (y->ve_gate) { /* value embedding, gated per kv head by the first channels of h */
        em_matrix_row(s->ve, &y->value_embed, tokens[b]); /* ve: (n_kv_head, hd) */
        for (int j = 0; j < c->n_kv_head; j++) {
          const float *g = y->ve_gate + (size_t)j * c->ve_gate_channels;
          float gate = c->value_embed_scale * sigmoid(dot(g, ROW(s->h, b, C), c->ve_gate_channels));
          for (int i = 0; i < hd; i++) vb[j * hd + i] += gate * s->ve[j * hd + i];
        }
      }
      const float *cos = ROW(s->rope_cos, b, half), *sin = ROW(s->rope_sin, b, half);
      if (c->rope_split) {
        em_rope_split(qb, c->n_head, hd, cos, sin);
        em_rope_split(kb, c->n_kv_head, hd, cos, sin);
      } else {
        em_rope_interleaved(qb, c->n_head, hd, cos, sin);
        em_rope_interleaved(kb, c->n_kv_head, hd, cos, sin);
      }
      qk_norm(qb, c->n_head, hd, eps, c->qk_scale);
      qk_norm(kb, c->n_kv_head, hd, eps, c->qk_scale);
    }

    /* each token over the positions up to its own; window w: the query and the w positions
     * before it (ops' window counts keys) */
    int window = c->window[l] < c->sequence_len ? c->window[l] + 1 : 0;
    for (int b = 0; b < n; b++) {
      em_attention_args att = {
          .out = ROW(s->att_out, b, C), /* (n_head, hd) */
          .q = ROW(s->q, b, C),
          .k_cache = key_cache,
          .v_cache = value_cache,
          .att = s->att,
          .att_stride = m->seq_len,
          .n_heads = c->n_head,
          .n_kv_heads = c->n_kv_head,
          .head_size = hd,
          .pos = pos + b,
          .window = window,
          .score_divisor = em_sqrtf((float)hd),
      };
      em_attention(&m->parallel, &att);
    }
    project(m, s->proj, C, &y->c_proj, s->att_out, n);
    for (int b = 0; b < n; b++) em_add(ROW(s->x, b, C), ROW(s->proj, b, C), C);

    /* ReLU^2 MLP */
    for (int b = 0; b < n; b++) em_rmsnorm(ROW(s->h, b, C), ROW(s->x, b, C), NULL, C, eps);
    project(m, s->hidden, H, &y->fc, s->h, n); /* hidden: (n, 4C) */
    for (size_t i = 0; i < (size_t)n * (size_t)H; i++) {
      float r = s->hidden[i] > 0.0f ? s->hidden[i] : 0.0f;
      s->hidden[i] = r * r;
    }
    project(m, s->proj, C, &y->mlp_proj, s->hidden, n);
    for (int b = 0; b < n; b++) em_add(ROW(s->x, b, C), ROW(s->proj, b, C), C);

    if (l == c->backout_layer) {
      for (int i = 0; i < C; i++) s->xb[i] = ROW(s->x, n - 1, C)[i];
    }
  }

  /* logits of the last token only */
  float *x = ROW(s->x, n - 1, C);
  for (int i = 0; i < C; i++) x[i] -= w->backout_lambda * s->xb[i];
  em_rmsnorm(x, x, NULL, C, eps);
  project(m, s->logits, c->vocab_size, &w->lm_head, x, 1); /* logits: (vocab_size), cropped */
  if (c->softcap > 0.0f) {
    for (int i = 0; i < c->vocab_size; i++)
      s->logits[i] = c->softcap * em_tanhf(s->logits[i] / c->softcap);
  }
#undef ROW
  return s->logits;
}

const float *nanochat_forward(nanochat_model *m, int token, int pos) {
  return nanochat_forward_block(m, &token, 1, pos);
}

/* ---------------------------------------------------------------------------------------
 * Chat template */

static em_status push(int *tokens, int capacity, int *n, int id) {
  if (id < 0) return EM_ERR_UNSUPPORTED;
  if (*n >= capacity) return EM_ERR_FULL;
  tokens[(*n)++] = id;
  return EM_OK;
}

em_status nanochat_chat_turn(em_tokenizer *tok, const char *text, bool first, int *tokens,
                             int capacity, int *n) {
  em_status s = EM_OK;
  *n = 0;
  if (first) s = push(tokens, capacity, n, em_tokenizer_special(tok, "<|bos|>"));
  if (s == EM_OK) s = push(tokens, capacity, n, em_tokenizer_special(tok, "<|user_start|>"));
  if (s != EM_OK) return s;
  int used;
  s = em_tokenizer_encode(tok, text, false, false, tokens + *n, capacity - *n, &used);
  if (s != EM_OK) return s;
  *n += used;
  s = push(tokens, capacity, n, em_tokenizer_special(tok, "<|user_end|>"));
  if (s == EM_OK) s = push(tokens, capacity, n, em_tokenizer_special(tok, "<|assistant_start|>"));
  return s;
}

int nanochat_end_of_turn(const em_tokenizer *tok) {
  return em_tokenizer_special(tok, "<|assistant_end|>");
}

/* ---------------------------------------------------------------------------------------
 * Engine interface */

static em_status engine_load(void **model, const void *bytes, size_t size,
                             const em_load_options *options, em_arena *arena, const char **msg) {
  nanochat_model *m;
  em_status status = nanochat_load(&m, bytes, size, options, arena, msg);
  *model = status == EM_OK ? m : NULL;
  return status;
}

static void engine_info(const void *model, em_model_info *out) {
  const nanochat_model *m = (const nanochat_model *)model;
  out->engine = "nanochat";
  out->vocab_size = m->config.vocab_size;
  out->seq_len = m->seq_len;
  out->pos = m->pos;
  out->bos_id = m->bos_id;
  out->eos_id = m->eos_id;
}

static em_status engine_decode(void *model, int token, const float **logits) {
  nanochat_model *m = (nanochat_model *)model;
  if (token < 0 || token >= m->config.vocab_size) return EM_ERR_ARG;
  if (m->pos >= m->seq_len) return EM_ERR_FULL;
  *logits = nanochat_forward(m, token, m->pos);
  m->pos++;
  return EM_OK;
}

static const float *forward_block(void *model, const int *tokens, int n, int pos) {
  return nanochat_forward_block((nanochat_model *)model, tokens, n, pos);
}

/* The prompt in blocks of state.block tokens; the logits are the last token's. */
static em_status engine_prefill(void *model, const int *tokens, int n, const float **logits) {
  nanochat_model *m = (nanochat_model *)model;
  return em_prefill_blocks(forward_block, m, tokens, n, m->state.block, m->config.vocab_size,
                           m->seq_len, &m->pos, logits);
}

static void engine_reset(void *model) { ((nanochat_model *)model)->pos = 0; }

static void engine_memory(const void *model, em_memory_report *out) {
  *out = ((const nanochat_model *)model)->memory;
}

static em_status engine_tokenizer(const void *model, em_tokenizer *tok, em_arena *arena,
                                  const char **msg) {
  const nanochat_model *m = (const nanochat_model *)model;
  em_status s = em_tokenizer_load_bpe(tok, m->tokenizer_bytes, m->tokenizer_size,
                                      m->config.vocab_size, arena, msg);
  if (s == EM_OK) {
    tok->bos_id = m->bos_id;
    tok->eos_id = m->eos_id;
  }
  return s;
}

const em_engine nanochat_engine = {
    .name = "nanochat",
    .probe = nanochat_probe,
    .load = engine_load,
    .info = engine_info,
    .prefill = engine_prefill,
    .decode = engine_decode,
    .reset = engine_reset,
    .memory = engine_memory,
    .tokenizer = engine_tokenizer,
    .chat_turn = nanochat_chat_turn,
    .end_of_turn = nanochat_end_of_turn,
};
