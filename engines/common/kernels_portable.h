/* Included by the fast kernels of one architecture (engines/common/<arch>/kernels_ref.c):
 * the whole portable kernels_ref.c, with the four matvecs renamed em_portable_matvec_*.
 * The including file then defines em_matvec_*_rows itself and falls back to these for the
 * shapes (or alignments) its fast path does not take. Every other kernel stays the
 * reference one, so only the matvecs differ from kernels_ref.c. */
#ifndef ENGINES_COMMON_KERNELS_PORTABLE_H_
#define ENGINES_COMMON_KERNELS_PORTABLE_H_

#include "engine/kernels.h"

void em_portable_matvec_f32_rows(float *out, const float *x, const float *w, int n, int row_begin,
                                 int row_end);
void em_portable_matvec_f16_rows(float *out, const float *x, const uint16_t *w, int n,
                                 int row_begin, int row_end);
void em_portable_matvec_q8_rows(float *out, const em_qvec *x, const int8_t *w,
                                const float *w_scales, int n, int row_begin, int row_end);
void em_portable_matvec_q4_rows(float *out, const em_qvec *x, const uint8_t *w,
                                const float *w_scales, int n, int row_begin, int row_end);

#define em_matvec_f32_rows em_portable_matvec_f32_rows
#define em_matvec_f16_rows em_portable_matvec_f16_rows
#define em_matvec_q8_rows em_portable_matvec_q8_rows
#define em_matvec_q4_rows em_portable_matvec_q4_rows
#include "engines/common/kernels_ref.c"
#undef em_matvec_f32_rows
#undef em_matvec_f16_rows
#undef em_matvec_q8_rows
#undef em_matvec_q4_rows

#endif /* ENGINES_COMMON_KERNELS_PORTABLE_H_ */
