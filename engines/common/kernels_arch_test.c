/* The kernels the build selected for this target (engines/common/<arch>/kernels_ref.c, or
 * the reference itself) against the portable reference kernels_ref.c on random data:
 *   q8, q4 matvecs  |fast - ref| <= (G + 4) * FLT_EPSILON * M for every row, G = n / group
 *                   size groups, M = sum_j |qw_j qx_j| * w_scale * |x_scale| (the dequantized
 *                   magnitudes), and bit-exact except on AArch64 (see quantized_bound)
 *   f32, f16        reassociated float sums: |fast - ref| <= n * FLT_EPSILON * sum_j |w_j x_j|
 *                   for every row (both are within n/2 * FLT_EPSILON of the exact sum)
 *   everything else identical bits (the arch files keep the reference code)
 * Shapes: widths with and without vector tails, group sizes 16..256, odd row ranges, int8
 * weights including -128, misaligned int8 rows (which must still be right). */
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "engine/kernels.h"
#include "engines/common/testing/check.h"
#include "engines/common/testing/kernels_ref_prefixed.h"

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

static int same_bits(const float *a, const float *b, int begin, int end) {
  return memcmp(a + begin, b + begin, (size_t)(end - begin) * sizeof(float)) == 0;
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

/* Why the q8/q4 bound. Both files sum each group's int8 (int4) products exactly in integers
 * (a group's sum, and on NEON each of its lanes, stays below 2^24 for groups of up to 1024,
 * so its conversion to float is exact too); they differ only in the float part. With
 * u = FLT_EPSILON / 2, exact sum S = sum_g c_g * ws_g * xs_g and M as above:
 *   kernels_ref.c  sum += (float)c_g * ws_g * xs_g, group after group: two roundings per
 *                  term, G for the running sum: |ref - S| <= (G + 2) u M;
 *   NEON           p_g = ws_g * xs_g rounded once, one FMA (one rounding) per group into a
 *                  float lane (a group's whole sum, or each of its four int32 lanes into the
 *                  four float lanes), so at most G roundings in any lane, then the four lanes
 *                  added pairwise (two more): |fast - S| <= (G + 3) u M.
 * So |fast - ref| <= (2G + 5) u M < (G + 3) * FLT_EPSILON * M; (G + 4) leaves room for the
 * second-order terms. NEON keeps four float lanes and one scale product per group instead of
 * the reference's serial scalar sum because that sum was most of the kernel's instructions
 * on cores without SDOT. The other architectures' files (x86, VFP, DSP) keep the reference's
 * order and must still give its bits. */
#if defined(__aarch64__)
enum { QUANT_BIT_EXACT = 0 };
#else
enum { QUANT_BIT_EXACT = 1 };
#endif

static double g_qmag[MAX_ROWS]; /* M per row */

/* Worst |out - ref| / ((G + 4) * FLT_EPSILON * M) over rows [begin, end); g_qmag filled. */
static double quantized_error(int groups, int begin, int end) {
  double worst = 0;
  for (int i = begin; i < end; i++) {
    double bound = (groups + 4) * (double)FLT_EPSILON * g_qmag[i] + 1e-30;
    double err = fabs((double)g_out[i] - g_ref[i]) / bound;
    worst = isnan(err) ? INFINITY : fmax(worst, err); /* a row left unwritten (NaN) fails */
  }
  return worst;
}

/* g_qmag[i] = sum_j |qw_ij qx_j| * |ws_i,g(j) xs_g(j)|; q4 when w4 is not NULL. */
static void quantized_magnitudes(const int8_t *w8, const uint8_t *w4, int rows, int n, int gs) {
  for (int i = 0; i < rows; i++) {
    double m = 0;
    for (int j = 0; j < n; j++) {
      int qw;
      if (w4) {
        int b = w4[((size_t)i * n + j) / 2];
        qw = ((j & 1) ? b >> 4 : b) & 0xf;
        qw = qw >= 8 ? qw - 16 : qw;
      } else {
        qw = w8[(size_t)i * n + j];
      }
      m += fabs((double)qw * g_x8[j] * g_ws[(size_t)i * (n / gs) + j / gs] * g_xs[j / gs]);
    }
    g_qmag[i] = m;
  }
}

static void test_quantized_matvecs(void) {
  static const int group_sizes[] = {16, 32, 64, 128, 256};
  static const int widths[] = {256, 512, 1024};
  int bad8 = 0, bad4 = 0, cases = 0;
  double worst8 = 0, worst4 = 0;
  for (size_t gi = 0; gi < sizeof group_sizes / sizeof group_sizes[0]; gi++) {
    for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
      for (int offset = 0; offset < 2; offset++) { /* 1: int8 rows not 4-byte aligned */
        int gs = group_sizes[gi], n = widths[wi], rows = MAX_ROWS;
        int8_t *w8 = g_w8_buf + offset;
        uint8_t *w4 = g_w4_buf + offset;
        for (int i = 0; i < rows * n; i++) w8[i] = (int8_t)(next_u32() & 0xff); /* -128..127 */
        for (int i = 0; i < rows * n / 2; i++) w4[i] = (uint8_t)(next_u32() & 0xff);
        fill(g_ws, rows * n / gs, 0.01f);
        fill(g_x, n, 3.0f);
        em_qvec xq = {g_x8, g_xs, n, gs};
        em_ref_quantize_q8(g_x8, g_xs, g_x, n, gs);
        if (gi == 0) g_x8[0] = -128; /* not produced by the quantizer, still in the contract */
        int ranges[3][2] = {{0, rows}, {3, rows - 1}, {7, 8}};
        for (int r = 0; r < 3; r++) {
          int b = ranges[r][0], e = ranges[r][1];
          poison(g_out, rows);
          poison(g_ref, rows);
          em_matvec_q8_rows(g_out, &xq, w8, g_ws, n, b, e);
          em_ref_matvec_q8_rows(g_ref, &xq, w8, g_ws, n, b, e);
          quantized_magnitudes(w8, NULL, rows, n, gs);
          double err = quantized_error(n / gs, b, e);
          worst8 = fmax(worst8, err);
          bad8 += err > 1.0 || (QUANT_BIT_EXACT && !same_bits(g_out, g_ref, b, e)) ||
                  !untouched(g_out, rows, b, e);
          poison(g_out, rows);
          em_matvec_q4_rows(g_out, &xq, w4, g_ws, n, b, e);
          em_ref_matvec_q4_rows(g_ref, &xq, w4, g_ws, n, b, e);
          quantized_magnitudes(NULL, w4, rows, n, gs);
          err = quantized_error(n / gs, b, e);
          worst4 = fmax(worst4, err);
          bad4 += err > 1.0 || (QUANT_BIT_EXACT && !same_bits(g_out, g_ref, b, e)) ||
                  !untouched(g_out, rows, b, e);
          cases++;
        }
      }
    }
  }
  printf("q8 matvec: worst error %.3g of the bound; q4: %.3g (%s)\n", worst8, worst4,
         QUANT_BIT_EXACT ? "bit-exact required" : "bound only");
  CHECKF(bad8 == 0, "q8 matvec: %d of %d cases differ from kernels_ref.c", bad8, cases);
  CHECKF(bad4 == 0, "q4 matvec: %d of %d cases differ from kernels_ref.c", bad4, cases);
}

/* The kernels the arch files keep from the reference give the reference's bits. */
static void test_other_kernels(void) {
  enum { N = 96, T = 20, HS = 16 };
  float a[N], b[N], w[N], out_a[N], out_b[N];
  fill(a, N, 4.0f);
  fill(w, N, 1.0f);
  em_rmsnorm(out_a, a, w, N, 1e-5f);
  em_ref_rmsnorm(out_b, a, w, N, 1e-5f);
  CHECK(memcmp(out_a, out_b, sizeof out_a) == 0);
  memcpy(out_a, a, sizeof a);
  memcpy(out_b, a, sizeof a);
  em_softmax(out_a, N);
  em_ref_softmax(out_b, N);
  CHECK(memcmp(out_a, out_b, sizeof out_a) == 0);
  fill(b, N, 2.0f);
  memcpy(out_a, a, sizeof a);
  memcpy(out_b, a, sizeof a);
  em_swiglu(out_a, b, N);
  em_ref_swiglu(out_b, b, N);
  CHECK(memcmp(out_a, out_b, sizeof out_a) == 0);
  static float q[HS], kc[T * HS], vc[T * HS], att_a[T], att_b[T], o_a[HS], o_b[HS];
  fill(q, HS, 1.0f);
  fill(kc, T * HS, 1.0f);
  fill(vc, T * HS, 1.0f);
  em_attention_head(o_a, q, kc, vc, HS, HS, 2, T - 1, 4.0f, att_a);
  em_ref_attention_head(o_b, q, kc, vc, HS, HS, 2, T - 1, 4.0f, att_b);
  CHECK(memcmp(o_a, o_b, sizeof o_a) == 0);
  em_matrix m = {EM_Q4, g_w4_buf, g_ws, 4, 64, 32};
  em_matrix_row(out_a, &m, 3);
  em_ref_matrix_row(out_b, &m, 3);
  CHECK(memcmp(out_a, out_b, 64 * sizeof(float)) == 0);
}

int main(void) {
  test_float_matvecs();
  test_quantized_matvecs();
  test_other_kernels();
  return finish();
}
