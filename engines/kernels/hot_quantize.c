/* em_quantize_q8 where the architecture has none of its own: the reference's (BUILD.bazel). */
#include "engine/kernels.h"
#include "engine/kernels_ref.h"

void em_quantize_q8(int8_t *q, float *s, const float *x, int n, int group_size) {
  em_ref_quantize_q8(q, s, x, n, group_size);
}
