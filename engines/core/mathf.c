/* Freestanding single-precision math, in one of two modes chosen per target:
 *  - double inside (targets with a double-precision FPU: x86-64, AArch64, ARM VFPv2 on the
 *    Pi Zero): exp, log, sin, cos and pow are evaluated in double and rounded once, so they
 *    are correctly rounded in all but vanishingly rare cases, as glibc's are. That is what
 *    lets the engine reproduce llama2.c runs bit for bit.
 *  - single only (single-precision FPUs such as the Cortex-M33, or EM_MATHF_SINGLE):
 *    float minimax polynomials (the Cephes coefficients) with range reductions whose
 *    constants are split so products stay exact; at most 2 ulp.
 * Series in the double mode are plain Taylor/atanh series on small reduced ranges. */
#include "engine/mathf.h"

#include <stdint.h>

#if !defined(EM_MATHF_SINGLE) && \
    (defined(__x86_64__) || defined(__aarch64__) || (defined(__ARM_FP) && (__ARM_FP & 8)))
#define MATHF_DOUBLE 1
#else
#define MATHF_DOUBLE 0
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* the exact-product tricks below need unfused a*b+c */
#endif

static uint32_t bits_of(float x) {
  uint32_t u;
  __builtin_memcpy(&u, &x, sizeof u);
  return u;
}

static float float_of(uint32_t u) {
  float x;
  __builtin_memcpy(&x, &u, sizeof x);
  return x;
}

#if !MATHF_DOUBLE
static const float kLn2Hi = 0x1.63p-1f;      /* 0.693359375: 9 bits, so k*kLn2Hi is exact */
static const float kLn2Lo = -2.12194440e-4f; /* ln 2 - kLn2Hi */
static const float kLog2e = 1.44269504088896341f;
#endif

float em_fabsf(float x) { return float_of(bits_of(x) & 0x7fffffffu); }

static float inf_with_sign(int negative) { return float_of(negative ? 0xff800000u : 0x7f800000u); }

static float quiet_nan(void) { return float_of(0x7fc00000u); }

#if !MATHF_DOUBLE
/* x * 2^k for any int k where the result is representable (or over/underflows). */
static float scale_by_pow2(float x, int k) {
  while (k > 127) {
    x *= 0x1p127f;
    k -= 127;
  }
  while (k < -126) {
    x *= 0x1p-126f;
    k += 126;
  }
  return x * float_of((uint32_t)(k + 127) << 23);
}

/* Nearest integer to x, as an int; |x| must be well below 2^31. */
static int nearest_int(float x) { return (int)(x + (x >= 0.0f ? 0.5f : -0.5f)); }
#endif

float em_roundf(float x) {
  float ax = em_fabsf(x);
  if (!(ax < 0x1p23f)) return x; /* already integral, inf or NaN */
  float r = (float)(int32_t)ax;  /* truncate; ax - r is exact */
  if (ax - r >= 0.5f) r += 1.0f;
  return x < 0.0f ? -r : r;
}

/* ---- exp ---- */

#if MATHF_DOUBLE
/* Nearest integer, as a double (|x| < 2^62). */
static double nearest_d(double x) { return (double)(int64_t)(x + (x >= 0.0 ? 0.5 : -0.5)); }

/* e^x for |x| <= 110: x = k ln2 + r (ln2 split as in fdlibm, k*hi exact), Taylor to r^12. */
static double exp_d(double x) {
  double k = nearest_d(x * 1.4426950408889634);
  double r = (x - k * 0x1.62e42feep-1) - k * 1.9082149292705877e-10;
  double p = 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  uint64_t pow2_bits = (uint64_t)((int64_t)k + 1023) << 52;
  double pow2;
  __builtin_memcpy(&pow2, &pow2_bits, sizeof pow2);
  return p * pow2;
}

/* log(x) for positive finite x: x = 2^e m, m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s),
 * s = (m-1)/(m+1), |s| < 0.172, series to s^21. */
static double log_d(double x) {
  uint64_t u;
  __builtin_memcpy(&u, &x, sizeof u);
  int e = (int)((u >> 52) & 0x7ff) - 1023;
  u = (u & 0x000fffffffffffffull) | 0x3ff0000000000000ull; /* m in [1, 2) */
  double m;
  __builtin_memcpy(&m, &u, sizeof m);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e++;
  }
  double s = (m - 1.0) / (m + 1.0), z = s * s;
  double p = 1.0 / 21.0;
  for (int k = 19; k >= 1; k -= 2) p = p * z + 1.0 / k;
  return (double)e * 0.6931471805599453 + 2.0 * s * p;
}

#else
/* e^r for |r| <= ln2/2. */
static float exp_reduced(float r) {
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return p * (r * r) + r + 1.0f;
}
#endif

float em_expf(float x) {
  if (x != x) return x;
  if (x > 88.72283905f) return inf_with_sign(0);
  if (x < -103.972084f) return 0.0f;
#if MATHF_DOUBLE
  return (float)exp_d((double)x);
#else
  int k = nearest_int(x * kLog2e);
  float kf = (float)k;
  float r = (x - kf * kLn2Hi) - kf * kLn2Lo;
  return scale_by_pow2(exp_reduced(r), k);
#endif
}

/* ---- log ---- */

#if !MATHF_DOUBLE
/* Splits a positive finite x into 2^e * (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)). */
static float split_log_argument(float x, int *e) {
  uint32_t u = bits_of(x);
  int exp_bias = 0;
  if (u < 0x00800000u) { /* subnormal: scale into the normal range first */
    u = bits_of(x * 0x1p25f);
    exp_bias = -25;
  }
  int e2 = (int)(u >> 23) - 126; /* x = 2^e2 * m with m in [0.5, 1) */
  float m = float_of((u & 0x007fffffu) | 0x3f000000u);
  if (m < 0.70710678f) {
    e2 -= 1;
    m = m + m - 1.0f; /* exact */
  } else {
    m = m - 1.0f; /* exact */
  }
  *e = e2 + exp_bias;
  return m;
}

/* log(1+f) - f + f^2/2 for f in [sqrt(1/2)-1, sqrt(2)-1], i.e. the f^3 and higher terms. */
static float log_tail(float f) {
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  return p * f * (f * f);
}
#endif

float em_logf(float x) {
  if (x != x) return x;
  if (x < 0.0f) return quiet_nan();
  if (x == 0.0f) return inf_with_sign(1);
  if (x == inf_with_sign(0)) return x;
#if MATHF_DOUBLE
  return (float)log_d((double)x);
#else
  int e;
  float f = split_log_argument(x, &e);
  float ef = (float)e;
  float y = log_tail(f) + ef * kLn2Lo - 0.5f * (f * f);
  return (f + y) + ef * kLn2Hi;
#endif
}

/* ---- sqrt ---- */

/* The FPU instruction where the target has one; EM_SOFT_SQRT forces the integer method
 * (the tests build it that way on the host to check it). */
#if !defined(EM_SOFT_SQRT) && defined(__aarch64__)
#define SQRT_AARCH64 1
#elif !defined(EM_SOFT_SQRT) && defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 4)
#define SQRT_VFP 1
#elif !defined(EM_SOFT_SQRT) && (defined(__x86_64__) || (defined(__i386__) && defined(__SSE__)))
#define SQRT_SSE 1
#else
#define SQRT_SOFT 1

/* Correctly rounded sqrt of a positive normal or subnormal float, in integers. */
static float sqrt_soft(float x) {
  uint32_t u = bits_of(x);
  int e = (int)(u >> 23);
  uint32_t m = u & 0x007fffffu;
  if (e == 0) { /* subnormal: normalise */
    while (!(m & 0x00800000u)) {
      m <<= 1;
      e--;
    }
    e++;
    m &= 0x007fffffu;
  }
  m |= 0x00800000u;
  e -= 127;
  if (e & 1) {
    m <<= 1;
    e--;
  } /* make the exponent even */
  uint64_t radicand = (uint64_t)m << 25; /* in [2^48, 2^50): its root has 24 bits + a round bit */
  uint64_t root = 0, bit = (uint64_t)1 << 50;
  while (bit > radicand) bit >>= 2;
  while (bit) {
    if (radicand >= root + bit) {
      radicand -= root + bit;
      root = (root >> 1) + bit;
    } else
      root >>= 1;
    bit >>= 2;
  }
  uint32_t r = (uint32_t)root; /* 25 bits: 24 + one more */
  r = (r >> 1) + ((r & 1u) && (radicand || (r & 2u)) ? 1u : 0u);
  return float_of(((uint32_t)(e / 2 + 127) << 23) + (r - 0x00800000u));
}
#endif

float em_sqrtf(float x) {
#if defined(SQRT_AARCH64)
  float r;
  __asm__("fsqrt %s0, %s1" : "=w"(r) : "w"(x));
  return r;
#elif defined(SQRT_VFP)
  float r;
  __asm__("vsqrt.f32 %0, %1" : "=t"(r) : "t"(x));
  return r;
#elif defined(SQRT_SSE)
  float r;
  __asm__("sqrtss %1, %0" : "=x"(r) : "x"(x));
  return r;
#else
  if (x != x || x == 0.0f || x == inf_with_sign(0)) return x;
  if (x < 0.0f) return quiet_nan();
  return sqrt_soft(x);
#endif
}

/* ---- sin, cos ---- */

#if MATHF_DOUBLE
typedef double trig_real;

/* r = x - q pi/2 in double with fdlibm's 33-bit parts of pi/2 (q*part exact for q < 2^20,
 * i.e. |x| < 1.6e6); q mod 4 in *quadrant. */
static double reduce_half_pi(float x, int *quadrant) {
  double xd = (double)x;
  double q = nearest_d(xd * 0.63661977236758134);
  double r = (xd - q * 0x1.921fb544p0) - q * 0x1.0b4611a6p-34;
  r -= q * 2.0222662487959506e-21;
  *quadrant = (int)((int64_t)q & 3);
  return r;
}

/* sin and cos for |r| <= pi/4: Taylor series to r^17 and r^16. */
static double sin_reduced(double r) {
  double z = r * r;
  double p = 1.0 / 355687428096000.0;
  p = p * z - 1.0 / 1307674368000.0;
  p = p * z + 1.0 / 6227020800.0;
  p = p * z - 1.0 / 39916800.0;
  p = p * z + 1.0 / 362880.0;
  p = p * z - 1.0 / 5040.0;
  p = p * z + 1.0 / 120.0;
  p = p * z - 1.0 / 6.0;
  return r + r * z * p;
}

static double cos_reduced(double r) {
  double z = r * r;
  double p = 1.0 / 20922789888000.0;
  p = p * z - 1.0 / 87178291200.0;
  p = p * z + 1.0 / 479001600.0;
  p = p * z - 1.0 / 3628800.0;
  p = p * z + 1.0 / 40320.0;
  p = p * z - 1.0 / 720.0;
  p = p * z + 1.0 / 24.0;
  p = p * z - 0.5;
  return 1.0 + z * p;
}

#else
typedef float trig_real;

/* sin(r) and cos(r) for |r| <= pi/4. */
static float sin_reduced(float r) {
  float z = r * r;
  float p = -1.9515295891e-4f;
  p = p * z + 8.3321608736e-3f;
  p = p * z - 1.6666654611e-1f;
  return r + r * z * p;
}

static float cos_reduced(float r) {
  float z = r * r;
  float p = 2.443315711809948e-5f;
  p = p * z - 1.388731625493765e-3f;
  p = p * z + 4.166664568298827e-2f;
  return 1.0f - 0.5f * z + z * z * p;
}

/* Returns r = x - q*pi/2 with |r| <= ~pi/4, and q mod 4 in *quadrant. */
static float reduce_half_pi(float x, int *quadrant) {
  const float kTwoOverPi = 0.636619772367581343f;
  if (em_fabsf(x) < 12000.0f) {
    /* q < 2^13 and each part of pi/2 has at most 11 bits: every q*part is exact. */
    int q = nearest_int(x * kTwoOverPi);
    float qf = (float)q;
    float r = x - qf * 0x1.92p0f;
    r -= qf * 0x1.fb4p-12f;
    r -= qf * 0x1.444p-24f;
    r -= qf * 0x1.68c234p-39f;
    *quadrant = q & 3;
    return r;
  }
  /* Rare path (far outside RoPE angles): the same idea in double, 33-bit parts. */
  double xd = (double)x;
  double qd = xd * 0.63661977236758134;
  qd = (double)(int64_t)(qd + (qd >= 0.0 ? 0.5 : -0.5));
  double r = xd - qd * 0x1.921fb544p0;
  r -= qd * 0x1.0b4611a6p-34;
  r -= qd * 2.0222662487959506e-21;
  *quadrant = (int)((int64_t)qd & 3);
  return (float)r;
}
#endif

float em_sinf(float x) {
  if (x != x) return x;
  if (em_fabsf(x) == inf_with_sign(0)) return quiet_nan();
  int q;
  trig_real r = reduce_half_pi(x, &q);
  switch (q) {
    case 0:
      return (float)sin_reduced(r);
    case 1:
      return (float)cos_reduced(r);
    case 2:
      return (float)-sin_reduced(r);
    default:
      return (float)-cos_reduced(r);
  }
}

float em_cosf(float x) {
  if (x != x) return x;
  if (em_fabsf(x) == inf_with_sign(0)) return quiet_nan();
  int q;
  trig_real r = reduce_half_pi(x, &q);
  switch (q) {
    case 0:
      return (float)cos_reduced(r);
    case 1:
      return (float)-sin_reduced(r);
    case 2:
      return (float)-cos_reduced(r);
    default:
      return (float)sin_reduced(r);
  }
}

/* ---- tanh ---- */

float em_tanhf(float x) {
  if (x != x) return x;
  float ax = em_fabsf(x);
  if (ax < 0.625f) {
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    return x + x * z * p;
  }
  if (ax > 9.02f) return x > 0.0f ? 1.0f : -1.0f; /* tanh rounds to +-1 here */
  float t = 1.0f - 2.0f / (em_expf(2.0f * ax) + 1.0f);
  return x > 0.0f ? t : -t;
}

/* ---- pow ---- */

#if !MATHF_DOUBLE
/* Error-free transformations (Knuth's two-sum, Dekker's two-product without FMA). */
static void two_sum(float a, float b, float *s, float *err) {
  float sum = a + b;
  float bv = sum - a;
  float av = sum - bv;
  *s = sum;
  *err = (a - av) + (b - bv);
}

static void split12(float a, float *hi, float *lo) {
  float c = 4097.0f * a;
  float big = c - a;
  *hi = c - big;
  *lo = a - *hi;
}

static void two_prod(float a, float b, float *p, float *err) {
  float ah, al, bh, bl;
  split12(a, &ah, &al);
  split12(b, &bh, &bl);
  float prod = a * b;
  *p = prod;
  *err = ((ah * bh - prod) + ah * bl + al * bh) + al * bl;
}

/* log(x) for positive finite x, as hi + lo with about 40 bits. */
static float log_extended(float x, float *lo) {
  int e;
  float f = split_log_argument(x, &e);
  float ef = (float)e;
  float f2, f2_err;
  two_prod(f, f, &f2, &f2_err);
  float s, s_err;
  two_sum(f, -0.5f * f2, &s, &s_err); /* f - f^2/2, 0.5*f2 is exact */
  float tail = s_err - 0.5f * f2_err + log_tail(f) + ef * kLn2Lo;
  float hi, hi_err;
  two_sum(ef * kLn2Hi, s, &hi, &hi_err);
  tail += hi_err;
  float out = hi + tail;
  *lo = tail - (out - hi);
  return out;
}
#endif

static int is_integer(float y) { return em_fabsf(y) >= 0x1p23f || (float)(int32_t)y == y; }

static int is_odd_integer(float y) {
  return em_fabsf(y) < 0x1p24f && (float)(int32_t)y == y && ((int32_t)y & 1);
}

float em_powf(float x, float y) {
  if (y == 0.0f || x == 1.0f) return 1.0f;
  if (x != x || y != y) return quiet_nan();
  int negate = 0;
  if (x < 0.0f) {
    if (!is_integer(y)) return quiet_nan();
    negate = is_odd_integer(y);
    x = -x;
  }
  const float inf = inf_with_sign(0);
  if (em_fabsf(y) == inf) {
    if (x == 1.0f) return 1.0f;
    return ((x > 1.0f) == (y > 0.0f)) ? inf : 0.0f;
  }
  float result;
  if (x == 0.0f) {
    result = y > 0.0f ? 0.0f : inf;
  } else if (x == inf) {
    result = y > 0.0f ? inf : 0.0f;
  } else {
#if MATHF_DOUBLE
    double t = (double)y * log_d((double)x);
    result = t > 89.0 ? inf : (t < -104.5 ? 0.0f : (float)exp_d(t));
#else
    float log_lo;
    float log_hi = log_extended(x, &log_lo);
    float p = y * log_hi;
    if (p > 89.0f)
      result = inf;
    else if (p < -104.5f)
      result = 0.0f;
    else {
      float p_err;
      two_prod(y, log_hi, &p, &p_err);
      p_err += y * log_lo;
      float e = em_expf(p);
      result = e + e * p_err;
    }
#endif
  }
  return negate ? -result : result;
}
