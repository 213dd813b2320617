/* Container tensors onto engine weights (tensor_map.h). */
#include "container/tensor_map.h"

static void set_error(mc_map *m, em_status status, const char *msg) {
  if (m->status != EM_OK) return;
  m->status = status;
  m->msg = msg;
}

void mc_map_init(mc_map *m, const mc_container *c, em_arena *arena) {
  m->c = c;
  m->arena = arena;
  m->in_place = 0;
  m->copied = 0;
  m->min_group = 0;
  m->status = EM_OK;
  m->msg = "ok";
  m->source = NULL;
}

void mc_map_init_streamed(mc_map *m, const mc_container *c, em_arena *arena,
                          const em_weight_source *source) {
  mc_map_init(m, c, arena);
  m->source = source;
}

/* Streaming: n values of an f32/f16 vector read from the file into the arena and widened. */
static const float *read_vector(mc_map *m, const mc_tensor *t, uint64_t first, int n) {
  size_t elem = t->format == MC_F32 ? 4 : t->format == MC_F16 ? 2 : 0;
  if (!elem) {
    set_error(m, EM_ERR_UNSUPPORTED, "container: streaming needs f32 or f16 vectors (norms)");
    return NULL;
  }
  if (first > t->count || (uint64_t)n > t->count - first) {
    set_error(m, EM_ERR_DIMS, "container: a vector lies outside its tensor");
    return NULL;
  }
  float *out = (float *)em_arena_alloc_array(m->arena, (size_t)n, sizeof(float), 16);
  if (!out) {
    set_error(m, EM_ERR_NOMEM, "container: arena too small for the resident vectors");
    return NULL;
  }
  /* f16 values land in the second half of out's room and widen forwards into it. */
  uint8_t *raw = (uint8_t *)out + (elem == 2 ? (size_t)n * 2 : 0);
  em_status st = em_weights_read(m->source, t->values_offset + first * elem, raw, (size_t)n * elem);
  if (st != EM_OK) {
    set_error(m, st, "container: reading a vector through the weight source failed");
    return NULL;
  }
  if (elem == 2)
    for (int i = 0; i < n; i++)
      out[i] = em_f16_to_f32((uint16_t)(raw[2 * i] | raw[2 * i + 1] << 8));
  m->copied += (size_t)n * sizeof(float);
  return out;
}

bool mc_map_find(mc_map *m, const char *name, int ndim, const uint64_t *shape, mc_tensor *t) {
  if (m->status != EM_OK) return false;
  const char *ignored;
  if (mc_find(m->c, name, t, &ignored) != EM_OK) {
    set_error(m, EM_ERR_DIMS, "container: a tensor the model needs is missing");
    return false;
  }
  bool ok = t->ndim == (uint32_t)ndim;
  for (int d = 0; ok && d < ndim; d++) ok = t->shape[d] == shape[d];
  if (!ok) set_error(m, EM_ERR_DIMS, "container: a tensor's shape differs from the config's");
  return ok;
}

em_matrix mc_map_matrix(mc_map *m, const mc_tensor *t, uint64_t first_row, int rows, int cols) {
  em_matrix out = {EM_F32, NULL, NULL, rows, cols, 0};
  if (m->status != EM_OK) return out;
  em_status status = mc_matrix(t, first_row, (uint64_t)rows, (uint64_t)cols, &out);
  if (status != EM_OK) {
    set_error(m, status, "container: a matrix cannot be used in place (shape or alignment)");
    return out;
  }
  uint64_t total_rows = t->count / (uint64_t)cols; /* mc_matrix checked cols divides count */
  m->in_place += (size_t)((t->values_size + t->scales_size) * (uint64_t)rows / total_rows);
  if (out.group_size > 0 && (m->min_group == 0 || out.group_size < m->min_group))
    m->min_group = out.group_size;
  return out;
}

const float *mc_map_vector(mc_map *m, const mc_tensor *t, uint64_t first, int n) {
  if (m->status != EM_OK) return NULL;
  if (m->source) return read_vector(m, t, first, n);
  if (t->format == MC_F32) {
    m->in_place += (size_t)n * sizeof(float);
    return (const float *)t->values + first;
  }
  float *copy = (float *)em_arena_alloc_array(m->arena, (size_t)n, sizeof(float), 16);
  if (!copy) {
    set_error(m, EM_ERR_NOMEM, "container: arena too small for the widened vectors");
    return NULL;
  }
  for (int i = 0; i < n; i++) copy[i] = mc_value(t, first + (uint64_t)i);
  m->copied += (size_t)n * sizeof(float);
  return copy;
}
