/* em_attention_head where the architecture has none of its own: the reference's (BUILD.bazel). */
#include "engine/kernels.h"
#include "engine/kernels_ref.h"

void em_attention_head(float *out, const float *q, const float *k_cache, const float *v_cache,
                       int stride, int head_size, int t_begin, int t_end, float divisor,
                       float *att) {
  em_ref_attention_head(out, q, k_cache, v_cache, stride, head_size, t_begin, t_end, divisor, att);
}
