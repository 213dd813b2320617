/* Compute kernels. kernels.c is the portable reference; the hot ones (kernels_ref.h) may come
 * from a faster file for one architecture (engines/kernels/<arch>/hot_kernels.c), which must
 * pass the same tests. Kernels are serial; ops.h spreads them over cores.
 *
 * Matrices are row-major with `rows` outputs and `cols` inputs: out[i] = sum_j W[i][j] x[j].
 * Quantized formats group `group_size` consecutive values of a row under one fp32 scale:
 *   q8: int8 values in [-127, 127], value = q * scale   (llama2.c "Q8_0")
 *   q4: int4 values in [-8, 7] packed two per byte (element 2k in the low nibble, 2k+1 in
 *       the high nibble, two's complement), value = q * scale, quantized with scale=max/7.
 * Matvecs over quantized weights take int8-quantized activations (em_qvec) with the same
 * group size, as llama2.c's runq.c does. */
#ifndef ENGINE_KERNELS_H_
#define ENGINE_KERNELS_H_

#include <stdint.h>

typedef enum em_dtype { EM_F32, EM_F16, EM_Q8, EM_Q4 } em_dtype;

/* A weight matrix (rows, cols) in one of the formats above. */
typedef struct em_matrix {
  em_dtype dtype;
  const void *data;    /* f32: float[rows*cols]  f16: uint16_t[rows*cols]
                          q8: int8_t[rows*cols]  q4: uint8_t[rows*cols/2] */
  const float *scales; /* q8/q4: float[rows*cols/group_size]; NULL otherwise */
  int rows, cols;
  int group_size; /* q8/q4: divides cols (q4: also even); 0 otherwise */
} em_matrix;

/* An int8-quantized vector: q[n], one scale per group of group_size. */
typedef struct em_qvec {
  int8_t *q;
  float *s;
  int n, group_size;
} em_qvec;

/* IEEE binary16 <-> binary32 in software (round to nearest even; inf/NaN/subnormals kept). */
float em_f16_to_f32(uint16_t h);
uint16_t em_f32_to_f16(float f);

/* Symmetric int8 group quantization of x[n] into q[n] and s[n/gs]. */
void em_quantize_q8(int8_t *q, float *s, const float *x, int n, int group_size);
/* Symmetric int4 group quantization of x[n] into q[n/2] packed bytes and s[n/gs]. */
void em_quantize_q4(uint8_t *q, float *s, const float *x, int n, int group_size);
void em_dequantize_q8(float *out, const int8_t *q, const float *s, int n, int group_size);
void em_dequantize_q4(float *out, const uint8_t *q, const float *s, int n, int group_size);

/* out[0..cols) = row `row` of w, converted to fp32 (embedding lookup in any format). */
void em_matrix_row(float *out, const em_matrix *w, int row);

/* out[i] = W[i] . x for rows i in [row_begin, row_end); n = cols. */
void em_matvec_f32_rows(float *out, const float *x, const float *w, int n, int row_begin,
                        int row_end);
void em_matvec_f16_rows(float *out, const float *x, const uint16_t *w, int n, int row_begin,
                        int row_end);
void em_matvec_q8_rows(float *out, const em_qvec *x, const int8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end);
void em_matvec_q4_rows(float *out, const em_qvec *x, const uint8_t *w, const float *w_scales, int n,
                       int row_begin, int row_end);

/* out = x / sqrt(mean(x^2) + eps) * weight; weight may be NULL (no learned gain). out may be x. */
void em_rmsnorm(float *out, const float *x, const float *weight, int n, float eps);

/* x = softmax(x), subtracting the max first. */
void em_softmax(float *x, int n);

/* RoPE angles for one position: for pair p in [0, head_size/2),
 * angle = pos / theta^(2p/head_size); fills cos_out[p] and sin_out[p]. */
void em_rope_angles(float *cos_out, float *sin_out, int head_size, int pos, float theta);

/* Rotates each head of v[n_heads*head_size] by the angles.
 * interleaved (llama2.c, Meta): pairs (v[2p], v[2p+1]).
 * split halves (Hugging Face, nanochat): pairs (v[p], v[p + head_size/2]).
 * Rotation is (a, b) -> (a cos - b sin, a sin + b cos); pass -sin to rotate by -angle. */
void em_rope_interleaved(float *v, int n_heads, int head_size, const float *cos, const float *sin);
void em_rope_split(float *v, int n_heads, int head_size, const float *cos, const float *sin);

/* One attention head over cached positions [t_begin, t_end]:
 *   att[t] = (q . k_t) / divisor;  att = softmax(att[t_begin..t_end]);  out = sum_t att[t] v_t.
 * k_t = k_cache + t * stride, v_t = v_cache + t * stride; att has room for t_end + 1 floats. */
void em_attention_head(float *out, const float *q, const float *k_cache, const float *v_cache,
                       int stride, int head_size, int t_begin, int t_end, float divisor,
                       float *att);

/* h[i] = silu(h[i]) * g[i] (the SwiGLU gate). */
void em_swiglu(float *h, const float *g, int n);

/* x[i] += y[i] (residual connection). */
void em_add(float *x, const float *y, int n);

#endif /* ENGINE_KERNELS_H_ */
