/* x86-64 hot kernels for the host (tools, tests, benchmarks): the matvecs, attention and
 * activation quantization, same contract as the reference (kernels.h). SSE2 (the x86-64 baseline
 * the host toolchain targets); with --config=native the compiler may define __AVX2__, __FMA__ and
 * __F16C__ and the 256-bit paths below are used instead. f32, f16       one row at a time, four
 * vector accumulators (float sums reassociated: kernels_arch_test's stated bound); fp16 widened
 * exactly (F16C, or integer bit operations plus one exact multiply by 2^112 for zero and
 * subnormals) q8, q4         SSE2: int8 sign-extended to int16 and PMADDWD into int32, bit-exact
 * with the reference. AVX2: PMADDUBSW on unsigned x signed bytes (q8 a row at a time with a
 * prefetch ahead, q4 four rows at a time), each group's exact int32 sum scaled into a float vector
 * accumulator (reassociated: the stated bound). Group sizes the AVX2 code does not take use the
 * widening code, and those not a multiple of 16 (q8) / 32 (q4) the portable code. attention the
 * scores' dot products and the weighted sum of the values vectorized (that sum kept in the
 * reference's order over positions for each element), the reference softmax: the stated bound
 *   em_quantize_q8 AVX2 for groups of a multiple of 32, with the reference's bits
 * The portable reference (em_ref_*) serves what the vector code does not take. */
#include <immintrin.h>
#include <stddef.h>

#include "engine/kernels.h"
#include "engine/kernels_ref.h"

static inline float hsum_ps(__m128 v) {
  __m128 s = _mm_add_ps(v, _mm_movehl_ps(v, v));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

static inline int32_t hsum_epi32(__m128i v) {
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(v);
}

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define WIDE 8
typedef __m256 vf;
static inline vf vf_zero(void) { return _mm256_setzero_ps(); }
static inline vf vf_load(const float *p) { return _mm256_loadu_ps(p); }
static inline vf vf_fma(vf acc, vf a, vf b) { return _mm256_fmadd_ps(a, b, acc); }
static inline vf vf_set1(float v) { return _mm256_set1_ps(v); }
static inline void vf_store(float *p, vf v) { _mm256_storeu_ps(p, v); }
static inline float vf_sum(vf v) {
  return hsum_ps(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)));
}
static inline vf vf_load_f16(const uint16_t *p) {
  return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}
#else
#define WIDE 4
typedef __m128 vf;
static inline vf vf_zero(void) { return _mm_setzero_ps(); }
static inline vf vf_load(const float *p) { return _mm_loadu_ps(p); }
static inline vf vf_fma(vf acc, vf a, vf b) { return _mm_add_ps(acc, _mm_mul_ps(a, b)); }
static inline vf vf_set1(float v) { return _mm_set1_ps(v); }
static inline void vf_store(float *p, vf v) { _mm_storeu_ps(p, v); }
static inline float vf_sum(vf v) { return hsum_ps(v); }
/* Four halves to floats, exactly as em_f16_to_f32: the half's exponent and mantissa moved to
 * the float's bit positions give 2^-112 times the value (a float subnormal for half
 * subnormals), so one multiply by 2^112 rescales it exactly; exponent 31 (inf, NaN) gets the
 * float's all-ones exponent instead. */
static inline vf vf_load_f16(const uint16_t *p) {
  __m128i h = _mm_unpacklo_epi16(_mm_loadl_epi64((const __m128i *)p), _mm_setzero_si128());
  __m128i m = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x7fff)), 13);
  __m128i scaled = _mm_castps_si128(_mm_mul_ps(_mm_castsi128_ps(m), _mm_set1_ps(0x1p112f)));
  __m128i special = _mm_cmpgt_epi32(m, _mm_set1_epi32(0x0f7fffff));
  __m128i infnan = _mm_or_si128(m, _mm_set1_epi32(0x7f800000));
  __m128i bits = _mm_or_si128(_mm_and_si128(special, infnan), _mm_andnot_si128(special, scaled));
  __m128i sign = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x8000)), 16);
  return _mm_castsi128_ps(_mm_or_si128(bits, sign));
}
#endif

/* ---- f32 / f16 ---- */

/* One row at a time with four vector accumulators: a single sequential stream per row is
 * what the hardware prefetcher follows best (measured faster than two or four rows at once
 * on 110M-sized weights streamed from DRAM). */
void em_matvec_f32_rows(float *out, const float *x, const float *w, int n, int row_begin,
                        int row_end) {
  int nv = n - n % (4 * WIDE);
  for (int i = row_begin; i < row_end; i++) {
    const float *r = w + (size_t)i * n;
    vf a = vf_zero(), b = a, c = a, d = a;
    for (int j = 0; j < nv; j += 4 * WIDE) {
      a = vf_fma(a, vf_load(r + j), vf_load(x + j));
      b = vf_fma(b, vf_load(r + j + WIDE), vf_load(x + j + WIDE));
      c = vf_fma(c, vf_load(r + j + 2 * WIDE), vf_load(x + j + 2 * WIDE));
      d = vf_fma(d, vf_load(r + j + 3 * WIDE), vf_load(x + j + 3 * WIDE));
    }
    float s = vf_sum(a) + vf_sum(b) + (vf_sum(c) + vf_sum(d));
    for (int j = nv; j < n; j++) s += r[j] * x[j];
    out[i] = s;
  }
}

void em_matvec_f16_rows(float *out, const float *x, const uint16_t *w, int n, int row_begin,
                        int row_end) {
  int nv = n - n % (4 * WIDE);
  for (int i = row_begin; i < row_end; i++) {
    const uint16_t *r = w + (size_t)i * n;
    vf a = vf_zero(), b = a, c = a, d = a;
    for (int j = 0; j < nv; j += 4 * WIDE) {
      a = vf_fma(a, vf_load_f16(r + j), vf_load(x + j));
      b = vf_fma(b, vf_load_f16(r + j + WIDE), vf_load(x + j + WIDE));
      c = vf_fma(c, vf_load_f16(r + j + 2 * WIDE), vf_load(x + j + 2 * WIDE));
      d = vf_fma(d, vf_load_f16(r + j + 3 * WIDE), vf_load(x + j + 3 * WIDE));
    }
    float s = vf_sum(a) + vf_sum(b) + (vf_sum(c) + vf_sum(d));
    for (int j = nv; j < n; j++) s += em_f16_to_f32(r[j]) * x[j];
    out[i] = s;
  }
}

/* ---- attention: the reference's steps with its two loops over head_size vectorized ---- */

static float dot_f32(const float *a, const float *b, int n) {
  int nv = n - n % (2 * WIDE), j = 0;
  vf s0 = vf_zero(), s1 = s0;
  for (; j < nv; j += 2 * WIDE) {
    s0 = vf_fma(s0, vf_load(a + j), vf_load(b + j));
    s1 = vf_fma(s1, vf_load(a + j + WIDE), vf_load(b + j + WIDE));
  }
  float s = vf_sum(s0) + vf_sum(s1);
  for (; j < n; j++) s += a[j] * b[j];
  return s;
}

/* Scores as dot products over head_size (reassociated), the reference softmax, then
 * out = sum_t att[t] v_t with each output element summed over t in the reference's order
 * (in vector lanes, 4 * WIDE elements of out held in registers across t). */
void em_attention_head(float *out, const float *q, const float *k_cache, const float *v_cache,
                       int stride, int head_size, int t_begin, int t_end, float divisor,
                       float *att) {
  for (int t = t_begin; t <= t_end; t++)
    att[t] = dot_f32(q, k_cache + (size_t)t * stride, head_size) / divisor;
  em_softmax(att + t_begin, t_end - t_begin + 1);
  int i = 0;
  for (; i + 4 * WIDE <= head_size; i += 4 * WIDE) {
    vf a = vf_zero(), b = a, c = a, d = a;
    for (int t = t_begin; t <= t_end; t++) {
      const float *v = v_cache + (size_t)t * stride + i;
      vf p = vf_set1(att[t]);
      a = vf_fma(a, p, vf_load(v));
      b = vf_fma(b, p, vf_load(v + WIDE));
      c = vf_fma(c, p, vf_load(v + 2 * WIDE));
      d = vf_fma(d, p, vf_load(v + 3 * WIDE));
    }
    vf_store(out + i, a);
    vf_store(out + i + WIDE, b);
    vf_store(out + i + 2 * WIDE, c);
    vf_store(out + i + 3 * WIDE, d);
  }
  for (; i + WIDE <= head_size; i += WIDE) {
    vf a = vf_zero();
    for (int t = t_begin; t <= t_end; t++)
      a = vf_fma(a, vf_set1(att[t]), vf_load(v_cache + (size_t)t * stride + i));
    vf_store(out + i, a);
  }
  for (; i < head_size; i++) {
    float a = 0.0f;
    for (int t = t_begin; t <= t_end; t++) a += att[t] * v_cache[(size_t)t * stride + i];
    out[i] = a;
  }
}

/* ---- q8 widened to int16: exact int32 group sums, summed in the reference's order ---- */

#if defined(__AVX2__)
/* acc += w[0..16) . x[0..16) (int8 sign-extended to int16, PMADDWD pairs into int32). */
static inline __m256i dot16(__m256i acc, __m128i w, __m256i x16) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_cvtepi8_epi16(w), x16));
}
typedef __m256i vi;
static inline vi vi_zero(void) { return _mm256_setzero_si256(); }
static inline vi x16_of(const int8_t *x) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x));
}
static inline int32_t vi_sum(vi v) {
  return hsum_epi32(_mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
}
#else
typedef struct vi {
  __m128i lo, hi;
} vi;
static inline __m128i widen_lo(__m128i v) { return _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8); }
static inline __m128i widen_hi(__m128i v) { return _mm_srai_epi16(_mm_unpackhi_epi8(v, v), 8); }
static inline vi vi_zero(void) { return (vi){_mm_setzero_si128(), _mm_setzero_si128()}; }
static inline vi x16_of(const int8_t *x) {
  __m128i v = _mm_loadu_si128((const __m128i *)x);
  return (vi){widen_lo(v), widen_hi(v)};
}
static inline vi dot16(vi acc, __m128i w, vi x16) {
  acc.lo = _mm_add_epi32(acc.lo, _mm_madd_epi16(widen_lo(w), x16.lo));
  acc.hi = _mm_add_epi32(acc.hi, _mm_madd_epi16(widen_hi(w), x16.hi));
  return acc;
}
static inline int32_t vi_sum(vi v) { return hsum_epi32(_mm_add_epi32(v.lo, v.hi)); }
#endif

static inline __m128i load16(const void *p) { return _mm_loadu_si128((const __m128i *)p); }

static void matvec_q8_widen(float *out, const em_qvec *x, const int8_t *w, const float *w_scales,
                            int n, int row_begin, int row_end) {
  int gs = x->group_size;
  if (gs % 16 != 0) {
    em_ref_matvec_q8_rows(out, x, w, w_scales, n, row_begin, row_end);
    return;
  }
  int groups = n / gs;
  int i = row_begin;
  for (; i + 2 <= row_end; i += 2) {
    const int8_t *r0 = w + (size_t)i * n, *r1 = r0 + n;
    const float *sc0 = w_scales + (size_t)i * groups, *sc1 = sc0 + groups;
    float s0 = 0.0f, s1 = 0.0f;
    for (int g = 0; g < groups; g++) {
      vi a0 = vi_zero(), a1 = vi_zero();
      for (int k = g * gs; k < (g + 1) * gs; k += 16) {
        vi xv = x16_of(x->q + k);
        a0 = dot16(a0, load16(r0 + k), xv);
        a1 = dot16(a1, load16(r1 + k), xv);
      }
      s0 += (float)vi_sum(a0) * sc0[g] * x->s[g];
      s1 += (float)vi_sum(a1) * sc1[g] * x->s[g];
    }
    out[i] = s0;
    out[i + 1] = s1;
  }
  for (; i < row_end; i++) {
    const int8_t *r = w + (size_t)i * n;
    const float *sc = w_scales + (size_t)i * groups;
    float s = 0.0f;
    for (int g = 0; g < groups; g++) {
      vi a = vi_zero();
      for (int k = g * gs; k < (g + 1) * gs; k += 16) a = dot16(a, load16(r + k), x16_of(x->q + k));
      s += (float)vi_sum(a) * sc[g] * x->s[g];
    }
    out[i] = s;
  }
}

/* The 32 int4 values packed in 16 bytes as 32 int8 in element order: each nibble n becomes
 * (n ^ 8) - 8 (its two's complement value), low nibbles interleaved with high ones. */
static inline void unpack_q4(const uint8_t *p, __m128i *first, __m128i *second) {
  __m128i b = load16(p), mask = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
  __m128i lo = _mm_sub_epi8(_mm_xor_si128(_mm_and_si128(b, mask), eight), eight);
  __m128i hi = _mm_sub_epi8(_mm_xor_si128(_mm_and_si128(_mm_srli_epi16(b, 4), mask), eight), eight);
  *first = _mm_unpacklo_epi8(lo, hi);
  *second = _mm_unpackhi_epi8(lo, hi);
}

static void matvec_q4_widen(float *out, const em_qvec *x, const uint8_t *w, const float *w_scales,
                            int n, int row_begin, int row_end) {
  int gs = x->group_size;
  if (gs % 32 != 0) {
    em_ref_matvec_q4_rows(out, x, w, w_scales, n, row_begin, row_end);
    return;
  }
  int groups = n / gs;
  for (int i = row_begin; i < row_end; i++) {
    const uint8_t *r = w + (size_t)i * (n / 2);
    const float *sc = w_scales + (size_t)i * groups;
    float s = 0.0f;
    for (int g = 0; g < groups; g++) {
      vi a = vi_zero();
      for (int k = g * gs; k < (g + 1) * gs; k += 32) {
        __m128i w0, w1;
        unpack_q4(r + k / 2, &w0, &w1);
        a = dot16(a, w0, x16_of(x->q + k));
        a = dot16(a, w1, x16_of(x->q + k + 16));
      }
      s += (float)vi_sum(a) * sc[g] * x->s[g];
    }
    out[i] = s;
  }
}

/* ---- activations to int8 ---- */

#if defined(__AVX2__)
/* em_quantize_q8 for 32 values at a time, the reference's bits: the same absmax (MAXPS keeps
 * its second operand, the running max, when |x| is NaN, as the reference's `a > m` skips it),
 * the same IEEE division, em_roundf's steps (truncate, add 1 when the exact rest is >= 0.5,
 * the sign back; large, infinite and NaN values pass through) and clamp_int8's (NaN to 0,
 * then [-127, 127]). */
static inline __m256i quantize8(__m256 v) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 ax = _mm256_andnot_ps(sign, v);
  __m256 r = _mm256_round_ps(ax, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  __m256 up = _mm256_cmp_ps(_mm256_sub_ps(ax, r), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  r = _mm256_add_ps(r, _mm256_and_ps(up, _mm256_set1_ps(1.0f)));
  r = _mm256_or_ps(r, _mm256_and_ps(sign, v));
  r = _mm256_and_ps(r, _mm256_cmp_ps(r, r, _CMP_ORD_Q));
  r = _mm256_min_ps(_mm256_max_ps(r, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
  return _mm256_cvttps_epi32(r);
}

void em_quantize_q8(int8_t *q, float *s, const float *x, int n, int group_size) {
  if (group_size % 32 != 0) {
    em_ref_quantize_q8(q, s, x, n, group_size);
    return;
  }
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int g = 0; g < n / group_size; g++) {
    const float *xg = x + (size_t)g * group_size;
    int8_t *qg = q + (size_t)g * group_size;
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < group_size; i += 8)
      m = _mm256_max_ps(_mm256_andnot_ps(sign, vf_load(xg + i)), m);
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    float scale = _mm_cvtss_f32(m4) / 127.0f;
    s[g] = scale;
    if (scale == 0.0f) {
      for (int i = 0; i < group_size; i++) qg[i] = 0;
      continue;
    }
    __m256 d = _mm256_set1_ps(scale);
    for (int i = 0; i < group_size; i += 32) {
      __m256i a = quantize8(_mm256_div_ps(vf_load(xg + i), d));
      __m256i b = quantize8(_mm256_div_ps(vf_load(xg + i + 8), d));
      __m256i c = quantize8(_mm256_div_ps(vf_load(xg + i + 16), d));
      __m256i e = quantize8(_mm256_div_ps(vf_load(xg + i + 24), d));
      __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, e));
      _mm256_storeu_si256((__m256i *)(qg + i), _mm256_permutevar8x32_epi32(bytes, order));
    }
  }
}
#else
void em_quantize_q8(int8_t *q, float *s, const float *x, int n, int group_size) {
  em_ref_quantize_q8(q, s, x, n, group_size);
}
#endif

/* ---- q8 / q4 with AVX2: unsigned times signed bytes (PMADDUBSW) ----
 *
 * Each group's integer sum is exact, as in the reference; its eight int32 lanes are converted
 * to float and multiplied by w_scale * x_scale into a float vector accumulator (FMA), summed
 * across lanes once per row. So the group sums are the reference's but their float sum is
 * reassociated: kernels_arch_test bounds the difference.
 *
 * Rows at a time, measured on the build VM (AMD EPYC; q8, 768 columns, GB/s of weights from
 * DRAM (63 MB) / from L3 (1.5 MB)): four rows sharing each activation load 5-7 / 27; four
 * rows with a prefetch of the next four 10-11 / 27; one row 9-11 / 18; one row with a
 * prefetch 2 KB ahead 16-17 / 18, and with two accumulators (below) 15-18 / 21. A model
 * larger than the caches streams from DRAM, so q8 goes one row at a time with the prefetch.
 * q4 is compute-bound at about 9-13 GB/s either way and keeps four rows (sharing its
 * activation shuffles) with the prefetch of the next four. A prefetch past the matrix is
 * harmless (it never faults). */

#if defined(__AVX2__) && defined(__FMA__)
#define INLINE static inline __attribute__((always_inline))

INLINE __m256i load32(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

INLINE void prefetch_ahead(const void *p, size_t ahead) {
  _mm_prefetch((const char *)p + ahead, _MM_HINT_T0);
}

/* Scale vector for a block whose 128-bit lanes are two groups: lane 0 lo, lane 1 hi. */
INLINE __m256 lane_scales(float lo, float hi) {
  return _mm256_set_m128(_mm_set1_ps(hi), _mm_set1_ps(lo));
}

/* q8, 32 values per step: |x| as unsigned bytes (128 for x = -128) times w carrying x's sign
 * (PSIGNB), PMADDUBSW into int16 pairs, PMADDWD by ones into int32. A pair is at most
 * 2 * 128 * 127 in magnitude, so nothing saturates while w is in kernels.h's [-127, 127]
 * (a -128 weight is outside the contract: its product with a negative x comes out wrong,
 * never undefined). */
INLINE __m256i q8_step(const int8_t *x, const int8_t *w) {
  __m256i xv = load32(x);
  prefetch_ahead(w, 2048);
  __m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(xv), _mm256_sign_epi8(load32(w), xv));
  return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* Group g of one row (group_size a multiple of 32) scaled into acc. */
INLINE __m256 q8_group(__m256 acc, const em_qvec *x, const int8_t *row, const float *sc, int g) {
  int gs = x->group_size;
  __m256i isum = _mm256_setzero_si256();
  for (int k = g * gs; k < (g + 1) * gs; k += 32)
    isum = _mm256_add_epi32(isum, q8_step(x->q + k, row + k));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(sc[g] * x->s[g]), acc);
}

/* One row; group_size a multiple of 32, or 16 with n a multiple of 32 (then each step's two
 * lanes are two groups). Two accumulators take alternate groups (two FMA chains). */
static float q8_row(const em_qvec *x, const int8_t *row, const float *sc, int n) {
  int gs = x->group_size, groups = n / gs, g = 0;
  __m256 a = _mm256_setzero_ps(), b = a;
  if (gs % 32 == 0) {
    for (; g + 2 <= groups; g += 2) {
      a = q8_group(a, x, row, sc, g);
      b = q8_group(b, x, row, sc, g + 1);
    }
    if (g < groups) a = q8_group(a, x, row, sc, g);
  } else {
    for (int k = 0; k < n; k += 32, g += 2) {
      __m256i isum = q8_step(x->q + k, row + k);
      __m256 s = lane_scales(sc[g] * x->s[g], sc[g + 1] * x->s[g + 1]);
      a = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), s, a);
    }
  }
  return vf_sum(_mm256_add_ps(a, b));
}

void em_matvec_q8_rows(float *out, const em_qvec *x, const int8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end) {
  int gs = x->group_size;
  if (!(gs % 32 == 0 || (gs == 16 && n % 32 == 0))) {
    matvec_q8_widen(out, x, w, w_scales, n, row_begin, row_end);
    return;
  }
  int groups = n / gs;
  for (int i = row_begin; i < row_end; i++)
    out[i] = q8_row(x, w + (size_t)i * n, w_scales + (size_t)i * groups, n);
}

/* q4, 64 values (32 packed bytes) per step. A byte XOR 0x88 holds u = q + 8 in [0, 15] in
 * each nibble, and w . x = sum u x - 8 sum x. The low nibbles and the high nibbles, masked
 * into two vectors (lane 0 from bytes 0..15 = values 0..31, lane 1 from bytes 16..31 =
 * values 32..63), meet x's even and odd elements, deinterleaved into the same order once
 * for all R rows. PMADDUBSW (u unsigned; |u x| <= 15 * 128, so nothing saturates, even for
 * x = -128), the two halves added in int16 (|sum| <= 4 * 1920), PMADDWD by ones into int32;
 * 8 sum x by the same steps with u = 8, subtracted once per group. */
typedef struct q4_x {
  __m256i even, odd;
} q4_x;

/* x[0..64) (or x[0..32) and zeros when half) as even and odd elements. */
INLINE q4_x q4_deinterleave(const int8_t *x, int half) {
  const __m256i order = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15, 0, 2,
                                         4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  __m256i a = load32(x), b = half ? _mm256_setzero_si256() : load32(x + 32);
  /* Per 64-bit quarter: evens 0..15, odds 0..15, evens 16..31, odds 16..31; then lanes. */
  a = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(a, order), _MM_SHUFFLE(3, 1, 2, 0));
  b = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(b, order), _MM_SHUFFLE(3, 1, 2, 0));
  q4_x v = {_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31)};
  return v;
}

/* sum u x per lane pair into int32, u the nibbles of `packed` (already XOR 0x88). */
INLINE __m256i q4_step(__m256i packed, q4_x xv) {
  const __m256i low = _mm256_set1_epi8(0x0f);
  __m256i lo = _mm256_and_si256(packed, low);
  __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low);
  __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, xv.even), _mm256_maddubs_epi16(hi, xv.odd));
  return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

INLINE __m256i q4_load(const uint8_t *p, int half) {
  __m256i b = half ? _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)p)) : load32(p);
  return _mm256_xor_si256(b, _mm256_set1_epi8((char)0x88));
}

/* 8 sum x per lane pair (q4_step with every u = 8). */
INLINE __m256i q4_eight_sum(q4_x xv) {
  __m256i eight = _mm256_set1_epi8(8);
  __m256i p =
      _mm256_add_epi16(_mm256_maddubs_epi16(eight, xv.even), _mm256_maddubs_epi16(eight, xv.odd));
  return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* Rows i .. i + R - 1; group_size a multiple of 64 (then n is too), or 32 (each step's two
 * lanes are two groups; n may end in a half step, whose second lane is zeros). */
INLINE void q4_block(float *out, const em_qvec *x, const uint8_t *w, const float *w_scales, int n,
                     int i, int R) {
  int gs = x->group_size, groups = n / gs;
  size_t row_bytes = (size_t)n / 2;
  const uint8_t *row = w + (size_t)i * row_bytes;
  const float *sc = w_scales + (size_t)i * groups;
  __m256 acc[4];
  for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
  if (gs % 64 == 0) {
    for (int g = 0; g < groups; g++) {
      __m256i isum[4], eights = _mm256_setzero_si256();
      for (int r = 0; r < R; r++) isum[r] = _mm256_setzero_si256();
      for (int k = g * gs; k < (g + 1) * gs; k += 64) {
        q4_x xv = q4_deinterleave(x->q + k, 0);
        eights = _mm256_add_epi32(eights, q4_eight_sum(xv));
        for (int r = 0; r < R; r++) {
          prefetch_ahead(row + r * row_bytes + k / 2, R * row_bytes);
          __m256i packed = q4_load(row + r * row_bytes + k / 2, 0);
          isum[r] = _mm256_add_epi32(isum[r], q4_step(packed, xv));
        }
      }
      for (int r = 0; r < R; r++) {
        __m256 s = _mm256_set1_ps(sc[(size_t)r * groups + g] * x->s[g]);
        __m256i exact = _mm256_sub_epi32(isum[r], eights);
        acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(exact), s, acc[r]);
      }
    }
  } else {
    for (int k = 0, g = 0; k < n; k += 64, g += 2) {
      int half = k + 64 > n;
      q4_x xv = q4_deinterleave(x->q + k, half);
      __m256i eights = q4_eight_sum(xv);
      for (int r = 0; r < R; r++) {
        const float *s = sc + (size_t)r * groups + g;
        prefetch_ahead(row + r * row_bytes + k / 2, R * row_bytes);
        __m256i packed = q4_load(row + r * row_bytes + k / 2, half);
        __m256i exact = _mm256_sub_epi32(q4_step(packed, xv), eights);
        __m256 scales = lane_scales(s[0] * x->s[g], half ? 0.0f : s[1] * x->s[g + 1]);
        acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(exact), scales, acc[r]);
      }
    }
  }
  for (int r = 0; r < R; r++) out[i + r] = vf_sum(acc[r]);
}

void em_matvec_q4_rows(float *out, const em_qvec *x, const uint8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end) {
  int gs = x->group_size;
  if (!(gs % 64 == 0 || gs == 32)) {
    matvec_q4_widen(out, x, w, w_scales, n, row_begin, row_end);
    return;
  }
  int i = row_begin;
  for (; i + 4 <= row_end; i += 4) q4_block(out, x, w, w_scales, n, i, 4);
  for (; i < row_end; i++) q4_block(out, x, w, w_scales, n, i, 1);
}

#else /* SSE2: the widening kernels above */

void em_matvec_q8_rows(float *out, const em_qvec *x, const int8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end) {
  matvec_q8_widen(out, x, w, w_scales, n, row_begin, row_end);
}

void em_matvec_q4_rows(float *out, const em_qvec *x, const uint8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end) {
  matvec_q4_widen(out, x, w, w_scales, n, row_begin, row_end);
}
#endif
