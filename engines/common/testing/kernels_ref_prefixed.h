/* The portable reference kernels under em_ref_* names, linked beside the kernels the build
 * selected for the target (engines/common/<arch>/), so a test can compare the two on the
 * same data. kernels_ref_prefixed.c compiles kernels_ref.c with every public name renamed. */
#ifndef ENGINES_COMMON_TESTING_KERNELS_REF_PREFIXED_H_
#define ENGINES_COMMON_TESTING_KERNELS_REF_PREFIXED_H_

#include "engine/kernels.h"

float em_ref_f16_to_f32(uint16_t h);
void em_ref_quantize_q8(int8_t *q, float *s, const float *x, int n, int group_size);
void em_ref_matvec_f32_rows(float *out, const float *x, const float *w, int n, int row_begin,
                            int row_end);
void em_ref_matvec_f16_rows(float *out, const float *x, const uint16_t *w, int n, int row_begin,
                            int row_end);
void em_ref_matvec_q8_rows(float *out, const em_qvec *x, const int8_t *w, const float *w_scales,
                           int n, int row_begin, int row_end);
void em_ref_matvec_q4_rows(float *out, const em_qvec *x, const uint8_t *w, const float *w_scales,
                           int n, int row_begin, int row_end);
void em_ref_rmsnorm(float *out, const float *x, const float *weight, int n, float eps);
void em_ref_softmax(float *x, int n);
void em_ref_swiglu(float *h, const float *g, int n);
void em_ref_add(float *x, const float *y, int n);
void em_ref_attention_head(float *out, const float *q, const float *k_cache, const float *v_cache,
                           int stride, int head_size, int t_begin, int t_end, float divisor,
                           float *att);
void em_ref_matrix_row(float *out, const em_matrix *w, int row);

#endif /* ENGINES_COMMON_TESTING_KERNELS_REF_PREFIXED_H_ */
