/* Reference kernels against naive double-precision computations; fp16 and quantization
 * round trips; the parallel split equals the serial result; the arena's contract. */
#include "engine/kernels.h"

#include <math.h>
#include <stdint.h>

#include "common/check.h"
#include "engine/arena.h"
#include "engine/ops.h"

static uint64_t g_rng = 12345;

static float frand(void) { /* uniform in [-1, 1) */
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return (float)((g_rng >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}

static void fill(float *x, int n, float scale) {
  for (int i = 0; i < n; i++) x[i] = frand() * scale;
}

static double max_abs_diff(const float *a, const double *b, int n) {
  double m = 0;
  for (int i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
  return m;
}

/* ---- fp16 ---- */

static void test_f16(void) {
  int bad_decode = 0, bad_roundtrip = 0;
  for (uint32_t h = 0; h < 65536; h++) {
    _Float16 ref;
    uint16_t hb = (uint16_t)h;
    memcpy(&ref, &hb, 2);
    float ours = em_f16_to_f32(hb);
    if (!(isnan(ours) && isnan((float)ref)) && memcmp(&ours, &(float){(float)ref}, 4) != 0)
      bad_decode++;
    uint16_t back = em_f32_to_f16(ours);
    if (isnan(ours) ? !((back & 0x7c00) == 0x7c00 && (back & 0x3ff)) : back != hb) bad_roundtrip++;
  }
  CHECKF(bad_decode == 0, "%d halves decode differently from the compiler's _Float16", bad_decode);
  CHECKF(bad_roundtrip == 0, "%d halves do not round-trip", bad_roundtrip);

  int bad_encode = 0;
  for (int i = 0; i < 2000000; i++) {
    uint32_t u = (uint32_t)(g_rng >> 20) ^ (uint32_t)(g_rng << 7);
    frand();
    float f;
    memcpy(&f, &u, 4);
    if (isnan(f)) continue;
    _Float16 ref = (_Float16)f;
    uint16_t ref_bits;
    memcpy(&ref_bits, &ref, 2);
    if (em_f32_to_f16(f) != ref_bits) bad_encode++;
  }
  CHECKF(bad_encode == 0, "%d floats encode differently from the compiler's _Float16", bad_encode);
  /* Ties to even at the edges: 65520 -> inf, 2^-25 -> 0, 3*2^-26 -> 2^-24. */
  CHECK(em_f32_to_f16(65520.0f) == 0x7c00 && em_f32_to_f16(65519.0f) == 0x7bff);
  CHECK(em_f32_to_f16(0x1p-25f) == 0 && em_f32_to_f16(0x1.8p-25f) == 1);
}

/* ---- quantization ---- */

static void test_quantization(void) {
  enum { N = 4096 };
  static float x[N], back[N];
  static int8_t q8[N];
  static uint8_t q4[N / 2];
  static float s[N / 32];
  for (int gs = 32; gs <= 64; gs *= 2) {
    fill(x, N, 3.0f);
    x[5] = 0.0f;
    for (int i = 0; i < gs; i++) x[gs + i] = 0.0f; /* an all-zero group */
    em_quantize_q8(q8, s, x, N, gs);
    em_dequantize_q8(back, q8, s, N, gs);
    int bad = 0;
    for (int i = 0; i < N; i++) {
      float scale = s[i / gs];
      if (fabsf(back[i] - x[i]) > scale * 0.5f * 1.0001f || q8[i] < -127) bad++;
    }
    CHECKF(bad == 0, "q8 gs=%d: %d values off by more than half a step", gs, bad);
    CHECK(s[1] == 0.0f && back[gs] == 0.0f);

    em_quantize_q4(q4, s, x, N, gs);
    em_dequantize_q4(back, q4, s, N, gs);
    bad = 0;
    for (int i = 0; i < N; i++) {
      if (fabsf(back[i] - x[i]) > s[i / gs] * 0.5f * 1.0001f) bad++;
    }
    CHECKF(bad == 0, "q4 gs=%d: %d values off by more than half a step", gs, bad);
  }
  /* Nibble order and sign: element 0 in the low nibble. */
  float pair[2] = {-7.0f, 7.0f}, one_scale;
  uint8_t packed;
  em_quantize_q4(&packed, &one_scale, pair, 2, 2);
  CHECK(packed == 0x79 && one_scale == 1.0f);
}

/* ---- matvec ---- */

typedef struct chunked {
  int chunks;
} chunked;

/* A parallel-for that runs uneven chunks in reverse order (as cores finishing out of order). */
static void chunked_for(em_task_fn fn, void *ctx, int n, void *user) {
  int chunks = ((chunked *)user)->chunks;
  for (int c = chunks - 1; c >= 0; c--) fn(ctx, n * c / chunks, n * (c + 1) / chunks);
}

static void test_matvec(void) {
  enum { D = 67, N = 128 };
  static float w[D * N], x[N], out[D], out_par[D], wdeq[D * N], xdeq[N];
  static uint16_t w16[D * N];
  static int8_t w8[D * N], x8[N];
  static uint8_t w4[D * N / 2];
  static float ws[D * N / 32], xs[N / 32];
  double ref[D];
  fill(w, D * N, 0.5f);
  fill(x, N, 2.0f);
  chunked three = {3};
  em_parallel par = {chunked_for, &three};

  for (int i = 0; i < D; i++) {
    ref[i] = 0;
    for (int j = 0; j < N; j++) ref[i] += (double)w[i * N + j] * x[j];
  }
  em_matrix m32 = {EM_F32, w, NULL, D, N, 0};
  em_matmul(NULL, out, &m32, x, NULL);
  CHECKF(max_abs_diff(out, ref, D) < 1e-4, "f32 matvec off by %g", max_abs_diff(out, ref, D));
  em_matmul(&par, out_par, &m32, x, NULL);
  CHECK(memcmp(out, out_par, sizeof out) == 0);

  for (int i = 0; i < D * N; i++) w16[i] = em_f32_to_f16(w[i]);
  for (int i = 0; i < D; i++) {
    ref[i] = 0;
    for (int j = 0; j < N; j++) ref[i] += (double)em_f16_to_f32(w16[i * N + j]) * x[j];
  }
  em_matrix m16 = {EM_F16, w16, NULL, D, N, 0};
  em_matmul(&par, out, &m16, x, NULL);
  CHECKF(max_abs_diff(out, ref, D) < 1e-4, "f16 matvec off by %g", max_abs_diff(out, ref, D));

  /* q8 / q4: against the double product of the dequantized weights and activations. */
  em_qvec xq = {x8, xs, N, 32};
  em_quantize_q8(x8, xs, x, N, 32);
  em_dequantize_q8(xdeq, x8, xs, N, 32);
  em_quantize_q8(w8, ws, w, D * N, 32);
  em_dequantize_q8(wdeq, w8, ws, D * N, 32);
  for (int i = 0; i < D; i++) {
    ref[i] = 0;
    for (int j = 0; j < N; j++) ref[i] += (double)wdeq[i * N + j] * xdeq[j];
  }
  em_matrix m8 = {EM_Q8, w8, ws, D, N, 32};
  em_matmul(&par, out, &m8, NULL, &xq);
  CHECKF(max_abs_diff(out, ref, D) < 1e-4, "q8 matvec off by %g", max_abs_diff(out, ref, D));

  em_quantize_q4(w4, ws, w, D * N, 32);
  em_dequantize_q4(wdeq, w4, ws, D * N, 32);
  for (int i = 0; i < D; i++) {
    ref[i] = 0;
    for (int j = 0; j < N; j++) ref[i] += (double)wdeq[i * N + j] * xdeq[j];
  }
  em_matrix m4 = {EM_Q4, w4, ws, D, N, 32};
  em_matmul(&par, out, &m4, NULL, &xq);
  CHECKF(max_abs_diff(out, ref, D) < 1e-4, "q4 matvec off by %g", max_abs_diff(out, ref, D));

  /* Row lookup in every format equals the dequantized row. */
  float row[N];
  em_matrix_row(row, &m4, 5);
  CHECK(memcmp(row, wdeq + 5 * N, sizeof row) == 0);
  em_matrix_row(row, &m16, 7);
  CHECK(row[3] == em_f16_to_f32(w16[7 * N + 3]));
}

/* ---- elementwise kernels ---- */

static void test_norm_softmax_swiglu(void) {
  enum { N = 100 };
  float x[N], wt[N], out[N], g[N];
  double ref[N];
  fill(x, N, 4.0f);
  fill(wt, N, 1.5f);
  fill(g, N, 2.0f);
  double ss = 0;
  for (int i = 0; i < N; i++) ss += (double)x[i] * x[i];
  double inv = 1.0 / sqrt(ss / N + 1e-5);
  for (int i = 0; i < N; i++) ref[i] = x[i] * inv * wt[i];
  em_rmsnorm(out, x, wt, N, 1e-5f);
  CHECK(max_abs_diff(out, ref, N) < 1e-5);
  for (int i = 0; i < N; i++) ref[i] = x[i] * inv;
  em_rmsnorm(out, x, NULL, N, 1e-5f);
  CHECK(max_abs_diff(out, ref, N) < 1e-5);

  double mx = -1e30, sum = 0;
  for (int i = 0; i < N; i++) mx = fmax(mx, x[i]);
  for (int i = 0; i < N; i++) sum += exp(x[i] - mx);
  for (int i = 0; i < N; i++) ref[i] = exp(x[i] - mx) / sum;
  memcpy(out, x, sizeof out);
  em_softmax(out, N);
  CHECK(max_abs_diff(out, ref, N) < 1e-7);

  for (int i = 0; i < N; i++) ref[i] = x[i] / (1.0 + exp(-(double)x[i])) * g[i];
  memcpy(out, x, sizeof out);
  em_swiglu(out, g, N);
  CHECK(max_abs_diff(out, ref, N) < 1e-5);

  float a[4] = {1, 2, 3, 4}, b[4] = {0.5f, -2, 1, 0};
  em_add(a, b, 4);
  CHECK(a[0] == 1.5f && a[1] == 0.0f && a[2] == 4.0f && a[3] == 4.0f);
}

/* ---- RoPE ---- */

static void test_rope(void) {
  enum { HEADS = 3, HS = 16 };
  float c[HS / 2], s[HS / 2], v[HEADS * HS], orig[HEADS * HS];
  double ref[HEADS * HS];
  int pos = 37;
  em_rope_angles(c, s, HS, pos, 10000.0f);
  double worst_angle = 0;
  for (int p = 0; p < HS / 2; p++) {
    double angle = pos * pow(10000.0, -2.0 * p / HS);
    worst_angle = fmax(worst_angle, fmax(fabs(c[p] - cos(angle)), fabs(s[p] - sin(angle))));
  }
  CHECKF(worst_angle < 1e-5, "rope angles off by %g", worst_angle);

  fill(orig, HEADS * HS, 1.0f);
  for (int h = 0; h < HEADS; h++) {
    for (int p = 0; p < HS / 2; p++) {
      double a = orig[h * HS + 2 * p], b = orig[h * HS + 2 * p + 1];
      ref[h * HS + 2 * p] = a * c[p] - b * s[p];
      ref[h * HS + 2 * p + 1] = a * s[p] + b * c[p];
    }
  }
  memcpy(v, orig, sizeof v);
  em_rope_interleaved(v, HEADS, HS, c, s);
  CHECK(max_abs_diff(v, ref, HEADS * HS) < 1e-6);

  for (int h = 0; h < HEADS; h++) {
    for (int p = 0; p < HS / 2; p++) {
      double a = orig[h * HS + p], b = orig[h * HS + p + HS / 2];
      ref[h * HS + p] = a * c[p] - b * s[p];
      ref[h * HS + p + HS / 2] = a * s[p] + b * c[p];
    }
  }
  memcpy(v, orig, sizeof v);
  em_rope_split(v, HEADS, HS, c, s);
  CHECK(max_abs_diff(v, ref, HEADS * HS) < 1e-6);
  /* Rotation keeps each pair's length. */
  double n0 = 0, n1 = 0;
  for (int i = 0; i < HEADS * HS; i++) {
    n0 += (double)orig[i] * orig[i];
    n1 += (double)v[i] * v[i];
  }
  CHECK(fabs(n0 - n1) < 1e-5);
}

/* ---- attention ---- */

static void naive_attention(double *out, const float *q, const float *kc, const float *vc,
                            int n_heads, int n_kv, int hs, int pos, int window) {
  int kv_dim = n_kv * hs;
  for (int h = 0; h < n_heads; h++) {
    int kvh = h / (n_heads / n_kv);
    int t0 = (window > 0 && pos - window + 1 > 0) ? pos - window + 1 : 0;
    double scores[64], mx = -1e300, sum = 0;
    for (int t = t0; t <= pos; t++) {
      double d = 0;
      for (int i = 0; i < hs; i++) d += (double)q[h * hs + i] * kc[t * kv_dim + kvh * hs + i];
      scores[t] = d / sqrt((double)hs);
      mx = fmax(mx, scores[t]);
    }
    for (int t = t0; t <= pos; t++) sum += exp(scores[t] - mx);
    for (int i = 0; i < hs; i++) out[h * hs + i] = 0;
    for (int t = t0; t <= pos; t++) {
      double a = exp(scores[t] - mx) / sum;
      for (int i = 0; i < hs; i++) out[h * hs + i] += a * vc[t * kv_dim + kvh * hs + i];
    }
  }
}

static void test_attention(void) {
  enum { HEADS = 8, KV = 2, HS = 8, T = 40 };
  static float q[HEADS * HS], kc[T * KV * HS], vc[T * KV * HS], att[HEADS * T], out[HEADS * HS];
  double ref[HEADS * HS];
  fill(q, HEADS * HS, 1.0f);
  fill(kc, T * KV * HS, 1.0f);
  fill(vc, T * KV * HS, 1.0f);
  chunked five = {5};
  em_parallel par = {chunked_for, &five};
  int windows[3] = {0, 7, 64};
  for (int w = 0; w < 3; w++) {
    for (int pos = 0; pos < T; pos += 13) {
      em_attention_args a = {out,   q,  kc, vc,  att,        T,
                             HEADS, KV, HS, pos, windows[w], sqrtf((float)HS)};
      em_attention(w == 1 ? &par : NULL, &a);
      naive_attention(ref, q, kc, vc, HEADS, KV, HS, pos, windows[w]);
      CHECKF(max_abs_diff(out, ref, HEADS * HS) < 1e-5, "attention window=%d pos=%d off by %g",
             windows[w], pos, max_abs_diff(out, ref, HEADS * HS));
    }
  }
}

/* ---- arena ---- */

static void test_arena(void) {
  static uint8_t buf[256];
  em_arena a;
  em_arena_init(&a, buf + 1, 200); /* deliberately misaligned base */
  uint8_t *p = em_arena_alloc(&a, 10, 1);
  CHECK(p == buf + 1);
  size_t mark = em_arena_mark(&a);
  uint8_t *q = em_arena_alloc(&a, 16, 16);
  CHECK(q && ((uintptr_t)q & 15) == 0);
  CHECK(em_arena_alloc(&a, 1000, 4) == NULL);                    /* too big */
  CHECK(em_arena_alloc(&a, 8, 3) == NULL);                       /* not a power of two */
  CHECK(em_arena_alloc_array(&a, (size_t)-1 / 2, 4, 4) == NULL); /* count * size overflows */
  size_t used = em_arena_used(&a);
  em_arena_reset(&a, mark);
  CHECK(em_arena_used(&a) == 10 && em_arena_peak(&a) == used);
  CHECK(em_arena_alloc(&a, 190, 1) != NULL && em_arena_alloc(&a, 1, 1) == NULL);
  CHECK(em_arena_used(&a) == 200);
}

int main(void) {
  test_f16();
  test_quantization();
  test_matvec();
  test_norm_softmax_swiglu();
  test_rope();
  test_attention();
  test_arena();
  return finish();
}
