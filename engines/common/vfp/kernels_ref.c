/* ARM1176JZF-S kernels (Raspberry Pi Zero: ARMv6, VFPv2, no NEON): the matvecs of
 * kernels_ref.c, same contract (kernels.h), everything else the reference code.
 *   f32, f16  unrolled scalar VFP loops (vfp/float_unrolled.h), float sums reassociated
 *   q8, q4    ARMv6 SIMD32 SXTB16 + SMLAD dual 16-bit MACs (dsp/int8_simd32.h), bit-exact */
#include "engines/common/dsp/int8_simd32.h"
#include "engines/common/kernels_portable.h"
#include "engines/common/vfp/float_unrolled.h"

void em_matvec_f32_rows(float *out, const float *x, const float *w, int n, int row_begin,
                        int row_end) {
  unrolled_matvec_f32_rows(out, x, w, n, row_begin, row_end);
}

void em_matvec_f16_rows(float *out, const float *x, const uint16_t *w, int n, int row_begin,
                        int row_end) {
  unrolled_matvec_f16_rows(out, x, w, n, row_begin, row_end);
}

void em_matvec_q8_rows(float *out, const em_qvec *x, const int8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end) {
  simd32_matvec_q8_rows(out, x, w, w_scales, n, row_begin, row_end);
}

void em_matvec_q4_rows(float *out, const em_qvec *x, const uint8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end) {
  simd32_matvec_q4_rows(out, x, w, w_scales, n, row_begin, row_end);
}
