/* AArch64 NEON hot kernels (Cortex-A72, Cortex-A53): the matvecs, em_quantize_q8 and
 * em_attention_head, same contract as the reference (kernels.h).
 *   f32  four rows at a time, two 4-lane FMA accumulators per row
 *   f16  the same with FCVTL widening (exact, as em_f16_to_f32)
 *   q8   four rows at a time; per 16 int8 values SMULL + SMLAL2 (two products per int16 lane)
 *        and SADALP into int32 lanes (these cores have no SDOT): each group's integer sum is
 *        exact. Group sums are converted to float and FMA'd by the scale product
 *        w_scale * x_scale into four float lanes per row, reduced across lanes once per row
 *   q4   the same, nibbles sign-extended by shifts, activations de-interleaved by LD2, four
 *        products per int16 lane
 *   attention  scores as 8-lane dot products, the reference softmax, the weighted sum of V
 *        with each output element summed over positions in the reference's order (FMA)
 * Float sums are reassociated (lanes, FMA, the scale product rounded once): not bit-exact with
 * the reference but within kernels_arch_test's stated bounds. Every row is computed by the
 * same instructions whether it falls in a block of four or in the tail, so results do not
 * depend on how rows are split over cores.
 *
 * Loads. Board builds use -mstrict-align (toolchains/cc/zig_toolchains.bzl: code before the
 * MMU is on must not make unaligned accesses), under which the compiler assembles a plain
 * vld1q_* of an int8 / uint16 / float pointer from byte, halfword or word loads through the
 * stack. LD1 only needs its element size's alignment, so the loads below are LD1 itself: the
 * two- and four-register intrinsics (vld1q_*_x2/_x4, which the compiler emits as LD1) and, for
 * one register, LD1 in inline assembly.
 *
 *   em_quantize_q8  16 activations at a time, the reference's bits (see below)
 *
 * Shapes outside the fast path (q8 group size not a multiple of 16, q4 not of 32) use the
 * portable code. */
#include <arm_neon.h>
#include <stddef.h>

#include "engine/kernels.h"
#include "engine/kernels_ref.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

enum { BLOCK = 4 }; /* rows per block */

/* ---- loads (see above) ---- */

ALWAYS_INLINE int8x16_t ld1_s8(const int8_t *p) {
  int8x16_t v;
  __asm__("ld1 {%0.16b}, [%1]" : "=w"(v) : "r"(p), "m"(*(const int8_t (*)[16])p));
  return v;
}

ALWAYS_INLINE float32x4_t ld1_f32(const float *p) {
  float32x4_t v;
  __asm__("ld1 {%0.4s}, [%1]" : "=w"(v) : "r"(p), "m"(*(const float (*)[4])p));
  return v;
}

ALWAYS_INLINE uint16x8_t ld1_u16(const uint16_t *p) {
  uint16x8_t v;
  __asm__("ld1 {%0.8h}, [%1]" : "=w"(v) : "r"(p), "m"(*(const uint16_t (*)[8])p));
  return v;
}

/* ---- f32 / f16 ---- */

/* s + the columns [from, n) of row r, one at a time (out of line: rare, and kept out of the
 * blocks' register allocation). */
static __attribute__((noinline)) float f32_tail(float s, const float *r, const float *x, int from,
                                                int n) {
  for (int j = from; j < n; j++) s += r[j] * x[j];
  return s;
}

static __attribute__((noinline)) float f16_tail(float s, const uint16_t *r, const float *x,
                                                int from, int n) {
  for (int j = from; j < n; j++) s += em_f16_to_f32(r[j]) * x[j];
  return s;
}

/* Rows [i, i + R) of w (R = 1 or BLOCK, a constant after inlining). */
ALWAYS_INLINE void f32_rows(int R, float *out, const float *x, const float *w, int n, int i) {
  int n8 = n & ~7;
  const float *r[BLOCK];
  float32x4_t a[BLOCK], b[BLOCK];
  for (int k = 0; k < R; k++) {
    r[k] = w + (size_t)(i + k) * n;
    a[k] = b[k] = vdupq_n_f32(0);
  }
  for (int j = 0; j < n8; j += 8) {
    float32x4x2_t xv = vld1q_f32_x2(x + j);
    for (int k = 0; k < R; k++) {
      float32x4x2_t wv = vld1q_f32_x2(r[k] + j);
      a[k] = vfmaq_f32(a[k], wv.val[0], xv.val[0]);
      b[k] = vfmaq_f32(b[k], wv.val[1], xv.val[1]);
    }
  }
  for (int k = 0; k < R; k++) {
    float s = vaddvq_f32(vaddq_f32(a[k], b[k]));
    out[i + k] = n8 < n ? f32_tail(s, r[k], x, n8, n) : s;
  }
}

void em_matvec_f32_rows(float *out, const float *x, const float *w, int n, int row_begin,
                        int row_end) {
  int i = row_begin;
  for (; i + BLOCK <= row_end; i += BLOCK) f32_rows(BLOCK, out, x, w, n, i);
  for (; i < row_end; i++) f32_rows(1, out, x, w, n, i);
}

ALWAYS_INLINE float32x4_t f16_low(uint16x8_t h) {
  return vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(h)));
}

ALWAYS_INLINE float32x4_t f16_high(uint16x8_t h) {
  return vcvt_high_f32_f16(vreinterpretq_f16_u16(h));
}

/* Rows [i, i + R): 16 columns a step (two accumulators per row), then 8, then single ones. */
ALWAYS_INLINE void f16_rows(int R, float *out, const float *x, const uint16_t *w, int n, int i) {
  int n16 = n & ~15, n8 = n & ~7;
  const uint16_t *r[BLOCK];
  float32x4_t a[BLOCK], b[BLOCK];
  for (int k = 0; k < R; k++) {
    r[k] = w + (size_t)(i + k) * n;
    a[k] = b[k] = vdupq_n_f32(0);
  }
  for (int j = 0; j < n16; j += 16) {
    float32x4x4_t xv = vld1q_f32_x4(x + j);
    for (int k = 0; k < R; k++) {
      uint16x8x2_t h = vld1q_u16_x2(r[k] + j);
      a[k] = vfmaq_f32(a[k], f16_low(h.val[0]), xv.val[0]);
      b[k] = vfmaq_f32(b[k], f16_high(h.val[0]), xv.val[1]);
      a[k] = vfmaq_f32(a[k], f16_low(h.val[1]), xv.val[2]);
      b[k] = vfmaq_f32(b[k], f16_high(h.val[1]), xv.val[3]);
    }
  }
  if (n16 < n8) {
    float32x4x2_t xv = vld1q_f32_x2(x + n16);
    for (int k = 0; k < R; k++) {
      uint16x8_t h = ld1_u16(r[k] + n16);
      a[k] = vfmaq_f32(a[k], f16_low(h), xv.val[0]);
      b[k] = vfmaq_f32(b[k], f16_high(h), xv.val[1]);
    }
  }
  for (int k = 0; k < R; k++) {
    float s = vaddvq_f32(vaddq_f32(a[k], b[k]));
    out[i + k] = n8 < n ? f16_tail(s, r[k], x, n8, n) : s;
  }
}

void em_matvec_f16_rows(float *out, const float *x, const uint16_t *w, int n, int row_begin,
                        int row_end) {
  int i = row_begin;
  for (; i + BLOCK <= row_end; i += BLOCK) f16_rows(BLOCK, out, x, w, n, i);
  for (; i < row_end; i++) f16_rows(1, out, x, w, n, i);
}

/* ---- q8 / q4: exact int32 group lanes, float lanes across groups ---- */

/* int16 lane l = w[l] x[l] + w[l+8] x[l+8]. Exact when x is in [-127, 127] (what
 * em_quantize_q8 makes), for every int8 w: |sum| <= 2 * 128 * 127 = 32512. Overflow needs
 * w = x = -128 in both products. */
ALWAYS_INLINE int16x8_t mul2_s8(int8x16_t w, int8x16_t x) {
  return vmlal_high_s8(vmull_s8(vget_low_s8(w), vget_low_s8(x)), w, x);
}

/* a[k] = the products of the next group of rows p[k] with the activations at *xp, in four
 * int32 lanes; gs a multiple of 16. Advances p[k] and *xp past the group. */
ALWAYS_INLINE void q8_group(int R, int32x4_t *a, const int8_t **xp, const int8_t **p, int gs) {
  int j;
  const int8_t *xg = *xp;
  if (gs >= 32) {
    int8x16x2_t xv = vld1q_s8_x2(xg);
    for (int k = 0; k < R; k++) {
      int8x16x2_t wv = vld1q_s8_x2(p[k]);
      a[k] = vpadalq_s16(vpaddlq_s16(mul2_s8(wv.val[0], xv.val[0])), mul2_s8(wv.val[1], xv.val[1]));
      p[k] += 32;
    }
    j = 32;
  } else {
    int8x16_t xv = ld1_s8(xg);
    for (int k = 0; k < R; k++) {
      a[k] = vpaddlq_s16(mul2_s8(ld1_s8(p[k]), xv));
      p[k] += 16;
    }
    j = 16;
  }
  for (; j + 32 <= gs; j += 32) {
    int8x16x2_t xv = vld1q_s8_x2(xg + j);
    for (int k = 0; k < R; k++) {
      int8x16x2_t wv = vld1q_s8_x2(p[k]);
      a[k] = vpadalq_s16(a[k], mul2_s8(wv.val[0], xv.val[0]));
      a[k] = vpadalq_s16(a[k], mul2_s8(wv.val[1], xv.val[1]));
      p[k] += 32;
    }
  }
  if (j < gs) { /* the last 16 of a group of 48, 80, ... */
    int8x16_t xv = ld1_s8(xg + j);
    for (int k = 0; k < R; k++) {
      a[k] = vpadalq_s16(a[k], mul2_s8(ld1_s8(p[k]), xv));
      p[k] += 16;
    }
  }
  *xp = xg + gs;
}

/* int16 lane l: four products of the 32 int4 values packed in b (element 2m in the low nibble
 * of byte m) with x (x_even_odd: elements 0, 2, ... and 1, 3, ...). |sum| <= 4 * 8 * 128. */
ALWAYS_INLINE int16x8_t mul4_s4(uint8x16_t b, int8x16x2_t x_even_odd) {
  int8x16_t lo = vshrq_n_s8(vshlq_n_s8(vreinterpretq_s8_u8(b), 4), 4); /* elements 0, 2, ... */
  int8x16_t hi = vshrq_n_s8(vreinterpretq_s8_u8(b), 4);                /* elements 1, 3, ... */
  int8x16_t xe = x_even_odd.val[0], xo = x_even_odd.val[1];
  int16x8_t p = vmull_s8(vget_low_s8(lo), vget_low_s8(xe));
  p = vmlal_high_s8(p, lo, xe);
  p = vmlal_s8(p, vget_low_s8(hi), vget_low_s8(xo));
  return vmlal_high_s8(p, hi, xo);
}

/* As q8_group for packed int4 rows p[k] (two values a byte); gs a multiple of 32. */
ALWAYS_INLINE void q4_group(int R, int32x4_t *a, const int8_t **xp, const uint8_t **p, int gs) {
  const int8_t *xg = *xp;
  for (int j = 0; j < gs; j += 32) {
    int8x16x2_t xv = vld2q_s8(xg + j);
    for (int k = 0; k < R; k++) {
      int16x8_t prod = mul4_s4(vreinterpretq_u8_s8(ld1_s8((const int8_t *)p[k])), xv);
      a[k] = j == 0 ? vpaddlq_s16(prod) : vpadalq_s16(a[k], prod);
      p[k] += 16;
    }
  }
  *xp = xg + gs;
}

/* a[k] = the int32 lanes of the next group of row k (q8 or q4); advances the pointers. */
ALWAYS_INLINE void group_lanes(int Q4, int R, int32x4_t *a, const int8_t **xp, const int8_t **r8,
                               const uint8_t **r4, int gs) {
  if (Q4)
    q4_group(R, a, xp, r4, gs);
  else
    q8_group(R, a, xp, r8, gs);
}

/* Rows [i, i + R) of a q8 (Q4 = 0) or q4 (Q4 = 1) matrix into four float lanes per row.
 * Groups four at a time: each group's int32 lanes are added pairwise (VPADD, exact) into one
 * int32 total per group, the four totals converted to float and FMA'd by the four scale
 * products w_scale * x_scale (each rounded once) into lanes 0-3. Remaining groups: their four
 * int32 lanes converted and FMA'd by the group's scale product. Lanes added at the end. */
ALWAYS_INLINE void quant_rows(int Q4, int R, int gs, float *out, const em_qvec *x, const void *w,
                              const float *w_scales, int n, int i) {
  int groups = n / gs;
  const int8_t *xq = x->q; /* both walk group by group */
  const float *xs = x->s;
  const int8_t *r8[BLOCK];
  const uint8_t *r4[BLOCK];
  const float *sc[BLOCK];
  float32x4_t f[BLOCK];
  int32x4_t a[BLOCK], first[BLOCK], pair01[BLOCK], pair23[BLOCK];
  for (int k = 0; k < R; k++) {
    r8[k] = (const int8_t *)w + (size_t)(i + k) * n;
    r4[k] = (const uint8_t *)w + (size_t)(i + k) * (size_t)(n / 2);
    sc[k] = w_scales + (size_t)(i + k) * groups;
    f[k] = vdupq_n_f32(0);
  }
  int g = 0;
  for (; g + 4 <= groups; g += 4) {
    group_lanes(Q4, R, first, &xq, r8, r4, gs);
    group_lanes(Q4, R, a, &xq, r8, r4, gs);
    for (int k = 0; k < R; k++) pair01[k] = vpaddq_s32(first[k], a[k]);
    group_lanes(Q4, R, first, &xq, r8, r4, gs);
    group_lanes(Q4, R, a, &xq, r8, r4, gs);
    for (int k = 0; k < R; k++) pair23[k] = vpaddq_s32(first[k], a[k]);
    float32x4_t xs4 = ld1_f32(xs + g);
    for (int k = 0; k < R; k++) {
      float32x4_t totals = vcvtq_f32_s32(vpaddq_s32(pair01[k], pair23[k]));
      f[k] = vfmaq_f32(f[k], totals, vmulq_f32(ld1_f32(sc[k] + g), xs4));
    }
  }
  for (; g < groups; g++) {
    group_lanes(Q4, R, a, &xq, r8, r4, gs);
    for (int k = 0; k < R; k++) f[k] = vfmaq_n_f32(f[k], vcvtq_f32_s32(a[k]), sc[k][g] * xs[g]);
  }
  for (int k = 0; k < R; k++) out[i + k] = vaddvq_f32(f[k]);
}

/* Blocks of four rows, then single rows; group size 32 (the common one) as a constant. */
ALWAYS_INLINE void quant_matvec(int Q4, float *out, const em_qvec *x, const void *w,
                                const float *w_scales, int n, int row_begin, int row_end) {
  int gs = x->group_size, i = row_begin;
  if (gs == 32) {
    for (; i + BLOCK <= row_end; i += BLOCK) quant_rows(Q4, BLOCK, 32, out, x, w, w_scales, n, i);
    for (; i < row_end; i++) quant_rows(Q4, 1, 32, out, x, w, w_scales, n, i);
  } else {
    for (; i + BLOCK <= row_end; i += BLOCK) quant_rows(Q4, BLOCK, gs, out, x, w, w_scales, n, i);
    for (; i < row_end; i++) quant_rows(Q4, 1, gs, out, x, w, w_scales, n, i);
  }
}

void em_matvec_q8_rows(float *out, const em_qvec *x, const int8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end) {
  if (x->group_size % 16 != 0) {
    em_ref_matvec_q8_rows(out, x, w, w_scales, n, row_begin, row_end);
    return;
  }
  quant_matvec(0, out, x, w, w_scales, n, row_begin, row_end);
}

void em_matvec_q4_rows(float *out, const em_qvec *x, const uint8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end) {
  if (x->group_size % 32 != 0) {
    em_ref_matvec_q4_rows(out, x, w, w_scales, n, row_begin, row_end);
    return;
  }
  quant_matvec(1, out, x, w, w_scales, n, row_begin, row_end);
}

/* ---- activations to int8 ---- */

ALWAYS_INLINE void st1_s8(int8_t *p, int8x16_t v) {
  __asm__("st1 {%1.16b}, [%2]" : "=m"(*(int8_t (*)[16])p) : "w"(v), "r"(p));
}

/* em_quantize_q8 with the reference's bits: the same absmax (FMAXNM keeps the running max when
 * |x| is NaN, as the reference's `a > m` skips it), the same IEEE division, FCVTAS rounding
 * half away from zero as em_roundf does (saturating where em_roundf passes large values, inf
 * and NaN through; NaN becomes 0 in both), then the clamp to [-127, 127]. */
void em_quantize_q8(int8_t *q, float *s, const float *x, int n, int group_size) {
  if (group_size % 16 != 0) {
    em_ref_quantize_q8(q, s, x, n, group_size);
    return;
  }
  const int32x4_t top = vdupq_n_s32(127), bottom = vdupq_n_s32(-127);
  for (int g = 0; g < n / group_size; g++) {
    const float *xg = x + (size_t)g * group_size;
    int8_t *qg = q + (size_t)g * group_size;
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int i = 0; i < group_size; i += 4) m = vmaxnmq_f32(m, vabsq_f32(ld1_f32(xg + i)));
    float scale = vmaxnmvq_f32(m) / 127.0f;
    s[g] = scale;
    if (scale == 0.0f) {
      for (int i = 0; i < group_size; i += 16) st1_s8(qg + i, vdupq_n_s8(0));
      continue;
    }
    float32x4_t d = vdupq_n_f32(scale);
    for (int i = 0; i < group_size; i += 16) {
      int32x4_t v[4];
      for (int k = 0; k < 4; k++) {
        int32x4_t r = vcvtaq_s32_f32(vdivq_f32(ld1_f32(xg + i + 4 * k), d));
        v[k] = vmaxq_s32(vminq_s32(r, top), bottom);
      }
      int16x8_t lo = vcombine_s16(vmovn_s32(v[0]), vmovn_s32(v[1]));
      int16x8_t hi = vcombine_s16(vmovn_s32(v[2]), vmovn_s32(v[3]));
      st1_s8(qg + i, vcombine_s8(vmovn_s16(lo), vmovn_s16(hi)));
    }
  }
}

/* ---- attention ---- */

ALWAYS_INLINE void st1_f32(float *p, float32x4_t v) {
  __asm__("st1 {%1.4s}, [%2]" : "=m"(*(float (*)[4])p) : "w"(v), "r"(p));
}

/* a . b over n floats: two 4-lane FMA accumulators, then the columns past the last 8. */
static float dot_f32(const float *a, const float *b, int n) {
  int n8 = n & ~7;
  float32x4_t s0 = vdupq_n_f32(0), s1 = s0;
  for (int j = 0; j < n8; j += 8) {
    float32x4x2_t av = vld1q_f32_x2(a + j), bv = vld1q_f32_x2(b + j);
    s0 = vfmaq_f32(s0, av.val[0], bv.val[0]);
    s1 = vfmaq_f32(s1, av.val[1], bv.val[1]);
  }
  return f32_tail(vaddvq_f32(vaddq_f32(s0, s1)), a, b, n8, n);
}

void em_attention_head(float *out, const float *q, const float *k_cache, const float *v_cache,
                       int stride, int head_size, int t_begin, int t_end, float divisor,
                       float *att) {
  for (int t = t_begin; t <= t_end; t++)
    att[t] = dot_f32(q, k_cache + (size_t)t * stride, head_size) / divisor;
  em_softmax(att + t_begin, t_end - t_begin + 1);
  /* 16 output elements in registers across all positions, then 4, then single ones */
  int i = 0;
  for (; i + 16 <= head_size; i += 16) {
    float32x4_t a = vdupq_n_f32(0), b = a, c = a, d = a;
    for (int t = t_begin; t <= t_end; t++) {
      float32x4x4_t v = vld1q_f32_x4(v_cache + (size_t)t * stride + i);
      a = vfmaq_n_f32(a, v.val[0], att[t]);
      b = vfmaq_n_f32(b, v.val[1], att[t]);
      c = vfmaq_n_f32(c, v.val[2], att[t]);
      d = vfmaq_n_f32(d, v.val[3], att[t]);
    }
    float32x4x4_t o = {{a, b, c, d}};
    vst1q_f32_x4(out + i, o);
  }
  for (; i + 4 <= head_size; i += 4) {
    float32x4_t a = vdupq_n_f32(0);
    for (int t = t_begin; t <= t_end; t++)
      a = vfmaq_n_f32(a, ld1_f32(v_cache + (size_t)t * stride + i), att[t]);
    st1_f32(out + i, a);
  }
  for (; i < head_size; i++) {
    float a = 0.0f;
    for (int t = t_begin; t <= t_end; t++) a += att[t] * v_cache[(size_t)t * stride + i];
    out[i] = a;
  }
}
