/* f32 / f16 matvecs as plain C loops for cores with a scalar FPU only (ARM1176 VFPv2, the
 * Cortex-M33's single-precision FPU): two rows at a time sharing each x load, four
 * independent accumulators per row so the FPU pipeline (VFP11: 8 stages) stays busy.
 * Float sums are reassociated (kernels_arch_test's stated bound). fp16 is widened with
 * integer operations only: a float multiply would see subnormal inputs, which the VFP11
 * hands to support code that bare metal does not have.
 * Included by arm32/hot_kernels.c. */
#ifndef ENGINES_KERNELS_ARM32_FLOAT_UNROLLED_H_
#define ENGINES_KERNELS_ARM32_FLOAT_UNROLLED_H_

#include <stddef.h>
#include <stdint.h>

#include "engine/kernels_ref.h"

static void unrolled_matvec_f32_rows(float *out, const float *x, const float *w, int n,
                                     int row_begin, int row_end) {
  int n4 = n & ~3;
  int i = row_begin;
  for (; i + 2 <= row_end; i += 2) {
    const float *r0 = w + (size_t)i * n, *r1 = r0 + n;
    float a0 = 0, b0 = 0, c0 = 0, d0 = 0, a1 = 0, b1 = 0, c1 = 0, d1 = 0;
    for (int j = 0; j < n4; j += 4) {
      float x0 = x[j], x1 = x[j + 1], x2 = x[j + 2], x3 = x[j + 3];
      a0 += r0[j] * x0;
      a1 += r1[j] * x0;
      b0 += r0[j + 1] * x1;
      b1 += r1[j + 1] * x1;
      c0 += r0[j + 2] * x2;
      c1 += r1[j + 2] * x2;
      d0 += r0[j + 3] * x3;
      d1 += r1[j + 3] * x3;
    }
    for (int j = n4; j < n; j++) {
      a0 += r0[j] * x[j];
      a1 += r1[j] * x[j];
    }
    out[i] = (a0 + b0) + (c0 + d0);
    out[i + 1] = (a1 + b1) + (c1 + d1);
  }
  for (; i < row_end; i++) {
    const float *r = w + (size_t)i * n;
    float a = 0, b = 0, c = 0, d = 0;
    for (int j = 0; j < n4; j += 4) {
      a += r[j] * x[j];
      b += r[j + 1] * x[j + 1];
      c += r[j + 2] * x[j + 2];
      d += r[j + 3] * x[j + 3];
    }
    for (int j = n4; j < n; j++) a += r[j] * x[j];
    out[i] = (a + b) + (c + d);
  }
}

/* em_f16_to_f32 for normal halves in three integer operations; zero, subnormals, inf and NaN
 * (exponent 0 or 31, rare in weights) take the reference conversion. */
static inline float f16_widen(uint16_t h) {
  uint32_t e = h & 0x7c00u;
  if (e == 0 || e == 0x7c00u) return em_f16_to_f32(h);
  uint32_t bits =
      ((uint32_t)(h & 0x8000u) << 16) | (((uint32_t)(h & 0x7fffu) << 13) + (112u << 23));
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

static void unrolled_matvec_f16_rows(float *out, const float *x, const uint16_t *w, int n,
                                     int row_begin, int row_end) {
  int n4 = n & ~3;
  int i = row_begin;
  for (; i + 2 <= row_end; i += 2) {
    const uint16_t *r0 = w + (size_t)i * n, *r1 = r0 + n;
    float a0 = 0, b0 = 0, c0 = 0, d0 = 0, a1 = 0, b1 = 0, c1 = 0, d1 = 0;
    for (int j = 0; j < n4; j += 4) {
      float x0 = x[j], x1 = x[j + 1], x2 = x[j + 2], x3 = x[j + 3];
      a0 += f16_widen(r0[j]) * x0;
      a1 += f16_widen(r1[j]) * x0;
      b0 += f16_widen(r0[j + 1]) * x1;
      b1 += f16_widen(r1[j + 1]) * x1;
      c0 += f16_widen(r0[j + 2]) * x2;
      c1 += f16_widen(r1[j + 2]) * x2;
      d0 += f16_widen(r0[j + 3]) * x3;
      d1 += f16_widen(r1[j + 3]) * x3;
    }
    for (int j = n4; j < n; j++) {
      a0 += f16_widen(r0[j]) * x[j];
      a1 += f16_widen(r1[j]) * x[j];
    }
    out[i] = (a0 + b0) + (c0 + d0);
    out[i + 1] = (a1 + b1) + (c1 + d1);
  }
  for (; i < row_end; i++) {
    const uint16_t *r = w + (size_t)i * n;
    float a = 0, b = 0, c = 0, d = 0;
    for (int j = 0; j < n4; j += 4) {
      a += f16_widen(r[j]) * x[j];
      b += f16_widen(r[j + 1]) * x[j + 1];
      c += f16_widen(r[j + 2]) * x[j + 2];
      d += f16_widen(r[j + 3]) * x[j + 3];
    }
    for (int j = n4; j < n; j++) a += f16_widen(r[j]) * x[j];
    out[i] = (a + b) + (c + d);
  }
}

#endif /* ENGINES_KERNELS_ARM32_FLOAT_UNROLLED_H_ */
