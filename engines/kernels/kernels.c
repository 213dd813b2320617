/* The portable reference kernels: deliberately simple loops (see kernels.h for contracts), the
 * oracle every faster kernel is tested against. The hot ones an architecture may replace are
 * named em_ref_* (kernels_ref.h) and reached as em_* through hot_kernels.c or <arch>/hot_kernels.c.
 */
#include "engine/kernels.h"

#include <stddef.h>

#include "engine/kernels_ref.h"
#include "engine/mathf.h"

/* ---- fp16 ---- */

static float float_of(uint32_t u) {
  float f;
  __builtin_memcpy(&f, &u, sizeof f);
  return f;
}

static uint32_t bits_of(float f) {
  uint32_t u;
  __builtin_memcpy(&u, &f, sizeof u);
  return u;
}

float em_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return float_of(sign | 0x7f800000u | (mantissa << 13)); /* inf, NaN */
  if (exponent == 0) {
    if (mantissa == 0) return float_of(sign);
    int e = -14; /* subnormal: shift the leading 1 into the implicit bit */
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      e--;
    }
    return float_of(sign | ((uint32_t)(e + 127) << 23) | ((mantissa & 0x3ffu) << 13));
  }
  return float_of(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

/* Drops the low `shift` bits of v, rounding to nearest, ties to even. */
static uint32_t shift_round_even(uint32_t v, int shift) {
  uint32_t kept = v >> shift;
  uint32_t rest = v & ((1u << shift) - 1u);
  uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (kept & 1u))) kept++;
  return kept;
}

uint16_t em_f32_to_f16(float f) {
  uint32_t u = bits_of(f);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu)); /* quiet NaN */
  if (a >= 0x47800000u) return (uint16_t)(sign | 0x7c00u);                       /* >= 65536: inf */
  if (a < 0x38800000u) {              /* half subnormal or 0 */
    if (a < 0x33000000u) return sign; /* below 2^-25: 0 */
    uint32_t mantissa = (a & 0x7fffffu) | 0x800000u;
    int shift = 126 - (int)(a >> 23);
    return (uint16_t)(sign | shift_round_even(mantissa, shift));
  }
  /* Normal: rebias the exponent (127 -> 15) and round off 13 mantissa bits; a carry
   * into the exponent is the correct result (up to inf). */
  return (uint16_t)(sign | shift_round_even(a - (112u << 23), 13));
}

/* ---- quantization ---- */

static float group_absmax(const float *x, int n) {
  float m = 0.0f;
  for (int i = 0; i < n; i++) {
    float a = em_fabsf(x[i]);
    if (a > m) m = a;
  }
  return m;
}

static int8_t clamp_int8(float v) {
  return v > 127.0f ? 127 : (v < -127.0f ? -127 : (v == v ? (int8_t)v : 0));
}

void em_ref_quantize_q8(int8_t *q, float *s, const float *x, int n, int group_size) {
  for (int g = 0; g < n / group_size; g++) {
    const float *xg = x + (size_t)g * group_size;
    float scale = group_absmax(xg, group_size) / 127.0f;
    s[g] = scale;
    for (int i = 0; i < group_size; i++) {
      q[(size_t)g * group_size + i] = scale == 0.0f ? 0 : clamp_int8(em_roundf(xg[i] / scale));
    }
  }
}

/* Non-finite activations (inf/NaN weights in a damaged file) give 0 instead of undefined
 * float-to-int conversions; finite inputs are unchanged (|x / scale| <= 127 or 7 already). */
static int clamp_int4(float v) { return v > 7.0f ? 7 : (v < -8.0f ? -8 : (v == v ? (int)v : 0)); }

void em_quantize_q4(uint8_t *q, float *s, const float *x, int n, int group_size) {
  for (int g = 0; g < n / group_size; g++) {
    const float *xg = x + (size_t)g * group_size;
    float scale = group_absmax(xg, group_size) / 7.0f;
    s[g] = scale;
    for (int i = 0; i < group_size; i += 2) {
      int lo = scale == 0.0f ? 0 : clamp_int4(em_roundf(xg[i] / scale));
      int hi = scale == 0.0f ? 0 : clamp_int4(em_roundf(xg[i + 1] / scale));
      q[((size_t)g * group_size + i) / 2] = (uint8_t)((lo & 0xf) | ((hi & 0xf) << 4));
    }
  }
}

/* Signed value of a 4-bit two's complement nibble. */
static int int4_value(unsigned nibble) { return (int)(nibble & 0xfu) - ((nibble & 0x8u) ? 16 : 0); }

void em_dequantize_q8(float *out, const int8_t *q, const float *s, int n, int group_size) {
  for (int i = 0; i < n; i++) out[i] = (float)q[i] * s[i / group_size];
}

void em_dequantize_q4(float *out, const uint8_t *q, const float *s, int n, int group_size) {
  for (int i = 0; i < n; i++) {
    out[i] = (float)int4_value(q[i / 2] >> (4 * (i & 1))) * s[i / group_size];
  }
}

void em_matrix_row(float *out, const em_matrix *w, int row) {
  size_t start = (size_t)row * (size_t)w->cols;
  int n = w->cols, gs = w->group_size;
  switch (w->dtype) {
    case EM_F32:
      for (int j = 0; j < n; j++) out[j] = ((const float *)w->data)[start + j];
      break;
    case EM_F16:
      for (int j = 0; j < n; j++) out[j] = em_f16_to_f32(((const uint16_t *)w->data)[start + j]);
      break;
    case EM_Q8:
      em_dequantize_q8(out, (const int8_t *)w->data + start, w->scales + start / gs, n, gs);
      break;
    case EM_Q4:
      em_dequantize_q4(out, (const uint8_t *)w->data + start / 2, w->scales + start / gs, n, gs);
      break;
  }
}

/* ---- matrix-vector products ---- */

void em_ref_matvec_f32_rows(float *out, const float *x, const float *w, int n, int row_begin,
                            int row_end) {
  for (int i = row_begin; i < row_end; i++) {
    const float *row = w + (size_t)i * n;
    float sum = 0.0f;
    for (int j = 0; j < n; j++) sum += row[j] * x[j];
    out[i] = sum;
  }
}

void em_ref_matvec_f16_rows(float *out, const float *x, const uint16_t *w, int n, int row_begin,
                            int row_end) {
  for (int i = row_begin; i < row_end; i++) {
    const uint16_t *row = w + (size_t)i * n;
    float sum = 0.0f;
    for (int j = 0; j < n; j++) sum += em_f16_to_f32(row[j]) * x[j];
    out[i] = sum;
  }
}

void em_ref_matvec_q8_rows(float *out, const em_qvec *x, const int8_t *w, const float *w_scales,
                           int n, int row_begin, int row_end) {
  int gs = x->group_size;
  for (int i = row_begin; i < row_end; i++) {
    const int8_t *row = w + (size_t)i * n;
    const float *row_scales = w_scales + (size_t)i * (n / gs);
    float sum = 0.0f;
    for (int g = 0; g < n / gs; g++) {
      int32_t acc = 0;
      for (int k = 0; k < gs; k++) acc += (int32_t)x->q[g * gs + k] * (int32_t)row[g * gs + k];
      sum += (float)acc * row_scales[g] * x->s[g];
    }
    out[i] = sum;
  }
}

void em_ref_matvec_q4_rows(float *out, const em_qvec *x, const uint8_t *w, const float *w_scales,
                           int n, int row_begin, int row_end) {
  int gs = x->group_size;
  for (int i = row_begin; i < row_end; i++) {
    const uint8_t *row = w + (size_t)i * (n / 2);
    const float *row_scales = w_scales + (size_t)i * (n / gs);
    float sum = 0.0f;
    for (int g = 0; g < n / gs; g++) {
      int32_t acc = 0;
      for (int k = 0; k < gs; k += 2) {
        uint8_t b = row[(g * gs + k) / 2];
        acc += (int32_t)x->q[g * gs + k] * int4_value(b);
        acc += (int32_t)x->q[g * gs + k + 1] * int4_value(b >> 4);
      }
      sum += (float)acc * row_scales[g] * x->s[g];
    }
    out[i] = sum;
  }
}

/* ---- normalisation, softmax, activations ---- */

void em_rmsnorm(float *out, const float *x, const float *weight, int n, float eps) {
  float ss = 0.0f;
  for (int j = 0; j < n; j++) ss += x[j] * x[j];
  ss /= (float)n;
  ss += eps;
  ss = 1.0f / em_sqrtf(ss);
  for (int j = 0; j < n; j++) out[j] = weight ? weight[j] * (ss * x[j]) : ss * x[j];
}

void em_softmax(float *x, int n) {
  float max_val = x[0];
  for (int i = 1; i < n; i++) {
    if (x[i] > max_val) max_val = x[i];
  }
  float sum = 0.0f;
  for (int i = 0; i < n; i++) {
    x[i] = em_expf(x[i] - max_val);
    sum += x[i];
  }
  for (int i = 0; i < n; i++) x[i] /= sum;
}

void em_swiglu(float *h, const float *g, int n) {
  for (int i = 0; i < n; i++) {
    float v = h[i];
    v *= 1.0f / (1.0f + em_expf(-v));
    h[i] = v * g[i];
  }
}

void em_add(float *x, const float *y, int n) {
  for (int i = 0; i < n; i++) x[i] += y[i];
}

/* ---- rotary position embedding ---- */

void em_rope_angles(float *cos_out, float *sin_out, int head_size, int pos, float theta) {
  for (int p = 0; p < head_size / 2; p++) {
    float freq = 1.0f / em_powf(theta, (float)(2 * p) / (float)head_size);
    float angle = (float)pos * freq;
    cos_out[p] = em_cosf(angle);
    sin_out[p] = em_sinf(angle);
  }
}

static void rotate_pair(float *a, float *b, float c, float s) {
  float a0 = *a, b0 = *b;
  *a = a0 * c - b0 * s;
  *b = a0 * s + b0 * c;
}

void em_rope_interleaved(float *v, int n_heads, int head_size, const float *cos, const float *sin) {
  for (int h = 0; h < n_heads; h++) {
    float *head = v + (size_t)h * head_size;
    for (int p = 0; p < head_size / 2; p++)
      rotate_pair(&head[2 * p], &head[2 * p + 1], cos[p], sin[p]);
  }
}

void em_rope_split(float *v, int n_heads, int head_size, const float *cos, const float *sin) {
  int half = head_size / 2;
  for (int h = 0; h < n_heads; h++) {
    float *head = v + (size_t)h * head_size;
    for (int p = 0; p < half; p++) rotate_pair(&head[p], &head[p + half], cos[p], sin[p]);
  }
}

/* ---- attention ---- */

void em_ref_attention_head(float *out, const float *q, const float *k_cache, const float *v_cache,
                           int stride, int head_size, int t_begin, int t_end, float divisor,
                           float *att) {
  for (int t = t_begin; t <= t_end; t++) {
    const float *k = k_cache + (size_t)t * stride;
    float score = 0.0f;
    for (int i = 0; i < head_size; i++) score += q[i] * k[i];
    att[t] = score / divisor;
  }
  em_softmax(att + t_begin, t_end - t_begin + 1);
  for (int i = 0; i < head_size; i++) out[i] = 0.0f;
  for (int t = t_begin; t <= t_end; t++) {
    const float *v = v_cache + (size_t)t * stride;
    float a = att[t];
    for (int i = 0; i < head_size; i++) out[i] += a * v[i];
  }
}
