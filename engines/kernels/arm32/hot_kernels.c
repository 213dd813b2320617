/* 32-bit ARM hot kernels: the ARM1176JZF-S (Pi Zero: ARMv6, VFPv2, no NEON) and the Cortex-M33
 * (RP2350; its QEMU twin mps2-an521). The matvecs, same contract as the reference (kernels.h):
 *   f32, f16  unrolled scalar loops (float_unrolled.h), float sums reassociated; with no FPU
 *             (mps2-an521's M33) they are soft-float calls either way
 *   q8, q4    SIMD32 SXTB16 + SMLAD dual 16-bit MACs (simd32.h), bit-exact, where the core has
 *             them (ARMv6; ARMv8-M with the DSP extension, -mcpu=cortex_m33+dsp); without
 *             (zig's plain cortex_m33, QEMU's M33) the reference loops
 * em_quantize_q8: on the Cortex-M33 with its FPU (the RP2350) VCVTA below, identical bits to the
 * reference; elsewhere the reference's (hot_quantize.c). em_attention_head is the reference's
 * (hot_attention.c). */
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

#if defined(__ARM_ARCH_8M_MAIN__) && defined(__ARM_FP)
/* The reference's em_quantize_q8 with its roundf + clamp as one VCVTA (round to nearest, ties
 * away from zero, like roundf; saturating; NaN gives 0) and a clamp to +-127: the same bits
 * (kernels_arch_test, tests/board/kernels_selftest.c). The division stays a division. */
static inline int32_t round_away(float v) {
  float r;
  __asm__("vcvta.s32.f32 %0, %1" : "=t"(r) : "t"(v));
  int32_t i;
  __builtin_memcpy(&i, &r, sizeof i);
  return i;
}

void em_quantize_q8(int8_t *q, float *s, const float *x, int n, int group_size) {
  for (int g = 0; g < n / group_size; g++) {
    const float *xg = x + (size_t)g * group_size;
    int8_t *qg = q + (size_t)g * group_size;
    float m = 0.0f;
    for (int i = 0; i < group_size; i++) {
      float a = __builtin_fabsf(xg[i]);
      if (a > m) m = a;
    }
    float scale = m / 127.0f;
    s[g] = scale;
    for (int i = 0; i < group_size; i++) {
      int32_t v = scale == 0.0f ? 0 : round_away(xg[i] / scale);
      qg[i] = (int8_t)(v > 127 ? 127 : (v < -127 ? -127 : v));
    }
  }
}
#endif
