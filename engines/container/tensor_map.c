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
