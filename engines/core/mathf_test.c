/* em_ math vs host libm: maximum error in ulp over wide ranges, plus special values. */
#include "engine/mathf.h"

#include <math.h>
#include <stdint.h>

#include "common/check.h"

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

static uint32_t next_u32(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return (uint32_t)(g_rng >> 32);
}

static float uniform(float lo, float hi) {
  return lo + (hi - lo) * (float)(next_u32() >> 8) / 16777216.0f;
}

static float float_of(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* Distance in representable floats (0 when both are NaN or identical). */
static double ulp_distance(float a, float b) {
  if (isnan(a) && isnan(b)) return 0;
  if (isnan(a) || isnan(b)) return 1e30;
  if (a == b) return 0;
  int32_t ia, ib;
  memcpy(&ia, &a, 4);
  memcpy(&ib, &b, 4);
  int64_t oa = ia < 0 ? (int64_t)INT32_MIN - ia : ia;
  int64_t ob = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
  return (double)llabs(oa - ob);
}

typedef float (*unary_fn)(float);

/* Max ulp error of ours against libm's over `n` arguments drawn by gen(). */
static double max_ulp_unary(unary_fn ours, double (*ref)(double), float (*gen)(void), int n,
                            float *worst_x) {
  double worst = 0;
  *worst_x = 0;
  for (int i = 0; i < n; i++) {
    float x = gen();
    float expect = (float)ref((double)x); /* libm in double, rounded: a near-exact reference */
    double d = ulp_distance(ours(x), expect);
    if (d > worst) {
      worst = d;
      *worst_x = x;
    }
  }
  return worst;
}

static float gen_exp(void) { return uniform(-103.9f, 88.7f); }
static float gen_any_positive(void) { return float_of(next_u32() & 0x7f7fffffu); }
static float gen_trig(void) { return uniform(-12000.0f, 12000.0f); }
static float gen_trig_small(void) { return uniform(-10.0f, 10.0f); }
static float gen_trig_far(void) { return uniform(-1.6e6f, 1.6e6f); }
static float gen_tanh(void) { return uniform(-12.0f, 12.0f); }
static float gen_tiny(void) {
  return float_of(next_u32() & 0x3effffffu) * ((next_u32() & 1) ? 1.0f : -1.0f);
}

static void report(const char *name, double ulp, const float *x, double limit) {
  printf("%-28s max %.0f ulp (at %.9g), limit %.0f\n", name, ulp, (double)*x, limit);
  CHECKF(ulp <= limit, "%s: %.0f ulp at x=%.9g", name, ulp, (double)*x);
}

static void test_unary(void) {
  float x = 0;
  report("expf [-103.9, 88.7]", max_ulp_unary(em_expf, exp, gen_exp, 2000000, &x), &x, 2);
  report("logf all positive", max_ulp_unary(em_logf, log, gen_any_positive, 2000000, &x), &x, 2);
  report("sqrtf all positive", max_ulp_unary(em_sqrtf, sqrt, gen_any_positive, 2000000, &x), &x, 0);
  report("sinf [-10, 10]", max_ulp_unary(em_sinf, sin, gen_trig_small, 1000000, &x), &x, 2);
  report("cosf [-10, 10]", max_ulp_unary(em_cosf, cos, gen_trig_small, 1000000, &x), &x, 2);
  report("sinf [-12000, 12000]", max_ulp_unary(em_sinf, sin, gen_trig, 1000000, &x), &x, 3);
  report("cosf [-12000, 12000]", max_ulp_unary(em_cosf, cos, gen_trig, 1000000, &x), &x, 3);
  report("sinf [-1.6e6, 1.6e6]", max_ulp_unary(em_sinf, sin, gen_trig_far, 300000, &x), &x, 3);
  report("cosf [-1.6e6, 1.6e6]", max_ulp_unary(em_cosf, cos, gen_trig_far, 300000, &x), &x, 3);
  report("tanhf [-12, 12]", max_ulp_unary(em_tanhf, tanh, gen_tanh, 1000000, &x), &x, 3);
  report("tanhf tiny", max_ulp_unary(em_tanhf, tanh, gen_tiny, 500000, &x), &x, 2);
  report("expf tiny", max_ulp_unary(em_expf, exp, gen_tiny, 500000, &x), &x, 1);
  report("sinf tiny", max_ulp_unary(em_sinf, sin, gen_tiny, 500000, &x), &x, 1);
}

/* Arguments next to multiples of pi/2, where sin or cos is near zero and the range
 * reduction's accuracy shows. */
static void test_trig_near_zeros(void) {
  double worst = 0;
  float wx = 0;
  for (int k = 1; k < 7600; k++) {
    float x0 = (float)(k * 1.5707963267948966);
    for (int d = -2; d <= 2; d++) {
      float x = nextafterf(x0, d < 0 ? -INFINITY : INFINITY);
      if (d == 0) x = x0;
      double ds = ulp_distance(em_sinf(x), (float)sin((double)x));
      double dc = ulp_distance(em_cosf(x), (float)cos((double)x));
      if (ds > worst) {
        worst = ds;
        wx = x;
      }
      if (dc > worst) {
        worst = dc;
        wx = x;
      }
    }
  }
  printf("%-28s max %.0f ulp (at %.9g), limit 3\n", "sin/cos near k*pi/2", worst, (double)wx);
  CHECKF(worst <= 3, "%.0f ulp at %.9g", worst, (double)wx);
}

static void test_pow(void) {
  double worst = 0;
  float wx = 0, wy = 0;
  for (int i = 0; i < 2000000; i++) {
    float x = (i & 1) ? uniform(0.0f, 100.0f) : gen_any_positive();
    float y = (i & 2) ? uniform(-30.0f, 30.0f) : uniform(-1.0f, 1.0f);
    double expect = pow((double)x, (double)y);
    if (!(expect < 3.4e38) || expect < 1.2e-38) continue; /* keep to normal results */
    double d = ulp_distance(em_powf(x, y), (float)expect);
    if (d > worst) {
      worst = d;
      wx = x;
      wy = y;
    }
  }
  printf("%-28s max %.0f ulp (at %.9g ^ %.9g), limit 2\n", "powf", worst, (double)wx, (double)wy);
  CHECKF(worst <= 2, "powf %.0f ulp", worst);

  /* RoPE frequencies: theta^(2p/head_size) for the heads we use. */
  double rope_worst = 0;
  for (int hs = 8; hs <= 256; hs *= 2) {
    for (int p = 0; p < hs / 2; p++) {
      float e = (float)(2 * p) / (float)hs;
      rope_worst = fmax(rope_worst, ulp_distance(em_powf(10000.0f, e), (float)pow(10000.0, e)));
      rope_worst = fmax(rope_worst, ulp_distance(em_powf(100000.0f, e), (float)pow(100000.0, e)));
    }
  }
  printf("%-28s max %.0f ulp, limit 1\n", "powf RoPE frequencies", rope_worst);
  CHECK(rope_worst <= 1);

  /* Special cases follow C99 pow. */
  CHECK(em_powf(-2.0f, 3.0f) == -8.0f);
  CHECK(em_powf(-2.0f, 2.0f) == 4.0f);
  CHECK(isnan(em_powf(-2.0f, 0.5f)));
  CHECK(em_powf(0.0f, 2.0f) == 0.0f);
  CHECK(isinf(em_powf(0.0f, -1.0f)));
  CHECK(em_powf(NAN, 0.0f) == 1.0f);
  CHECK(em_powf(1.0f, NAN) == 1.0f);
  CHECK(isnan(em_powf(2.0f, NAN)));
  CHECK(isinf(em_powf(2.0f, 200.0f)));
  CHECK(em_powf(2.0f, -200.0f) == 0.0f);
  CHECK(em_powf(0.5f, INFINITY) == 0.0f);
  CHECK(isinf(em_powf(INFINITY, 2.0f)));
  CHECK(em_powf(2.0f, 10.0f) == 1024.0f);
}

static void test_specials(void) {
  CHECK(isinf(em_expf(89.0f)) && em_expf(89.0f) > 0);
  CHECK(em_expf(-104.0f) == 0.0f);
  CHECK(em_expf(0.0f) == 1.0f);
  CHECK(isnan(em_expf(NAN)));
  CHECK(ulp_distance(em_expf(-100.0f), expf(-100.0f)) <= 1); /* subnormal result */
  CHECK(isinf(em_logf(0.0f)) && em_logf(0.0f) < 0);
  CHECK(isnan(em_logf(-1.0f)));
  CHECK(isinf(em_logf(INFINITY)));
  CHECK(em_logf(1.0f) == 0.0f);
  CHECK(em_sqrtf(0.0f) == 0.0f && isnan(em_sqrtf(-1.0f)) && isinf(em_sqrtf(INFINITY)));
  CHECK(em_sqrtf(float_of(1)) == sqrtf(float_of(1))); /* smallest subnormal */
  CHECK(isnan(em_sinf(INFINITY)) && isnan(em_cosf(NAN)));
  CHECK(em_tanhf(30.0f) == 1.0f && em_tanhf(-30.0f) == -1.0f && em_tanhf(0.0f) == 0.0f);
  CHECK(em_fabsf(-3.5f) == 3.5f);
  int round_bad = 0;
  for (int i = 0; i < 1000000; i++) {
    float x =
        (i & 1) ? uniform(-1000.0f, 1000.0f) : (float)((int)(next_u32() % 2001) - 1000) * 0.5f;
    if (em_roundf(x) != roundf(x)) round_bad++;
  }
  CHECKF(round_bad == 0, "%d roundf mismatches", round_bad);
  CHECK(em_roundf(0.49999997f) == 0.0f && em_roundf(-2.5f) == -3.0f &&
        em_roundf(8388609.0f) == 8388609.0f);
}

int main(void) {
  test_unary();
  test_trig_near_zeros();
  test_pow();
  test_specials();
  return finish();
}
