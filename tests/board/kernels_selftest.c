/* Kernel self-test image: the kernels the build selected for this board's CPU against the
 * portable reference (engine/kernels_ref.h: em_ref_*) on pseudo-random data, on the board
 * itself (QEMU), freestanding. Linking it for every board also proves that the engines
 * (common, llama, registry) compile and link for that board.
 *   q8, q4   |fast - ref| <= (G + 4) * FLT_EPSILON * sum |qw qx ws xs| per row (G groups; the
 *            derivation is in engines/kernels/kernels_arch_test.c), and bit-exact except on
 *            AArch64, whose NEON kernels keep float lanes per row instead of the reference's
 *            serial sum;   f32, f16   |fast - ref| <= n * FLT_EPSILON * sum |w x| per row.
 * Prints "kernels self-test: board=B N passed, M failed" and exits with M != 0. */
#include <stddef.h>
#include <stdint.h>

#include "engine/kernels.h"
#include "engine/kernels_ref.h"
#include "engine/registry.h"
#include "tests/board/board_check.h"

/* One check; a failure names what and two numbers that locate it. */
#define check_that(ok, what, a, b) CHECKF(ok, "%s (%d, %d)", what, (int)(a), (int)(b))

enum { ROWS = 13, MAX_N = 512, FLT_EPS_INV = 8388608 /* 1 / FLT_EPSILON = 2^23 */ };

static uint32_t g_rng = 0x12345678u;

static float absf(float v) { return v < 0 ? -v : v; }

static float g_x[MAX_N], g_w[ROWS * MAX_N], g_out[ROWS], g_ref[ROWS];
static uint16_t g_w16[ROWS * MAX_N];
static int8_t g_w8[ROWS * MAX_N + 4], g_x8[MAX_N];
static uint8_t g_w4[ROWS * MAX_N / 2 + 4];
static float g_ws[ROWS * MAX_N / 16], g_xs[MAX_N / 16];

static int same_bits(const float *a, const float *b, int begin, int end) {
  for (int i = begin; i < end; i++) {
    uint32_t u, v;
    __builtin_memcpy(&u, &a[i], 4);
    __builtin_memcpy(&v, &b[i], 4);
    if (u != v) return 0;
  }
  return 1;
}

/* Rows within n * FLT_EPSILON * sum |w x| of the reference (w as fp32 values). */
static int within_bound(const float *w, int n, int begin, int end) {
  for (int i = begin; i < end; i++) {
    float mag = 0;
    for (int j = 0; j < n; j++) mag += absf(w[(size_t)i * n + j] * g_x[j]);
    if (absf(g_out[i] - g_ref[i]) > (float)n * mag / (float)FLT_EPS_INV * 1.01f + 1e-30f) return 0;
  }
  return 1;
}

static void test_float(int n) {
  for (int i = 0; i < ROWS * n; i++) {
    g_w[i] = check_frand(&g_rng) * 0.5f;
    g_w16[i] = em_f32_to_f16(g_w[i]);
  }
  for (int j = 0; j < n; j++) g_x[j] = check_frand(&g_rng) * 2.0f;
  em_matvec_f32_rows(g_out, g_x, g_w, n, 1, ROWS);
  em_ref_matvec_f32_rows(g_ref, g_x, g_w, n, 1, ROWS);
  check_that(within_bound(g_w, n, 1, ROWS), "f32 matvec", n, 0);
  em_matvec_f16_rows(g_out, g_x, g_w16, n, 0, ROWS - 1);
  em_ref_matvec_f16_rows(g_ref, g_x, g_w16, n, 0, ROWS - 1);
  for (int i = 0; i < ROWS * n; i++) g_w[i] = em_f16_to_f32(g_w16[i]);
  check_that(within_bound(g_w, n, 0, ROWS - 1), "f16 matvec", n, 0);
}

#if defined(__aarch64__)
enum { QUANT_BIT_EXACT = 0 };
#else
enum { QUANT_BIT_EXACT = 1 };
#endif

/* int4 element j of a packed row (element 2m in the low nibble of byte m). */
static int int4_at(const uint8_t *row, int j) {
  int v = ((j & 1) ? row[j / 2] >> 4 : row[j / 2]) & 0xf;
  return v >= 8 ? v - 16 : v;
}

/* Rows [begin, end) of a q8 (w4 NULL) or q4 matvec within the bound above of the reference
 * (the magnitude summed in float, its own rounding covered by the factor 1.01 as above). */
static int quantized_within_bound(const int8_t *w8, const uint8_t *w4, int n, int gs, int begin,
                                  int end) {
  for (int i = begin; i < end; i++) {
    float mag = 0;
    for (int j = 0; j < n; j++) {
      int qw = w4 ? int4_at(w4 + (size_t)i * (n / 2), j) : w8[(size_t)i * n + j];
      mag += absf((float)(qw * g_x8[j]) * g_ws[i * (n / gs) + j / gs] * g_xs[j / gs]);
    }
    float bound = (float)(n / gs + 4) * mag / (float)FLT_EPS_INV * 1.01f + 1e-30f;
    if (!(absf(g_out[i] - g_ref[i]) <= bound)) return 0; /* NaN fails too */
    if (QUANT_BIT_EXACT && !same_bits(g_out, g_ref, i, i + 1)) return 0;
  }
  return 1;
}

static void test_quantized(int n, int gs, int offset) {
  int8_t *w8 = g_w8 + offset;
  uint8_t *w4 = g_w4 + offset;
  for (int i = 0; i < ROWS * n; i++) w8[i] = (int8_t)(check_next_u32(&g_rng) >> 24);
  for (int i = 0; i < ROWS * n / 2; i++) w4[i] = (uint8_t)(check_next_u32(&g_rng) >> 24);
  for (int i = 0; i < ROWS * n / gs; i++) g_ws[i] = check_frand(&g_rng) * 0.01f;
  for (int j = 0; j < n; j++) g_x[j] = check_frand(&g_rng) * 3.0f;
  em_quantize_q8(g_x8, g_xs, g_x, n, gs);
  em_qvec xq = {g_x8, g_xs, n, gs};
  em_matvec_q8_rows(g_out, &xq, w8, g_ws, n, 0, ROWS);
  em_ref_matvec_q8_rows(g_ref, &xq, w8, g_ws, n, 0, ROWS);
  check_that(quantized_within_bound(w8, NULL, n, gs, 0, ROWS), "q8 matvec (n, gs)", n, gs);
  em_matvec_q4_rows(g_out, &xq, w4, g_ws, n, 2, ROWS - 3);
  em_ref_matvec_q4_rows(g_ref, &xq, w4, g_ws, n, 2, ROWS - 3);
  check_that(quantized_within_bound(NULL, w4, n, gs, 2, ROWS - 3), "q4 matvec (n, gs)", n, gs);
}

/* em_quantize_q8 gives the reference's bits (codes and scales), edge values included: ties at
 * .5, the group maximum, zeros, a zero group, infinities and NaN. */
static void test_quantize(int n, int gs) {
  static int8_t ref8[MAX_N];
  static float refs[MAX_N / 16];
  for (int j = 0; j < n; j++) g_x[j] = check_frand(&g_rng) * 3.0f;
  for (int j = 0; j < gs; j++) g_x[j] = 0.0f;                  /* a zero group */
  g_x[gs] = 127.0f;                                            /* scale 1: x / scale exact */
  g_x[gs + 1] = 2.5f, g_x[gs + 2] = -2.5f, g_x[gs + 3] = 0.5f; /* ties round away */
  if (n >= 4 * gs) {
    g_x[2 * gs] = 1.0f / 0.0f; /* inf: scale inf, codes NaN -> 0 */
    g_x[3 * gs] = 0.0f / 0.0f; /* NaN is skipped by the max */
  }
  em_quantize_q8(g_x8, g_xs, g_x, n, gs);
  em_ref_quantize_q8(ref8, refs, g_x, n, gs);
  int same = __builtin_memcmp(g_x8, ref8, (size_t)n) == 0 && same_bits(g_xs, refs, 0, n / gs);
  check_that(same, "quantize_q8 bits (n, gs)", n, gs);
}

int main(void) {
  static const int widths[] = {32, 67, 288, 512};
  for (int g = 16; g <= 128; g *= 2) test_quantize(512, g);
  for (int i = 0; i < 4; i++) test_float(widths[i]);
  static const int group_sizes[] = {16, 32, 64, 128};
  for (int g = 0; g < 4; g++) {
    test_quantized(256, group_sizes[g], 0);
    test_quantized(512, group_sizes[g], 0);
    test_quantized(256, group_sizes[g], 1); /* rows not word-aligned */
  }
  /* The engines are linked in: the registry refuses bytes that are no model. */
  static const uint8_t junk[16] = {1, 2, 3};
  check_that(em_registry_find(junk, sizeof junk) == NULL, "registry rejects junk", 0, 0);
  return selftest_finish("kernels");
}
