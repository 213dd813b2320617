/* Tensor operations: split rows (matmul) or heads (attention) over the parallel hook. */
#include "engine/ops.h"

#include <stddef.h>

typedef struct matmul_task {
  float *out;
  const em_matrix *w;
  const float *x_f32;
  const em_qvec *x_q;
} matmul_task;

static void matmul_rows(void *ctx, int begin, int end) {
  const matmul_task *t = (const matmul_task *)ctx;
  const em_matrix *w = t->w;
  switch (w->dtype) {
    case EM_F32:
      em_matvec_f32_rows(t->out, t->x_f32, (const float *)w->data, w->cols, begin, end);
      break;
    case EM_F16:
      em_matvec_f16_rows(t->out, t->x_f32, (const uint16_t *)w->data, w->cols, begin, end);
      break;
    case EM_Q8:
      em_matvec_q8_rows(t->out, t->x_q, (const int8_t *)w->data, w->scales, w->cols, begin, end);
      break;
    case EM_Q4:
      em_matvec_q4_rows(t->out, t->x_q, (const uint8_t *)w->data, w->scales, w->cols, begin, end);
      break;
  }
}

void em_matmul(const em_parallel *par, float *out, const em_matrix *w, const float *x_f32,
               const em_qvec *x_q) {
  matmul_task task = {out, w, x_f32, x_q};
  em_parallel_run(par, matmul_rows, &task, w->rows);
}

static void attention_heads(void *ctx, int begin, int end) {
  const em_attention_args *a = (const em_attention_args *)ctx;
  int kv_dim = a->n_kv_heads * a->head_size;
  int heads_per_kv = a->n_heads / a->n_kv_heads;
  int t_begin = (a->window > 0 && a->pos >= a->window) ? a->pos - a->window + 1 : 0;
  for (int h = begin; h < end; h++) {
    size_t kv_offset = (size_t)(h / heads_per_kv) * a->head_size;
    em_attention_head(a->out + (size_t)h * a->head_size, a->q + (size_t)h * a->head_size,
                      a->k_cache + kv_offset, a->v_cache + kv_offset, kv_dim, a->head_size, t_begin,
                      a->pos, a->score_divisor, a->att + (size_t)h * a->att_stride);
  }
}

void em_attention(const em_parallel *par, const em_attention_args *args) {
  em_parallel_run(par, attention_heads, (void *)args, args->n_heads);
}
