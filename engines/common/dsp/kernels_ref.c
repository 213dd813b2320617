/* Cortex-M33 kernels (RP2350; its QEMU twin mps2-an521): the matvecs of kernels_ref.c, same
 * contract (kernels.h), everything else the reference code.
 *   q8, q4    with the DSP extension (__ARM_FEATURE_DSP: -mcpu=cortex_m33+dsp) its SXTB16 +
 *             SMLAD dual 16-bit MACs (dsp/int8_simd32.h), bit-exact; without it (zig's plain
 *             cortex_m33, and QEMU's mps2-an521 whose M33 has no DSP) the portable loops
 *   f32, f16  unrolled scalar loops (vfp/float_unrolled.h), float sums reassociated; with
 *             no FPU (mps2-an521's M33) they are soft-float calls either way */
#include "engines/common/kernels_portable.h"
#if defined(__ARM_FEATURE_DSP)
#include "engines/common/dsp/int8_simd32.h"
#else
#define simd32_matvec_q8_rows em_portable_matvec_q8_rows
#define simd32_matvec_q4_rows em_portable_matvec_q4_rows
#endif
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
