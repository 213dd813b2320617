/* q8 / q4 matvecs on the 32-bit ARM SIMD32 instructions (ARMv6 such as the ARM1176, and
 * ARMv8-M with the DSP extension such as the Cortex-M33): SXTB16 sign-extends bytes 0 and 2
 * (or 1 and 3, rotated) of a word to two int16 lanes, SMLAD multiplies both lane pairs and
 * adds them to an int32 accumulator. Integer group sums are exact and the fp32 sum over
 * groups keeps the reference's order: bit-exact with the reference.
 * Included by arm32/hot_kernels.c. Word loads
 * need 4-byte aligned rows and activations; anything else takes the portable code. */
#ifndef ENGINES_KERNELS_ARM32_SIMD32_H_
#define ENGINES_KERNELS_ARM32_SIMD32_H_

#include <arm_acle.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/kernels_ref.h"

#if !defined(__ARM_FEATURE_SIMD32)
#error "simd32.h needs the SIMD32 instructions (ARMv6, or ARMv8-M with +dsp)"
#endif

/* A 4-byte aligned word (the caller checked the alignment). */
static inline uint32_t load_word(const void *p) {
  uint32_t v;
  __builtin_memcpy(&v, __builtin_assume_aligned(p, 4), 4);
  return v;
}

static inline int misaligned(const void *a, const void *b, int n) {
  return (((uintptr_t)a | (uintptr_t)b | (uintptr_t)n) & 3u) != 0;
}

/* Sum of w[0..gs) * x[0..gs) for two rows w0, w1 sharing x (gs a multiple of 4). */
static inline void dot_q8_2rows(const int8_t *w0, const int8_t *w1, const int8_t *x, int gs,
                                int32_t *acc0, int32_t *acc1) {
  int32_t a0 = 0, a1 = 0;
  for (int k = 0; k < gs; k += 4) {
    uint32_t xv = load_word(x + k);
    int16x2_t x02 = __sxtb16(xv), x13 = __sxtb16(__ror(xv, 8));
    uint32_t v0 = load_word(w0 + k), v1 = load_word(w1 + k);
    a0 = __smlad(__sxtb16(v0), x02, a0);
    a0 = __smlad(__sxtb16(__ror(v0, 8)), x13, a0);
    a1 = __smlad(__sxtb16(v1), x02, a1);
    a1 = __smlad(__sxtb16(__ror(v1, 8)), x13, a1);
  }
  *acc0 = a0;
  *acc1 = a1;
}

#if defined(__ARM_ARCH) && __ARM_ARCH == 6 && !defined(__thumb__)
#define SIMD32_Q8_3ROWS 1
/* The ARM1176's (ARMv6, ARM state) q8 inner loop: three rows w0..w2 against x over one group
 * of gs bytes (gs a positive multiple of 4), one activation word unpacked once for the three
 * rows, the offset counting up to 0 so the loop needs no compare: 20 instructions per 12
 * weights (the compiled two-row loop: 17 per 8). Written as assembly because the compiler
 * spills with this many live values. Integer sums: exact, the same as the reference's. */
static inline void dot_q8_3rows(const int8_t *w0, const int8_t *w1, const int8_t *w2,
                                const int8_t *x, int gs, int32_t acc[3]) {
  int32_t a0 = 0, a1 = 0, a2 = 0;
  int32_t k = -gs;
  uint32_t xv, x13, w, t;
  __asm__(
      "1:\n\t"
      "ldr    %[xv], [%[x], %[k]]\n\t"
      "ldr    %[w], [%[w0], %[k]]\n\t"
      "sxtb16 %[x13], %[xv], ror #8\n\t"
      "sxtb16 %[xv], %[xv]\n\t"
      "sxtb16 %[t], %[w]\n\t"
      "smlad  %[a0], %[t], %[xv], %[a0]\n\t"
      "sxtb16 %[t], %[w], ror #8\n\t"
      "ldr    %[w], [%[w1], %[k]]\n\t"
      "smlad  %[a0], %[t], %[x13], %[a0]\n\t"
      "sxtb16 %[t], %[w]\n\t"
      "smlad  %[a1], %[t], %[xv], %[a1]\n\t"
      "sxtb16 %[t], %[w], ror #8\n\t"
      "ldr    %[w], [%[w2], %[k]]\n\t"
      "smlad  %[a1], %[t], %[x13], %[a1]\n\t"
      "sxtb16 %[t], %[w]\n\t"
      "smlad  %[a2], %[t], %[xv], %[a2]\n\t"
      "sxtb16 %[t], %[w], ror #8\n\t"
      "adds   %[k], %[k], #4\n\t"
      "smlad  %[a2], %[t], %[x13], %[a2]\n\t"
      "bne    1b"
      : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [k] "+r"(k), [xv] "=&r"(xv), [x13] "=&r"(x13),
        [w] "=&r"(w), [t] "=&r"(t)
      : [x] "r"(x + gs), [w0] "r"(w0 + gs), [w1] "r"(w1 + gs), [w2] "r"(w2 + gs)
      : "cc", "memory");
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
}
#endif

static inline int32_t dot_q8(const int8_t *w, const int8_t *x, int gs) {
  int32_t a = 0;
  for (int k = 0; k < gs; k += 4) {
    uint32_t xv = load_word(x + k), v = load_word(w + k);
    a = __smlad(__sxtb16(v), __sxtb16(xv), a);
    a = __smlad(__sxtb16(__ror(v, 8)), __sxtb16(__ror(xv, 8)), a);
  }
  return a;
}

static void simd32_matvec_q8_rows(float *out, const em_qvec *x, const int8_t *w,
                                  const float *w_scales, int n, int row_begin, int row_end) {
  int gs = x->group_size;
  if (gs % 4 != 0 || misaligned(w, x->q, n)) {
    em_ref_matvec_q8_rows(out, x, w, w_scales, n, row_begin, row_end);
    return;
  }
  int groups = n / gs;
  int i = row_begin;
#ifdef SIMD32_Q8_3ROWS
  if (gs > 0) {
    for (; i + 3 <= row_end; i += 3) {
      const int8_t *r0 = w + (size_t)i * n, *r1 = r0 + n, *r2 = r1 + n;
      const float *sc0 = w_scales + (size_t)i * groups, *sc1 = sc0 + groups, *sc2 = sc1 + groups;
      float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f;
      for (int g = 0; g < groups; g++) {
        int32_t a[3];
        dot_q8_3rows(r0 + g * gs, r1 + g * gs, r2 + g * gs, x->q + g * gs, gs, a);
        s0 += (float)a[0] * sc0[g] * x->s[g];
        s1 += (float)a[1] * sc1[g] * x->s[g];
        s2 += (float)a[2] * sc2[g] * x->s[g];
      }
      out[i] = s0;
      out[i + 1] = s1;
      out[i + 2] = s2;
    }
  }
#endif
  for (; i + 2 <= row_end; i += 2) {
    const int8_t *r0 = w + (size_t)i * n, *r1 = r0 + n;
    const float *sc0 = w_scales + (size_t)i * groups, *sc1 = sc0 + groups;
    float s0 = 0.0f, s1 = 0.0f;
    for (int g = 0; g < groups; g++) {
      int32_t a0, a1;
      dot_q8_2rows(r0 + g * gs, r1 + g * gs, x->q + g * gs, gs, &a0, &a1);
      s0 += (float)a0 * sc0[g] * x->s[g];
      s1 += (float)a1 * sc1[g] * x->s[g];
    }
    out[i] = s0;
    out[i + 1] = s1;
  }
  for (; i < row_end; i++) {
    const int8_t *r = w + (size_t)i * n;
    const float *sc = w_scales + (size_t)i * groups;
    float s = 0.0f;
    for (int g = 0; g < groups; g++) {
      int32_t a = dot_q8(r + g * gs, x->q + g * gs, gs);
      s += (float)a * sc[g] * x->s[g];
    }
    out[i] = s;
  }
}

/* 16 times the sum of the 8 int4 values packed in wv (element 2k in the low nibble of byte
 * k) times x[0..8). Nibbles are moved to the top of their byte (value * 16, sign in bit 7)
 * so that SXTB16 sign-extends them; the lanes pair up as (0,4) (2,6) (1,5) (3,7). */
static inline int32_t dot8_q4_x16(uint32_t wv, int16x2_t x04, int16x2_t x26, int16x2_t x15,
                                  int16x2_t x37, int32_t acc) {
  uint32_t lo = (wv << 4) & 0xf0f0f0f0u; /* bytes: 16 * elements 0, 2, 4, 6 */
  uint32_t hi = wv & 0xf0f0f0f0u;        /* bytes: 16 * elements 1, 3, 5, 7 */
  acc = __smlad(__sxtb16(lo), x04, acc);
  acc = __smlad(__sxtb16(__ror(lo, 8)), x26, acc);
  acc = __smlad(__sxtb16(hi), x15, acc);
  return __smlad(__sxtb16(__ror(hi, 8)), x37, acc);
}

/* x[0..8) as the int16 lane pairs dot8_q4_x16 expects. */
static inline void x_pairs(const int8_t *x, int16x2_t p[4]) {
  uint32_t xa = load_word(x), xb = load_word(x + 4);
  uint32_t x02 = (uint32_t)__sxtb16(xa), x13 = (uint32_t)__sxtb16(__ror(xa, 8));
  uint32_t x46 = (uint32_t)__sxtb16(xb), x57 = (uint32_t)__sxtb16(__ror(xb, 8));
  p[0] = (int16x2_t)((x02 & 0xffffu) | (x46 << 16));
  p[1] = (int16x2_t)((x02 >> 16) | (x46 & 0xffff0000u));
  p[2] = (int16x2_t)((x13 & 0xffffu) | (x57 << 16));
  p[3] = (int16x2_t)((x13 >> 16) | (x57 & 0xffff0000u));
}

static void simd32_matvec_q4_rows(float *out, const em_qvec *x, const uint8_t *w,
                                  const float *w_scales, int n, int row_begin, int row_end) {
  int gs = x->group_size;
  if (gs % 8 != 0 || misaligned(w, x->q, n / 2)) {
    em_ref_matvec_q4_rows(out, x, w, w_scales, n, row_begin, row_end);
    return;
  }
  int groups = n / gs;
  int i = row_begin;
  for (; i + 2 <= row_end; i += 2) {
    const uint8_t *r0 = w + (size_t)i * (n / 2), *r1 = r0 + n / 2;
    const float *sc0 = w_scales + (size_t)i * groups, *sc1 = sc0 + groups;
    float s0 = 0.0f, s1 = 0.0f;
    for (int g = 0; g < groups; g++) {
      int32_t a0 = 0, a1 = 0;
      for (int k = g * gs; k < (g + 1) * gs; k += 8) {
        int16x2_t p[4];
        x_pairs(x->q + k, p);
        a0 = dot8_q4_x16(load_word(r0 + k / 2), p[0], p[1], p[2], p[3], a0);
        a1 = dot8_q4_x16(load_word(r1 + k / 2), p[0], p[1], p[2], p[3], a1);
      }
      s0 += (float)(a0 >> 4) * sc0[g] * x->s[g]; /* exact: a multiple of 16 */
      s1 += (float)(a1 >> 4) * sc1[g] * x->s[g];
    }
    out[i] = s0;
    out[i + 1] = s1;
  }
  for (; i < row_end; i++) {
    const uint8_t *r = w + (size_t)i * (n / 2);
    const float *sc = w_scales + (size_t)i * groups;
    float s = 0.0f;
    for (int g = 0; g < groups; g++) {
      int32_t a = 0;
      for (int k = g * gs; k < (g + 1) * gs; k += 8) {
        int16x2_t p[4];
        x_pairs(x->q + k, p);
        a = dot8_q4_x16(load_word(r + k / 2), p[0], p[1], p[2], p[3], a);
      }
      s += (float)(a >> 4) * sc[g] * x->s[g];
    }
    out[i] = s;
  }
}

#endif /* ENGINES_KERNELS_ARM32_SIMD32_H_ */
