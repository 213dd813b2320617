/* x86-64 kernels for the host (tools, tests, benchmarks): the matvecs of kernels_ref.c, same
 * contract (kernels.h), everything else the reference code. SSE2 (the x86-64 baseline the
 * host toolchain targets); with --config=native the compiler may define __AVX2__, __FMA__
 * and __F16C__ and the 256-bit paths below are used instead.
 *   f32, f16  one row at a time, four vector accumulators (float sums reassociated:
 *             kernels_arch_test's stated bound); fp16 widened exactly (F16C, or integer
 *             bit operations plus one exact multiply by 2^112 for zero and subnormals)
 *   q8, q4    int8 sign-extended to int16 and PMADDWD into int32: bit-exact
 * Group sizes that are not a multiple of 16 (q8) / 32 (q4) use the portable code. */
#include <immintrin.h>

#include "engines/common/kernels_portable.h"

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

/* ---- q8 / q4: exact int32 group sums ---- */

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

void em_matvec_q4_rows(float *out, const em_qvec *x, const uint8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end) {
  int gs = x->group_size;
  if (gs % 32 != 0) {
    em_portable_matvec_q4_rows(out, x, w, w_scales, n, row_begin, row_end);
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
