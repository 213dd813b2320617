/* Maps a container's tensors onto an engine's weights: each tensor found by name with its
 * exact shape, matrices viewed in place, small vectors used in place when f32 and widened
 * into the arena otherwise, with the bytes of each counted. The first error is kept and every
 * later call does nothing, so an engine maps all its weights and checks `status` once. */
#ifndef CONTAINER_TENSOR_MAP_H_
#define CONTAINER_TENSOR_MAP_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container/container.h"
#include "engine/arena.h"
#include "engine/kernels.h"
#include "engine/status.h"
#include "engine/weights.h"

typedef struct mc_map {
  const mc_container *c;
  em_arena *arena;                /* where widened vectors go */
  const em_weight_source *source; /* streaming: vectors are read through it (else NULL) */
  size_t in_place;                /* weight bytes used where they lie */
  size_t copied;                  /* weight bytes widened into the arena */
  int min_group;                  /* smallest q8/q4 group size of the mapped matrices, 0 if none */
  em_status status;               /* EM_OK, or the first error (msg says which) */
  const char *msg;
} mc_map;

void mc_map_init(mc_map *m, const mc_container *c, em_arena *arena);

/* The tensor `name`, which must have exactly ndim dimensions shape[0..ndim). */
bool mc_map_find(mc_map *m, const char *name, int ndim, const uint64_t *shape, mc_tensor *t);

/* Rows [first_row, first_row + rows) of a matrix tensor as a (rows, cols) matrix, in place
 * (layer l of a stacked (L, R, C) tensor: first_row = l * R). */
em_matrix mc_map_matrix(mc_map *m, const mc_tensor *t, uint64_t first_row, int rows, int cols);

/* Streaming (a container opened MC_HEAD_ONLY): vectors are read through source into the
 * arena (f32 and f16 tensors; quantized vectors are EM_ERR_UNSUPPORTED), counted as copied. */
void mc_map_init_streamed(mc_map *m, const mc_container *c, em_arena *arena,
                          const em_weight_source *source);

/* n values of t from index `first` as f32: in place when t is f32, else widened. */
const float *mc_map_vector(mc_map *m, const mc_tensor *t, uint64_t first, int n);

#endif /* CONTAINER_TENSOR_MAP_H_ */
