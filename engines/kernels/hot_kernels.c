/* The matvecs of the portable build (and of --define=em_kernels=ref): the reference ones. An
 * architecture replaces this file with <arch>/hot_kernels.c (BUILD.bazel). */
#include "engine/kernels.h"
#include "engine/kernels_ref.h"

void em_matvec_f32_rows(float *out, const float *x, const float *w, int n, int row_begin,
                        int row_end) {
  em_ref_matvec_f32_rows(out, x, w, n, row_begin, row_end);
}

void em_matvec_f16_rows(float *out, const float *x, const uint16_t *w, int n, int row_begin,
                        int row_end) {
  em_ref_matvec_f16_rows(out, x, w, n, row_begin, row_end);
}

void em_matvec_q8_rows(float *out, const em_qvec *x, const int8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end) {
  em_ref_matvec_q8_rows(out, x, w, w_scales, n, row_begin, row_end);
}

void em_matvec_q4_rows(float *out, const em_qvec *x, const uint8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end) {
  em_ref_matvec_q4_rows(out, x, w, w_scales, n, row_begin, row_end);
}
