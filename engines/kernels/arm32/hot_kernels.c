/* 32-bit ARM hot kernels: the ARM1176JZF-S (Pi Zero: ARMv6, VFPv2, no NEON) and the Cortex-M33
 * (RP2350; its QEMU twin mps2-an521). The matvecs, same contract as the reference (kernels.h):
 *   f32, f16  unrolled scalar loops (float_unrolled.h), float sums reassociated; with no FPU
 *             (mps2-an521's M33) they are soft-float calls either way
 *   q8, q4    SIMD32 SXTB16 + SMLAD dual 16-bit MACs (simd32.h), bit-exact, where the core has
 *             them (ARMv6; ARMv8-M with the DSP extension, -mcpu=cortex_m33+dsp); without
 *             (zig's plain cortex_m33, QEMU's M33) the reference loops
 * em_quantize_q8 and em_attention_head are the reference's (hot_quantize.c, hot_attention.c). */
#include "engine/kernels.h"
#include "engine/kernels_ref.h"
#include "engines/kernels/arm32/float_unrolled.h"
#if defined(__ARM_FEATURE_SIMD32)
#include "engines/kernels/arm32/simd32.h"
#else
#define simd32_matvec_q8_rows em_ref_matvec_q8_rows
#define simd32_matvec_q4_rows em_ref_matvec_q4_rows
#endif

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
