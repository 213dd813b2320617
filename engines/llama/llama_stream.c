/* Weight streaming for the Llama engine (llama_internal.h): the model's norms, KV cache and
 * activations stay in the arena; each forward pass reads the embedding rows of its tokens,
 * then every layer's attention matrices, its feed-forward matrices, and at last the classifier
 * through the weight source into two buffers, alternately: stage s+1's read is started before stage
 * s is computed, so a source that reads in the background (DMA, a thread) overlaps it with the
 * compute, and a blocking source reads it right there (sequential). */
#include <stdint.h>

#include "engine/kernels.h"
#include "engines/llama/llama_internal.h"

static em_status fail(const char **msg, const char *text, em_status status) {
  *msg = text;
  return status;
}

static size_t align64(size_t v) { return (v + 63u) & ~(size_t)63u; }

/* Plans the reads of rows [first_row, first_row + rows) of t into a stage: values, then
 * scales, each at the next 64-byte boundary of the buffer after *used. */
static em_status plan(const mc_tensor *t, uint64_t first_row, int rows, int cols, em_read r[2],
                      size_t *used, uint64_t *bytes, em_matrix *shape) {
  uint64_t offsets[2], sizes[2];
  em_status st =
      mc_matrix_extent(t, first_row, (uint64_t)rows, (uint64_t)cols, offsets, sizes, shape);
  if (st != EM_OK) return st;
  for (int k = 0; k < 2; k++) {
    if (sizes[k] > (uint64_t)(SIZE_MAX / 2) - *used) return EM_ERR_OVERFLOW;
    r[k].offset = offsets[k];
    r[k].size = (size_t)sizes[k];
    r[k].dst = (void *)(uintptr_t)*used; /* an offset in the buffer until the batch starts */
    *used = align64(*used + (size_t)sizes[k]);
    *bytes += sizes[k];
  }
  return EM_OK;
}

static void note_group(mc_map *map, const em_matrix *shape) {
  if (shape->group_size > 0 && (map->min_group == 0 || shape->group_size < map->min_group))
    map->min_group = shape->group_size;
}

em_status llama_stream_map(llama_model *m, const mc_container *mc, mc_map *map,
                           const mc_tensor t[12], em_arena *arena, const char **msg) {
  (void)mc;
  const llama_config *c = &m->config;
  int L = c->n_layers, dim = c->dim, hidden = c->hidden_dim;
  int kv = dim / c->n_heads * c->n_kv_heads;
  llama_stream *s = (llama_stream *)em_arena_alloc(arena, sizeof *s, 16);
  llama_stage *stages =
      s ? (llama_stage *)em_arena_alloc_array(arena, 2 * (size_t)L + 1, sizeof *stages, 16) : NULL;
  if (!stages) return fail(msg, "llama: arena too small for the streaming tables", EM_ERR_NOMEM);
  *s = (llama_stream){0};
  s->src = map->source;
  s->stages = stages;

  /* The layers: wq wk wv wo w1 w2 w3 of tensors t[4..10], rows of layer l from l * rows. */
  const int rows[LLAMA_LAYER_MATRICES] = {dim, kv, kv, dim, hidden, dim, hidden};
  const int cols[LLAMA_LAYER_MATRICES] = {dim, dim, dim, dim, dim, hidden, dim};
  size_t biggest = 0;
  em_status st = EM_OK;
  for (int i = 0; i <= 2 * L; i++)
    for (int k = 0; k < LLAMA_STAGE_READS; k++) stages[i].reads[k] = (em_read){0, 0, 0};
  for (int l = 0; l < L && st == EM_OK; l++) {
    llama_layer *y = &m->weights.layers[l];
    em_matrix *field[LLAMA_LAYER_MATRICES] = {&y->wq, &y->wk, &y->wv, &y->wo,
                                              &y->w1, &y->w2, &y->w3};
    size_t used[2] = {0, 0}; /* attention, feed-forward */
    for (int k = 0; k < LLAMA_LAYER_MATRICES && st == EM_OK; k++) {
      int half = k >= 4;
      st = plan(&t[4 + k], (uint64_t)l * (uint64_t)rows[k], rows[k], cols[k],
                &stages[2 * l + half].reads[2 * k], &used[half], &s->per_token, field[k]);
      note_group(map, field[k]);
    }
    for (int half = 0; half < 2; half++)
      if (used[half] > biggest) biggest = used[half];
  }
  /* The classifier: wcls, or the token embedding when shared. */
  const mc_tensor *cls = c->shared_classifier ? &t[0] : &t[11];
  size_t used = 0;
  if (st == EM_OK) {
    st =
        plan(cls, 0, c->vocab_size, dim, stages[2 * L].reads, &used, &s->per_token, &s->classifier);
    note_group(map, &s->classifier);
  }
  if (used > biggest) biggest = used;
  /* One embedding row's room: values, then scales. */
  em_read row[2];
  size_t row_used = 0;
  uint64_t ignored = 0;
  em_matrix row_shape;
  if (st == EM_OK) st = plan(&t[0], 0, 1, dim, row, &row_used, &ignored, &row_shape);
  if (st != EM_OK) return fail(msg, "llama: a streamed matrix's extent is outside its tensor", st);
  s->embedding = t[0];
  s->row_scales = (size_t)(uintptr_t)row[1].dst;
  s->row = (uint8_t *)em_arena_alloc(arena, row_used, 64);
  s->buffer[0] = (uint8_t *)em_arena_alloc(arena, biggest, 64);
  s->buffer[1] = (uint8_t *)em_arena_alloc(arena, biggest, 64);
  if (!s->row || !s->buffer[0] || !s->buffer[1])
    return fail(msg, "llama: arena too small for two streamed layer buffers", EM_ERR_NOMEM);
  s->buffer_size = biggest;
  m->weights.token_embedding = row_shape;
  m->weights.classifier = s->classifier;
  m->memory.stream_buffers = 2 * biggest;
  m->memory.streamed_per_token = s->per_token;
  m->stream = s;
  return EM_OK;
}

/* Starts stage `stage`'s reads into buffer b. */
static void start(llama_stream *s, int stage, int b) {
  int n = 0;
  for (int k = 0; k < LLAMA_STAGE_READS; k++) {
    const em_read *r = &s->stages[stage].reads[k];
    if (r->size == 0) continue;
    s->active[n] = *r;
    s->active[n].dst = s->buffer[b] + (uintptr_t)r->dst;
    n++;
  }
  em_status st = s->src->start(s->src->user, s->active, n);
  if (st != EM_OK && s->status == EM_OK) s->status = st;
  s->loaded = b;
}

static bool finish(llama_stream *s) {
  em_status st = s->src->wait(s->src->user);
  if (st != EM_OK && s->status == EM_OK) s->status = st;
  return s->status == EM_OK;
}

/* The matrix of shape whose values and scales a stage's reads r[0..1] put in buffer. */
static void view(em_matrix *out, const em_matrix *shape, const uint8_t *buffer,
                 const em_read r[2]) {
  *out = *shape;
  out->data = buffer + (uintptr_t)r[0].dst;
  out->scales = r[1].size ? (const float *)(const void *)(buffer + (uintptr_t)r[1].dst) : NULL;
}

bool llama_stream_embed(llama_model *m, int token, float *out) {
  llama_stream *s = m->stream;
  uint64_t offsets[2], sizes[2];
  em_matrix row;
  if (mc_matrix_extent(&s->embedding, (uint64_t)token, 1, (uint64_t)m->config.dim, offsets, sizes,
                       &row) != EM_OK) {
    s->status = EM_ERR_DIMS;
    return false;
  }
  em_read reads[2] = {{offsets[0], s->row, (size_t)sizes[0]},
                      {offsets[1], s->row + s->row_scales, (size_t)sizes[1]}};
  s->status = s->src->start(s->src->user, reads, sizes[1] ? 2 : 1);
  if (!finish(s)) return false;
  row.data = s->row;
  row.scales = sizes[1] ? (const float *)(const void *)(s->row + s->row_scales) : NULL;
  em_matrix_row(out, &row, 0);
  return true;
}

bool llama_stream_begin(llama_model *m) {
  llama_stream *s = m->stream;
  s->status = EM_OK;
  start(s, 0, 0);
  return true;
}

/* Waits for stage `stage` (half a layer), starts the next one's read into the other buffer
 * (the classifier after the last layer's feed-forward half); the buffer it is in. */
static const uint8_t *advance(llama_stream *s, int stage) {
  if (!finish(s)) return NULL;
  int here = s->loaded;
  start(s, stage + 1, 1 - here);
  return s->buffer[here];
}

const llama_layer *llama_stream_attention(llama_model *m, int l) {
  llama_stream *s = m->stream;
  const uint8_t *buffer = advance(s, 2 * l);
  if (!buffer) return NULL;
  const llama_layer *shape = &m->weights.layers[l];
  const em_read *r = s->stages[2 * l].reads;
  llama_layer *y = &s->layer;
  *y = *shape; /* the norms; the feed-forward matrices follow with llama_stream_ffn */
  view(&y->wq, &shape->wq, buffer, r + 0);
  view(&y->wk, &shape->wk, buffer, r + 2);
  view(&y->wv, &shape->wv, buffer, r + 4);
  view(&y->wo, &shape->wo, buffer, r + 6);
  return y;
}

const llama_layer *llama_stream_ffn(llama_model *m, int l) {
  llama_stream *s = m->stream;
  const uint8_t *buffer = advance(s, 2 * l + 1);
  if (!buffer) return NULL;
  const llama_layer *shape = &m->weights.layers[l];
  const em_read *r = s->stages[2 * l + 1].reads;
  llama_layer *y = &s->layer;
  view(&y->w1, &shape->w1, buffer, r + 8);
  view(&y->w2, &shape->w2, buffer, r + 10);
  view(&y->w3, &shape->w3, buffer, r + 12);
  return y;
}

const em_matrix *llama_stream_classifier(llama_model *m) {
  llama_stream *s = m->stream;
  if (!finish(s)) return NULL;
  const llama_stage *last = &s->stages[2 * m->config.n_layers];
  view(&m->weights.classifier, &s->classifier, s->buffer[s->loaded], last->reads);
  return &m->weights.classifier;
}
