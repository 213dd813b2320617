/* Whole-tensor operations that spread the kernels of kernels.h over a parallel-for hook. */
#ifndef ENGINE_OPS_H_
#define ENGINE_OPS_H_

#include "engine/kernels.h"
#include "engine/parallel.h"

/* out[rows] = w x. For f32/f16 weights x_f32 is used; for q8/q4 weights x_q must hold x
 * quantized with em_quantize_q8 at w->group_size. */
void em_matmul(const em_parallel *par, float *out, const em_matrix *w, const float *x_f32,
               const em_qvec *x_q);

/* The same for a block of `batch` inputs (a prompt's tokens): out + b * out_stride receives
 * w (x + b * x_stride), and for q8/q4 weights x_q[b] holds that input quantized. Each block
 * of weight rows is read once for every input while it is in cache, by the matvec kernels
 * above, so each output has exactly the bits em_matmul gives it. */
void em_matmul_batch(const em_parallel *par, float *out, int out_stride, const em_matrix *w,
                     const float *x_f32, int x_stride, const em_qvec *x_q, int batch);

/* A layer's projection for n inputs (rows of w->cols floats): out + b * out_stride receives
 * w (x + b * w->cols). For q8/q4 weights each input is first quantized into xq[b] (n of them,
 * each with room for w->cols values). */
void em_linear(const em_parallel *par, float *out, int out_stride, const em_matrix *w,
               const float *x, em_qvec *xq, int n);

/* Multi-head attention of one query position `pos` over a KV cache, heads in parallel.
 *   q:       (n_heads, head_size)
 *   k_cache: (positions, n_kv_heads * head_size), v_cache the same
 *   att:     (n_heads, att_stride) scratch, att_stride >= pos + 1
 *   out:     (n_heads, head_size)
 * Query head h reads kv head h / (n_heads / n_kv_heads) (grouped-query attention).
 * window > 0 limits attention to the last `window` positions (sliding window); 0 = all. */
typedef struct em_attention_args {
  float *out;
  const float *q, *k_cache, *v_cache;
  float *att;
  int att_stride;
  int n_heads, n_kv_heads, head_size;
  int pos, window;
  float score_divisor; /* usually sqrt(head_size); a division, as in llama2.c, so that its
                        * runs are reproduced bit for bit */
} em_attention_args;
void em_attention(const em_parallel *par, const em_attention_args *args);

#endif /* ENGINE_OPS_H_ */
