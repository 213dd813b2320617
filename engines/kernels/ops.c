/* Tensor operations: split rows (matmul) or heads (attention) over the parallel hook. */
#include "engine/ops.h"

#include <stddef.h>

typedef struct matmul_task {
  float *out;
  const em_matrix *w;
  const float *x_f32;
  const em_qvec *x_q;
  int out_stride, x_stride, batch;
} matmul_task;

/* Rows [begin, end) of out = w x for one input. */
static void matvec_rows(const em_matrix *w, float *out, const float *x_f32, const em_qvec *x_q,
                        int begin, int end) {
  switch (w->dtype) {
    case EM_F32:
      em_matvec_f32_rows(out, x_f32, (const float *)w->data, w->cols, begin, end);
      break;
    case EM_F16:
      em_matvec_f16_rows(out, x_f32, (const uint16_t *)w->data, w->cols, begin, end);
      break;
    case EM_Q8:
      em_matvec_q8_rows(out, x_q, (const int8_t *)w->data, w->scales, w->cols, begin, end);
      break;
    case EM_Q4:
      em_matvec_q4_rows(out, x_q, (const uint8_t *)w->data, w->scales, w->cols, begin, end);
      break;
  }
}

/* Bytes of weight rows a batch works through at a time: small enough to stay in the L1 or L2
 * cache of every board while each input of the block passes over them. */
enum { BATCH_ROW_BYTES = 16 * 1024 };

static int bytes_per_row(const em_matrix *w) {
  switch (w->dtype) {
    case EM_F32:
      return 4 * w->cols;
    case EM_F16:
      return 2 * w->cols;
    case EM_Q8:
      return w->cols + 4 * w->cols / w->group_size;
    default:
      return w->cols / 2 + 4 * w->cols / w->group_size;
  }
}

static void matmul_rows(void *ctx, int begin, int end) {
  const matmul_task *t = (const matmul_task *)ctx;
  if (t->batch == 1) {
    matvec_rows(t->w, t->out, t->x_f32, t->x_q, begin, end);
    return;
  }
  int step = BATCH_ROW_BYTES / bytes_per_row(t->w);
  if (step < 1) step = 1;
  for (int r = begin; r < end; r += step) {
    int r_end = r + step < end ? r + step : end;
    for (int b = 0; b < t->batch; b++)
      matvec_rows(t->w, t->out + (size_t)b * t->out_stride,
                  t->x_f32 ? t->x_f32 + (size_t)b * t->x_stride : NULL, t->x_q ? t->x_q + b : NULL,
                  r, r_end);
  }
}

void em_matmul(const em_parallel *par, float *out, const em_matrix *w, const float *x_f32,
               const em_qvec *x_q) {
  matmul_task task = {out, w, x_f32, x_q, 0, 0, 1};
  em_parallel_run(par, matmul_rows, &task, w->rows);
}

void em_matmul_batch(const em_parallel *par, float *out, int out_stride, const em_matrix *w,
                     const float *x_f32, int x_stride, const em_qvec *x_q, int batch) {
  matmul_task task = {out, w, x_f32, x_q, out_stride, x_stride, batch};
  em_parallel_run(par, matmul_rows, &task, w->rows);
}

void em_linear(const em_parallel *par, float *out, int out_stride, const em_matrix *w,
               const float *x, em_qvec *xq, int n) {
  if (w->dtype == EM_Q8 || w->dtype == EM_Q4) {
    for (int b = 0; b < n; b++) {
      xq[b].n = w->cols;
      xq[b].group_size = w->group_size;
      em_quantize_q8(xq[b].q, xq[b].s, x + (size_t)b * w->cols, w->cols, w->group_size);
    }
  }
  em_matmul_batch(par, out, out_stride, w, x, w->cols, xq, n);
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
