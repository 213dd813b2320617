/* The hot kernels the build selected for this target (<arch>/hot_kernels.c, or the reference
 * itself) against the portable reference (em_ref_*, kernels.c) on random data:
 *   q8, q4 matvecs  integer sums are exact in both, but a fast kernel may scale and add them
 *                   in another order (AVX2 scales each group's eight int32 lane sums into
 *                   eight float lanes with FMA, NEON four groups' sums into four float lanes,
 *                   and both add the lanes at the end), so per row
 *                   |fast - ref| <= (groups + 4) * FLT_EPSILON * M, where
 *                   M = sum_g |w_scale_g * x_scale_g| * sum_{k in g} |w_k x_k| bounds every
 *                   partial sum either side makes. Each side rounds at most groups + 3 times
 *                   (scale product, term, additions, the final lane sum), each by FLT_EPSILON/2
 *                   of at most M, so a correct kernel stays inside; one wrong product is
 *                   about M / n off, over 100 times the bound at these widths. Kernels that
 *                   keep the reference's order (VFP, DSP, SSE2) also give its exact bits;
 *                   for the ARM1176's (ARMv6 SIMD32) that is checked too.
 *   f32, f16        reassociated float sums: |fast - ref| <= n * FLT_EPSILON * sum_j |w_j x_j|
 *                   for every row (both are within n/2 * FLT_EPSILON of the exact sum)
 *   attention       reassociated dot products and sums: the bound at test_attention
 *   em_quantize_q8  identical bits (the fast ones reproduce the reference's)
 * Every other kernel has one implementation, the reference's (kernels.c).
 * Shapes: widths with and without vector tails, group sizes 16..256, odd row ranges, int8
 * weights over kernels.h's whole [-127, 127] (and an activation of -128, which the
 * quantizer never makes but every kernel takes), misaligned int8 rows (which must still be
 * right). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common/check.h"
#include "engine/kernels.h"
#include "engine/kernels_ref.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_u32(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return (uint32_t)(g_rng >> 32);
}

static float frand(void) { return (float)(next_u32() >> 8) / 8388608.0f - 1.0f; }

enum { MAX_ROWS = 37, MAX_N = 1040 };

static float g_w[MAX_ROWS * MAX_N], g_x[MAX_N], g_out[MAX_ROWS], g_ref[MAX_ROWS];
static uint16_t g_w16[MAX_ROWS * MAX_N];
static int8_t g_w8_buf[MAX_ROWS * MAX_N + 16], g_x8[MAX_N];
static uint8_t g_w4_buf[MAX_ROWS * MAX_N / 2 + 16];
static float g_ws[MAX_ROWS * MAX_N / 16], g_xs[MAX_N / 16];

static void fill(float *x, int n, float scale) {
  for (int i = 0; i < n; i++) x[i] = frand() * scale;
}

/* Rows [begin, end) of out and ref, with NaN poison elsewhere so out-of-range writes show. */
static void poison(float *a, int rows) {
  for (int i = 0; i < rows; i++) a[i] = NAN;
}

static int untouched(const float *a, int rows, int begin, int end) {
  for (int i = 0; i < rows; i++) {
    if ((i < begin || i >= end) && !isnan(a[i])) return 0;
  }
  return 1;
}

/* Worst |out - ref| / (n * FLT_EPSILON * sum |w x|) over the rows; <= 1 passes. */
static double float_error(const float *w_f32, int n, int begin, int end) {
  double worst = 0;
  for (int i = begin; i < end; i++) {
    double mag = 0;
    for (int j = 0; j < n; j++) mag += fabs((double)w_f32[(size_t)i * n + j] * g_x[j]);
    double bound = n * (double)FLT_EPSILON * mag + 1e-30;
    worst = fmax(worst, fabs((double)g_out[i] - g_ref[i]) / bound);
  }
  return worst;
}

static void test_float_matvecs(void) {
  static const int widths[] = {1, 3, 8, 15, 16, 31, 64, 67, 100, 288, 1040};
  double worst32 = 0, worst16 = 0;
  int bad_range = 0;
  for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
    int n = widths[wi], rows = MAX_ROWS;
    fill(g_w, rows * n, 0.5f);
    fill(g_x, n, 2.0f);
    for (int i = 0; i < rows * n; i++) g_w16[i] = em_f32_to_f16(g_w[i]);
    /* Some subnormal, zero and large halves (their own code paths in some files). */
    g_w16[0] = 0x0001;
    g_w16[1] = 0x8000;
    g_w16[2 % (rows * n)] = 0x03ff;
    g_w16[3 % (rows * n)] = 0x7bff;
    static float w16_as_f32[MAX_ROWS * MAX_N];
    for (int i = 0; i < rows * n; i++) w16_as_f32[i] = em_f16_to_f32(g_w16[i]);
    int ranges[3][2] = {{0, rows}, {1, rows - 2}, {5, 6}};
    for (int r = 0; r < 3; r++) {
      int b = ranges[r][0], e = ranges[r][1];
      poison(g_out, rows);
      em_matvec_f32_rows(g_out, g_x, g_w, n, b, e);
      em_ref_matvec_f32_rows(g_ref, g_x, g_w, n, b, e);
      worst32 = fmax(worst32, float_error(g_w, n, b, e));
      bad_range += !untouched(g_out, rows, b, e);

      poison(g_out, rows);
      em_matvec_f16_rows(g_out, g_x, g_w16, n, b, e);
      em_ref_matvec_f16_rows(g_ref, g_x, g_w16, n, b, e);
      worst16 = fmax(worst16, float_error(w16_as_f32, n, b, e));
      bad_range += !untouched(g_out, rows, b, e);
    }
  }
  printf("f32 matvec: worst error %.3g of the bound; f16: %.3g\n", worst32, worst16);
  CHECKF(worst32 <= 1.0, "f32 matvec off by %g times n * FLT_EPSILON * sum |w x|", worst32);
  CHECKF(worst16 <= 1.0, "f16 matvec off by %g times n * FLT_EPSILON * sum |w x|", worst16);
  CHECKF(bad_range == 0, "%d float matvec calls wrote outside their rows", bad_range);
}

static int int4_of(const uint8_t *w4, size_t k) {
  int nibble = (w4[k / 2] >> (4 * (k & 1))) & 0xf;
  return nibble >= 8 ? nibble - 16 : nibble;
}

/* Worst |out - ref| / ((groups + 4) * FLT_EPSILON * M) over rows [begin, end), M as above
 * (in double). q4 when w4 is given, else q8. */
static double quantized_error(const int8_t *w8, const uint8_t *w4, int n, int gs, int begin,
                              int end) {
  double worst = 0;
  int groups = n / gs;
  for (int i = begin; i < end; i++) {
    double mag = 0;
    for (int g = 0; g < groups; g++) {
      int64_t abs_sum = 0;
      for (int k = g * gs; k < (g + 1) * gs; k++) {
        size_t at = (size_t)i * n + k;
        int64_t p = (int64_t)g_x8[k] * (w4 ? int4_of(w4, at) : w8[at]);
        abs_sum += p < 0 ? -p : p;
      }
      mag += fabs((double)abs_sum * g_ws[(size_t)i * groups + g] * g_xs[g]);
    }
    double bound = (groups + 4) * (double)FLT_EPSILON * mag + 1e-30;
    worst = fmax(worst, fabs((double)g_out[i] - g_ref[i]) / bound);
  }
  return worst;
}

static void test_quantized_matvecs(void) {
  static const int group_sizes[] = {16, 32, 64, 128, 256};
  static const int widths[] = {256, 272, 288, 512, 1024};
  int bad8 = 0, bad4 = 0, inexact8 = 0, inexact4 = 0, cases = 0;
  double worst8 = 0, worst4 = 0;
  for (size_t gi = 0; gi < sizeof group_sizes / sizeof group_sizes[0]; gi++) {
    for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
      for (int offset = 0; offset < 2; offset++) { /* 1: int8 rows not 4-byte aligned */
        int gs = group_sizes[gi], n = widths[wi], rows = MAX_ROWS;
        if (n % gs != 0) continue;
        int8_t *w8 = g_w8_buf + offset;
        uint8_t *w4 = g_w4_buf + offset;
        for (int i = 0; i < rows * n; i++) w8[i] = (int8_t)(next_u32() % 255u - 127u);
        for (int i = 0; i < rows * n / 2; i++) w4[i] = (uint8_t)(next_u32() & 0xff);
        fill(g_ws, rows * n / gs, 0.01f);
        fill(g_x, n, 3.0f);
        em_qvec xq = {g_x8, g_xs, n, gs};
        em_ref_quantize_q8(g_x8, g_xs, g_x, n, gs);
        if (gi == 0) g_x8[0] = -128; /* not produced by the quantizer, still taken */
        w8[5] = 127;                 /* both ends of the weights' range against both signs of x */
        w8[6] = -127;
        w8[n + 5] = -127;
        int ranges[3][2] = {{0, rows}, {3, rows - 1}, {7, 8}};
        for (int r = 0; r < 3; r++) {
          int b = ranges[r][0], e = ranges[r][1];
          poison(g_out, rows);
          poison(g_ref, rows);
          em_matvec_q8_rows(g_out, &xq, w8, g_ws, n, b, e);
          em_ref_matvec_q8_rows(g_ref, &xq, w8, g_ws, n, b, e);
          worst8 = fmax(worst8, quantized_error(w8, NULL, n, gs, b, e));
          bad8 += !untouched(g_out, rows, b, e);
          inexact8 += memcmp(g_out + b, g_ref + b, sizeof(float) * (size_t)(e - b)) != 0;
          poison(g_out, rows);
          em_matvec_q4_rows(g_out, &xq, w4, g_ws, n, b, e);
          em_ref_matvec_q4_rows(g_ref, &xq, w4, g_ws, n, b, e);
          worst4 = fmax(worst4, quantized_error(NULL, w4, n, gs, b, e));
          bad4 += !untouched(g_out, rows, b, e);
          inexact4 += memcmp(g_out + b, g_ref + b, sizeof(float) * (size_t)(e - b)) != 0;
          cases++;
        }
      }
    }
  }
  printf("q8 matvec: worst error %.3g of the bound; q4: %.3g\n", worst8, worst4);
  CHECKF(worst8 <= 1.0, "q8 matvec off by %g times the bound", worst8);
  CHECKF(worst4 <= 1.0, "q4 matvec off by %g times the bound", worst4);
  CHECKF(bad8 == 0, "q8 matvec: %d of %d cases wrote outside their rows", bad8, cases);
  CHECKF(bad4 == 0, "q4 matvec: %d of %d cases wrote outside their rows", bad4, cases);
#if defined(__ARM_ARCH) && __ARM_ARCH == 6
  /* The ARM1176's SIMD32 kernels keep the reference's order: its exact bits. */
  CHECKF(inexact8 == 0, "q8 matvec (ARMv6): %d of %d cases not bit-exact", inexact8, cases);
  CHECKF(inexact4 == 0, "q4 matvec (ARMv6): %d of %d cases not bit-exact", inexact4, cases);
#else
  (void)inexact8;
  (void)inexact4;
#endif
}

/* Attention: an arch file may reassociate the scores' dot products and the weighted sum of
 * the values (x86). With delta = max_t of both sides' score errors (each dot product within
 * head_size * FLT_EPSILON / 2 * sum_j |q_j k_tj| of the exact one, then one division),
 * softmax weights differ by a factor within exp(+-2 delta), and each side rounds the softmax
 * and its sum over T positions at most T + 4 times per element; so per element
 *   |fast - ref| <= (3 delta + 3 (T + 4) FLT_EPSILON) * sum_t att_t |v_t,i|
 * (exp(2 delta) - 1 <= 3 delta here, delta being ~1e-5). One position left out or a wrong
 * value is off by about one att_t |v_t,i| term, thousands of times the bound. Window starts
 * after 0 (sliding window), strides above head_size (GQA caches), head sizes with and
 * without vector tails. */
static void test_attention(void) {
  enum { MAX_T = 300, MAX_HS = 128 };
  static const int shapes[][4] = {/* head_size, stride, t_begin, t_end */
                                  {16, 16, 2, 19},    {7, 21, 0, 4},      {20, 60, 5, 40},
                                  {64, 64, 0, 0},     {64, 192, 10, 255}, {128, 128, 0, 299},
                                  {36, 36, 100, 100}, {128, 384, 37, 180}};
  static float q[MAX_HS], kc[MAX_T * 3 * MAX_HS], vc[MAX_T * 3 * MAX_HS];
  static float att_a[MAX_T], att_b[MAX_T], o_a[MAX_HS], o_b[MAX_HS];
  double worst = 0;
  for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
    int hs = shapes[c][0], stride = shapes[c][1], t0 = shapes[c][2], t1 = shapes[c][3];
    float divisor = sqrtf((float)hs);
    fill(q, hs, 2.0f);
    fill(kc, (t1 + 1) * stride, 2.0f);
    fill(vc, (t1 + 1) * stride, 1.0f);
    em_attention_head(o_a, q, kc, vc, stride, hs, t0, t1, divisor, att_a);
    em_ref_attention_head(o_b, q, kc, vc, stride, hs, t0, t1, divisor, att_b);
    double delta = 0;
    for (int t = t0; t <= t1; t++) {
      double mag = 0;
      for (int j = 0; j < hs; j++) mag += fabs((double)q[j] * kc[(size_t)t * stride + j]);
      double d = hs * (double)FLT_EPSILON * mag / divisor + 2 * FLT_EPSILON * fabs(att_b[t]);
      delta = fmax(delta, d);
    }
    int n_t = t1 - t0 + 1;
    for (int i = 0; i < hs; i++) {
      double sum = 0;
      for (int t = t0; t <= t1; t++) sum += att_b[t] * fabs((double)vc[(size_t)t * stride + i]);
      double bound = (3 * delta + 3.0 * (n_t + 4) * FLT_EPSILON) * sum + 1e-30;
      worst = fmax(worst, fabs((double)o_a[i] - o_b[i]) / bound);
    }
  }
  printf("attention: worst error %.3g of the bound\n", worst);
  CHECKF(worst <= 1.0, "attention off by %g times its bound", worst);
}

/* Activation quantization gives the reference's bits: random groups, a zero group, NaN and
 * infinities, and values that land on halves and just below them. */
static void test_quantize(void) {
  static const int group_sizes[] = {16, 32, 64, 96, 128};
  enum { N = 768 };
  static float x[N];
  static int8_t q_a[N], q_b[N];
  static float s_a[N / 16], s_b[N / 16];
  int bad = 0;
  for (size_t gi = 0; gi < sizeof group_sizes / sizeof group_sizes[0]; gi++) {
    int gs = group_sizes[gi];
    fill(x, N, 5.0f);
    for (int i = 0; i < gs; i++) x[gs + i] = 0.0f; /* group 1: zeros (scale 0) */
    x[2 * gs] = 127.0f;                            /* group 2: scale 1, then halves */
    x[2 * gs + 1] = 2.5f;
    x[2 * gs + 2] = -3.5f;
    x[2 * gs + 3] = 0.49999997f;
    x[2 * gs + 4] = -126.5f;
    x[2 * gs + 5] = -0.0f;
    x[3 * gs + 1] = NAN;      /* group 3: NaN among finite values */
    x[4 * gs + 2] = INFINITY; /* group 4: inf (scale inf: inf/inf is NaN, finite/inf 0) */
    x[4 * gs + 3] = -INFINITY;
    em_quantize_q8(q_a, s_a, x, N, gs);
    em_ref_quantize_q8(q_b, s_b, x, N, gs);
    bad += memcmp(q_a, q_b, sizeof q_a) != 0 || memcmp(s_a, s_b, N / gs * sizeof(float)) != 0;
  }
  CHECKF(bad == 0, "em_quantize_q8 differs from the reference for %d group sizes", bad);
}

int main(void) {
  test_float_matvecs();
  test_quantized_matvecs();
  test_attention();
  test_quantize();
  return finish();
}
