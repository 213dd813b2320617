/* AArch64 NEON kernels (Cortex-A72, Cortex-A53): the matvecs of kernels_ref.c, same
 * contract (kernels.h), everything else the reference code.
 *   f32  four rows at a time, two 4-lane FMA accumulators per row (float sums reassociated:
 *        within kernels_arch_test's stated bound of the reference)
 *   f16  the same with FCVTL widening (exact, as em_f16_to_f32)
 *   q8   SMULL int8 x int8 -> int16, SADALP pairwise-accumulate into int32 (these cores have
 *        no SDOT); integer group sums are exact, the fp32 sum over groups keeps the
 *        reference's order: bit-exact with kernels_ref.c
 *   q4   nibbles sign-extended by shifts, activations de-interleaved by LD2: bit-exact
 * Shapes outside the fast path (group size not a multiple of 16 / 32) use the portable code. */
#include <arm_neon.h>

#include "engines/common/kernels_portable.h"

/* ---- f32 / f16 ---- */

void em_matvec_f32_rows(float *out, const float *x, const float *w, int n, int row_begin,
                        int row_end) {
  int n8 = n & ~7;
  int i = row_begin;
  for (; i + 4 <= row_end; i += 4) {
    const float *r0 = w + (size_t)i * n, *r1 = r0 + n, *r2 = r1 + n, *r3 = r2 + n;
    float32x4_t a0 = vdupq_n_f32(0), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
    for (int j = 0; j < n8; j += 8) {
      float32x4_t xa = vld1q_f32(x + j), xb = vld1q_f32(x + j + 4);
      a0 = vfmaq_f32(a0, vld1q_f32(r0 + j), xa);
      b0 = vfmaq_f32(b0, vld1q_f32(r0 + j + 4), xb);
      a1 = vfmaq_f32(a1, vld1q_f32(r1 + j), xa);
      b1 = vfmaq_f32(b1, vld1q_f32(r1 + j + 4), xb);
      a2 = vfmaq_f32(a2, vld1q_f32(r2 + j), xa);
      b2 = vfmaq_f32(b2, vld1q_f32(r2 + j + 4), xb);
      a3 = vfmaq_f32(a3, vld1q_f32(r3 + j), xa);
      b3 = vfmaq_f32(b3, vld1q_f32(r3 + j + 4), xb);
    }
    float s0 = vaddvq_f32(vaddq_f32(a0, b0)), s1 = vaddvq_f32(vaddq_f32(a1, b1));
    float s2 = vaddvq_f32(vaddq_f32(a2, b2)), s3 = vaddvq_f32(vaddq_f32(a3, b3));
    for (int j = n8; j < n; j++) {
      s0 += r0[j] * x[j];
      s1 += r1[j] * x[j];
      s2 += r2[j] * x[j];
      s3 += r3[j] * x[j];
    }
    out[i] = s0;
    out[i + 1] = s1;
    out[i + 2] = s2;
    out[i + 3] = s3;
  }
  for (; i < row_end; i++) {
    const float *r = w + (size_t)i * n;
    float32x4_t a = vdupq_n_f32(0), b = a;
    for (int j = 0; j < n8; j += 8) {
      a = vfmaq_f32(a, vld1q_f32(r + j), vld1q_f32(x + j));
      b = vfmaq_f32(b, vld1q_f32(r + j + 4), vld1q_f32(x + j + 4));
    }
    float s = vaddvq_f32(vaddq_f32(a, b));
    for (int j = n8; j < n; j++) s += r[j] * x[j];
    out[i] = s;
  }
}

static inline float32x4_t f16_low(uint16x8_t h) {
  return vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(h)));
}

static inline float32x4_t f16_high(uint16x8_t h) {
  return vcvt_f32_f16(vreinterpret_f16_u16(vget_high_u16(h)));
}

void em_matvec_f16_rows(float *out, const float *x, const uint16_t *w, int n, int row_begin,
                        int row_end) {
  int n8 = n & ~7;
  int i = row_begin;
  for (; i + 2 <= row_end; i += 2) {
    const uint16_t *r0 = w + (size_t)i * n, *r1 = r0 + n;
    float32x4_t a0 = vdupq_n_f32(0), b0 = a0, a1 = a0, b1 = a0;
    for (int j = 0; j < n8; j += 8) {
      float32x4_t xa = vld1q_f32(x + j), xb = vld1q_f32(x + j + 4);
      uint16x8_t h0 = vld1q_u16(r0 + j), h1 = vld1q_u16(r1 + j);
      a0 = vfmaq_f32(a0, f16_low(h0), xa);
      b0 = vfmaq_f32(b0, f16_high(h0), xb);
      a1 = vfmaq_f32(a1, f16_low(h1), xa);
      b1 = vfmaq_f32(b1, f16_high(h1), xb);
    }
    float s0 = vaddvq_f32(vaddq_f32(a0, b0)), s1 = vaddvq_f32(vaddq_f32(a1, b1));
    for (int j = n8; j < n; j++) {
      s0 += em_f16_to_f32(r0[j]) * x[j];
      s1 += em_f16_to_f32(r1[j]) * x[j];
    }
    out[i] = s0;
    out[i + 1] = s1;
  }
  for (; i < row_end; i++) {
    const uint16_t *r = w + (size_t)i * n;
    float32x4_t a = vdupq_n_f32(0), b = a;
    for (int j = 0; j < n8; j += 8) {
      uint16x8_t h = vld1q_u16(r + j);
      a = vfmaq_f32(a, f16_low(h), vld1q_f32(x + j));
      b = vfmaq_f32(b, f16_high(h), vld1q_f32(x + j + 4));
    }
    float s = vaddvq_f32(vaddq_f32(a, b));
    for (int j = n8; j < n; j++) s += em_f16_to_f32(r[j]) * x[j];
    out[i] = s;
  }
}

/* ---- q8 / q4: exact int32 group sums ---- */

/* acc += w[0..16) . x[0..16) in int32 (int8 products fit int16, even -128 * -128). */
static inline int32x4_t dot16_s8(int32x4_t acc, int8x16_t w, int8x16_t x) {
  acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(w), vget_low_s8(x)));
  return vpadalq_s16(acc, vmull_high_s8(w, x));
}

void em_matvec_q8_rows(float *out, const em_qvec *x, const int8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end) {
  int gs = x->group_size;
  if (gs % 16 != 0) {
    em_portable_matvec_q8_rows(out, x, w, w_scales, n, row_begin, row_end);
    return;
  }
  int groups = n / gs;
  int i = row_begin;
  for (; i + 2 <= row_end; i += 2) {
    const int8_t *r0 = w + (size_t)i * n, *r1 = r0 + n;
    const float *sc0 = w_scales + (size_t)i * groups, *sc1 = sc0 + groups;
    float s0 = 0.0f, s1 = 0.0f;
    for (int g = 0; g < groups; g++) {
      const int8_t *xg = x->q + g * gs, *w0 = r0 + g * gs, *w1 = r1 + g * gs;
      int32x4_t a0 = vdupq_n_s32(0), a1 = a0;
      for (int k = 0; k < gs; k += 16) {
        int8x16_t xv = vld1q_s8(xg + k);
        a0 = dot16_s8(a0, vld1q_s8(w0 + k), xv);
        a1 = dot16_s8(a1, vld1q_s8(w1 + k), xv);
      }
      s0 += (float)vaddvq_s32(a0) * sc0[g] * x->s[g];
      s1 += (float)vaddvq_s32(a1) * sc1[g] * x->s[g];
    }
    out[i] = s0;
    out[i + 1] = s1;
  }
  for (; i < row_end; i++) {
    const int8_t *r = w + (size_t)i * n;
    const float *sc = w_scales + (size_t)i * groups;
    float s = 0.0f;
    for (int g = 0; g < groups; g++) {
      int32x4_t a = vdupq_n_s32(0);
      for (int k = 0; k < gs; k += 16)
        a = dot16_s8(a, vld1q_s8(r + g * gs + k), vld1q_s8(x->q + g * gs + k));
      s += (float)vaddvq_s32(a) * sc[g] * x->s[g];
    }
    out[i] = s;
  }
}

/* acc += the 32 int4 values packed in b (element 2k low nibble of byte k) . x[0..32). */
static inline int32x4_t dot32_s4(int32x4_t acc, uint8x16_t b, int8x16x2_t x_even_odd) {
  int8x16_t lo = vshrq_n_s8(vshlq_n_s8(vreinterpretq_s8_u8(b), 4), 4); /* elements 0, 2, ... */
  int8x16_t hi = vshrq_n_s8(vreinterpretq_s8_u8(b), 4);                /* elements 1, 3, ... */
  acc = dot16_s8(acc, lo, x_even_odd.val[0]);
  return dot16_s8(acc, hi, x_even_odd.val[1]);
}

void em_matvec_q4_rows(float *out, const em_qvec *x, const uint8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end) {
  int gs = x->group_size;
  if (gs % 32 != 0) {
    em_portable_matvec_q4_rows(out, x, w, w_scales, n, row_begin, row_end);
    return;
  }
  int groups = n / gs;
  int i = row_begin;
  for (; i + 2 <= row_end; i += 2) {
    const uint8_t *r0 = w + (size_t)i * (n / 2), *r1 = r0 + n / 2;
    const float *sc0 = w_scales + (size_t)i * groups, *sc1 = sc0 + groups;
    float s0 = 0.0f, s1 = 0.0f;
    for (int g = 0; g < groups; g++) {
      int32x4_t a0 = vdupq_n_s32(0), a1 = a0;
      for (int k = 0; k < gs; k += 32) {
        int8x16x2_t xv = vld2q_s8(x->q + g * gs + k);
        a0 = dot32_s4(a0, vld1q_u8(r0 + (g * gs + k) / 2), xv);
        a1 = dot32_s4(a1, vld1q_u8(r1 + (g * gs + k) / 2), xv);
      }
      s0 += (float)vaddvq_s32(a0) * sc0[g] * x->s[g];
      s1 += (float)vaddvq_s32(a1) * sc1[g] * x->s[g];
    }
    out[i] = s0;
    out[i + 1] = s1;
  }
  for (; i < row_end; i++) {
    const uint8_t *r = w + (size_t)i * (n / 2);
    const float *sc = w_scales + (size_t)i * groups;
    float s = 0.0f;
    for (int g = 0; g < groups; g++) {
      int32x4_t a = vdupq_n_s32(0);
      for (int k = 0; k < gs; k += 32)
        a = dot32_s4(a, vld1q_u8(r + (g * gs + k) / 2), vld2q_s8(x->q + g * gs + k));
      s += (float)vaddvq_s32(a) * sc[g] * x->s[g];
    }
    out[i] = s;
  }
}
