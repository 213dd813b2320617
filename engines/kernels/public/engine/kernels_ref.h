/* The reference versions of the hot kernels: the ones an architecture may replace
 * (<arch>/hot_kernels.c). Always linked beside the selected em_* versions: a fast kernel falls
 * back to its reference for shapes it does not take, and tests and benches compare the two. */
#ifndef ENGINE_KERNELS_REF_H_
#define ENGINE_KERNELS_REF_H_

#include "engine/kernels.h"

void em_ref_matvec_f32_rows(float *out, const float *x, const float *w, int n, int row_begin,
                            int row_end);
void em_ref_matvec_f16_rows(float *out, const float *x, const uint16_t *w, int n, int row_begin,
                            int row_end);
void em_ref_matvec_q8_rows(float *out, const em_qvec *x, const int8_t *w, const float *w_scales,
                           int n, int row_begin, int row_end);
void em_ref_matvec_q4_rows(float *out, const em_qvec *x, const uint8_t *w, const float *w_scales,
                           int n, int row_begin, int row_end);
void em_ref_quantize_q8(int8_t *q, float *s, const float *x, int n, int group_size);
void em_ref_attention_head(float *out, const float *q, const float *k_cache, const float *v_cache,
                           int stride, int head_size, int t_begin, int t_end, float divisor,
                           float *att);

#endif /* ENGINE_KERNELS_REF_H_ */
