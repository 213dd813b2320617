/* Engine benchmark (not a test): tokens/s of the Llama engine on llama2.c-shaped models and of
 * the nanochat engine on the nanochat d12 shape, with random weights from a seed, in fp32,
 * fp16, q8 and q4, on one thread and on all threads, and the weight bytes each token streams;
 * then each matvec kernel of this build against the portable reference (the fast-path
 * benchmark STYLE.md asks for).
 *
 *   bazel run -c opt //tools/bench:engines [-- options]     (options: kUsage, or --help)
 * Greedy decoding (argmax) from token 1; the model's weights are the caller's buffer (read in
 * place) and everything else comes from the engine's arena, as on a board. Llama fp16 and q4
 * models are the fp32 / q8 model with every matrix but the embedding converted; nanochat
 * containers are written in each format directly (make_nanochat). */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/crc32.h"
#include "engine/arena.h"
#include "engine/kernels.h"
#include "engine/kernels_ref.h"
#include "engine/session.h"
#include "host/memory.h"
#include "host/parallel.h"
#include "llama/llama.h"
#include "nanochat/nanochat.h"

typedef struct shape {
  const char *name;
  int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
} shape;

static const shape kShapes[] = {
    {"stories15M", 288, 768, 6, 6, 6, 32000, 256},
    {"stories110M", 768, 2048, 12, 12, 12, 32000, 256},
};

/* Group size of the q8 / q4 models: 64, halved until it divides dim and hidden_dim (what
 * llama2.c's export does: 32 for stories15M). */
static int g_group = 64;

static int group_for(const shape *s) {
  int gs = 64;
  while (s->dim % gs != 0 || s->hidden_dim % gs != 0) gs /= 2;
  return gs;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t g_rng;

static uint32_t next_u32(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return (uint32_t)(g_rng >> 32);
}

static float frand(float scale) { return ((float)(next_u32() >> 8) / 8388608.0f - 1.0f) * scale; }

static bool g_huge_pages = true; /* off with --no-huge-pages */

static void *xmalloc(size_t n) {
  void *p = host_alloc(n, g_huge_pages);
  if (!p) {
    fprintf(stderr, "out of memory (%zu bytes)\n", n);
    exit(1);
  }
  return p;
}

/* ---- random llama2.c files (v1 fp32, v2 q8), shared classifier ---- */

typedef struct file_buf {
  uint8_t *bytes;
  size_t size, used;
} file_buf;

static void put(file_buf *f, const void *p, size_t n) {
  memcpy(f->bytes + f->used, p, n);
  f->used += n;
}

static void put_floats(file_buf *f, size_t n, float scale, float offset) {
  for (size_t i = 0; i < n; i++) {
    float v = offset + frand(scale);
    put(f, &v, 4);
  }
}

static void put_q8_matrix(file_buf *f, size_t n) {
  for (size_t i = 0; i < n; i++) f->bytes[f->used + i] = (uint8_t)(next_u32() % 255u) + 129u;
  f->used += n;
  put_floats(f, n / g_group, 0.0002f, 0.0004f); /* scales ~ max|w| / 127 for |w| < 0.05 */
}

/* The matrices of the file after the embedding, in llama2.c's order (elements each). */
static int block_matrices(const shape *s, size_t sizes[7]) {
  size_t dim = (size_t)s->dim, hidden = (size_t)s->hidden_dim;
  size_t kv = dim / (size_t)s->n_heads * (size_t)s->n_kv_heads;
  size_t m[7] = {dim * dim,    kv * dim,     kv * dim,    dim * dim,
                 hidden * dim, dim * hidden, hidden * dim};
  memcpy(sizes, m, sizeof m);
  return 7;
}

/* A llama2.c file of `version`: 0 (legacy fp32, the layout llama2.c's run.c reads) or 2 (q8,
 * runq.c's). Norm weights near 1, matrices in [-0.05, 0.05), shared classifier. */
static file_buf make_llama2c(const shape *s, int version, uint64_t seed) {
  size_t sizes[7];
  block_matrices(s, sizes);
  size_t dim = (size_t)s->dim, layers = (size_t)s->n_layers;
  size_t embedding = (size_t)s->vocab_size * dim, matrix = embedding;
  for (int k = 0; k < 7; k++) matrix += sizes[k] * layers;
  size_t norms = (2 * layers + 1) * dim;
  size_t freq_cis = (size_t)s->seq_len * (dim / (size_t)s->n_heads); /* real + imaginary */
  g_group = group_for(s);
  file_buf f;
  f.size = version == 0 ? 28 + (norms + matrix + freq_cis) * 4
                        : 256 + norms * 4 + matrix + matrix / g_group * 4;
  f.bytes = xmalloc(f.size);
  f.used = 0;
  g_rng = seed * 0x9e3779b97f4a7c15ull + 1;
  int32_t config[7] = {s->dim,        s->hidden_dim, s->n_layers, s->n_heads,
                       s->n_kv_heads, s->vocab_size, s->seq_len};
  if (version == 0) {
    put(&f, config, sizeof config);
    put_floats(&f, embedding, 0.05f, 0.0f);
    put_floats(&f, layers * dim, 0.1f, 1.0f); /* rms_att */
    put_floats(&f, (sizes[0] + sizes[1] + sizes[2] + sizes[3]) * layers, 0.05f, 0.0f);
    put_floats(&f, layers * dim, 0.1f, 1.0f); /* rms_ffn */
    put_floats(&f, (sizes[4] + sizes[5] + sizes[6]) * layers, 0.05f, 0.0f);
    put_floats(&f, dim, 0.1f, 1.0f);      /* rms_final */
    put_floats(&f, freq_cis, 1.0f, 0.0f); /* freq_cis (unused by both engines) */
  } else {
    memset(f.bytes, 0, 256);
    uint32_t magic = 0x616b3432u;
    int32_t v = 2, gs = g_group;
    memcpy(f.bytes, &magic, 4);
    memcpy(f.bytes + 4, &v, 4);
    memcpy(f.bytes + 8, config, sizeof config);
    f.bytes[36] = 1; /* shared classifier */
    memcpy(f.bytes + 37, &gs, 4);
    f.used = 256;
    put_floats(&f, norms, 0.1f, 1.0f); /* rms_att, rms_ffn, rms_final */
    put_q8_matrix(&f, embedding);
    for (int k = 0; k < 7; k++) {
      for (size_t l = 0; l < layers; l++) put_q8_matrix(&f, sizes[k]);
    }
  }
  if (f.used != f.size) {
    fprintf(stderr, "internal error: wrote %zu of %zu bytes\n", f.used, f.size);
    exit(1);
  }
  return f;
}

/* ---- converting a loaded model's matrices (f32 -> f16, q8 -> q4) ---- */

static size_t matrix_bytes(const em_matrix *m) {
  size_t n = (size_t)m->rows * m->cols;
  switch (m->dtype) {
    case EM_F32:
      return n * 4;
    case EM_F16:
      return n * 2;
    case EM_Q8:
      return n + n / m->group_size * 4;
    case EM_Q4:
      return n / 2 + n / m->group_size * 4;
  }
  return 0;
}

static void convert(em_matrix *m, em_dtype to) {
  size_t n = (size_t)m->rows * m->cols;
  float *row = xmalloc((size_t)m->cols * 4);
  if (to == EM_F16) {
    uint16_t *h = xmalloc(n * 2);
    for (size_t i = 0; i < n; i++) h[i] = em_f32_to_f16(((const float *)m->data)[i]);
    m->data = h;
    m->dtype = EM_F16;
  } else { /* q8 -> q4 at the same group size */
    uint8_t *q = xmalloc(n / 2);
    float *s = xmalloc(n / m->group_size * 4);
    for (int r = 0; r < m->rows; r++) {
      em_matrix_row(row, m, r);
      size_t at = (size_t)r * m->cols;
      em_quantize_q4(q + at / 2, s + at / m->group_size, row, m->cols, m->group_size);
    }
    m->data = q;
    m->scales = s;
    m->dtype = EM_Q4;
  }
  free(row);
}

static size_t model_weight_bytes(llama_model *m, em_dtype convert_to, int do_convert) {
  size_t total = 0;
  for (int l = 0; l < m->config.n_layers; l++) {
    llama_layer *L = &m->weights.layers[l];
    em_matrix *ms[7] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w1, &L->w2, &L->w3};
    for (int k = 0; k < 7; k++) {
      if (do_convert) convert(ms[k], convert_to);
      total += matrix_bytes(ms[k]);
    }
    total += 2 * (size_t)m->config.dim * 4;
  }
  if (do_convert) convert(&m->weights.classifier, convert_to);
  return total + matrix_bytes(&m->weights.classifier) + (size_t)m->config.dim * 4;
}

/* ---- timing ---- */

static int argmax(const float *x, int n) {
  int best = 0;
  for (int i = 1; i < n; i++) {
    if (x[i] > x[best]) best = i;
  }
  return best;
}

/* Tokens/s decoding `steps` positions from 0 (greedy), with `pool` (NULL: serial). */
static double tokens_per_s(llama_model *m, host_pool *pool, int steps) {
  m->parallel = host_pool_parallel(pool);
  if (steps > m->seq_len) steps = m->seq_len;
  int token = 1;
  double t0 = now_s();
  for (int pos = 0; pos < steps; pos++) {
    const float *logits = llama_forward(m, token, pos);
    token = argmax(logits, m->config.vocab_size);
  }
  return steps / (now_s() - t0);
}

typedef struct options {
  int shapes_mask, dtypes_mask, steps, threads, kernels;
  uint64_t seed;
  const char *write_dir, *model_path;
} options;

static const char *kDtypeNames[] = {"f32", "f16", "q8", "q4"};

static int mask_of(const char *list, const char *const *names, int count) {
  int mask = 0;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
    int found = 0;
    for (int i = 0; i < count; i++) {
      if (strcmp(tok, names[i]) == 0) {
        mask |= 1 << i;
        found = 1;
      }
    }
    if (!found) {
      fprintf(stderr, "unknown name %s\n", tok);
      exit(2);
    }
  }
  return mask;
}

/* Brings a model file up through the session layer, as every program does, and returns the
 * engine's model (the bench then times the engine's own forward pass). */
static void *load(const file_buf *f, int max_seq, const em_engine *want, void **arena_mem) {
  size_t cap = (size_t)256 << 20;
  *arena_mem = xmalloc(cap);
  static em_arena arena;
  em_arena_init(&arena, *arena_mem, cap);
  em_session s;
  em_session_options opt = {{NULL, NULL}, max_seq, false, 0.0f, 0.9f, 1, NULL};
  if (em_session_load(&s, f->bytes, f->size, &opt, &arena) != EM_OK || s.engine != want) {
    fprintf(stderr, "load failed: %s\n", s.msg);
    exit(1);
  }
  return s.model;
}

static void write_file(const char *dir, const char *name, const file_buf *f) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *out = fopen(path, "wb");
  if (!out || fwrite(f->bytes, 1, f->size, out) != f->size || fclose(out) != 0) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
  printf("wrote %s (%zu bytes)\n", path, f->size);
}

static void print_row(const char *shape_name, const char *dtype, size_t bytes, double t1,
                      double tn) {
  printf("| %-12s | %-5s | %10.1f | %8.1f | %8.1f | %10.2f |\n", shape_name, dtype,
         bytes / 1048576.0, t1, tn, bytes * tn / 1e9);
}

static void run_nanochat(const options *o, host_pool *all);

static void run_models(const options *o, host_pool *all) {
  printf("| shape        | dtype | MB / token | 1 thread | %d threads | GB/s (all) |\n",
         host_pool_threads(all));
  printf("| ------------ | ----- | ---------- | -------- | --------- | ---------- |\n");
  for (int si = 0; si < 2; si++) {
    if (!(o->shapes_mask & (1 << si))) continue;
    const shape *s = &kShapes[si];
    for (int version = 0; version <= 2; version += 2) {
      if (!(o->dtypes_mask & (version == 0 ? 0x3 : 0xc))) continue;
      file_buf f = make_llama2c(s, version, o->seed);
      if (o->write_dir) {
        char name[64];
        snprintf(name, sizeof name, "%s_%s.bin", s->name, version == 0 ? "f32" : "q8");
        write_file(o->write_dir, name, &f);
      }
      for (int conv = 0; conv < 2; conv++) {
        int dt = version + conv;
        if (!(o->dtypes_mask & (1 << dt))) continue;
        void *mem;
        llama_model *m = load(&f, 0, &llama_engine, &mem);
        size_t bytes = model_weight_bytes(m, version == 0 ? EM_F16 : EM_Q4, conv);
        double t1 = tokens_per_s(m, NULL, o->steps);
        double tn = tokens_per_s(m, all, o->steps);
        print_row(s->name, kDtypeNames[dt], bytes, t1, tn);
        fflush(stdout);
        free(mem); /* converted matrices are left to the process exit */
      }
      free(f.bytes);
    }
  }
  if (o->shapes_mask & 4) run_nanochat(o, all);
}

/* ---- random nanochat containers (docs/CONTAINER.md, architecture 2) ---- */

/* nanochat d12 as upstream trains it: n_embd 768, 12 layers, 6 heads of 128 (no GQA), MLP
 * 4 x 768, vocab 65536 (already a multiple of 64: padded_vocab_size equal), sequence 2048,
 * window pattern SSSL, value embeddings on alternating layers ending with the last. */
typedef struct nc_shape {
  const char *name;
  int n_embd, n_layer, n_head, n_kv_head, vocab, seq_len;
} nc_shape;

static const nc_shape kNanochat = {"nanochat-d12", 768, 12, 6, 6, 65536, 2048};

enum { NC_MAX_TENSORS = 256 };

typedef struct nc_tensor {
  char name[48];
  int format; /* container format: 1 f32, 2 f16, 3 q8, 4 q4 */
  int ndim;
  uint64_t shape[2];
  uint64_t values, values_size, scales, scales_size; /* offsets in the file */
  int kind; /* 0 matrix in [-0.05, 0.05), else a parameter vector: 1 ones, 2 0.1, 3 gates */
} nc_tensor;

typedef struct nc_file {
  nc_tensor t[NC_MAX_TENSORS];
  int count;
} nc_file;

static void nc_add(nc_file *f, const char *name, int format, int ndim, uint64_t d0, uint64_t d1,
                   int kind) {
  nc_tensor *t = &f->t[f->count++];
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", name);
  t->format = format;
  t->ndim = ndim;
  t->shape[0] = d0;
  t->shape[1] = ndim == 2 ? d1 : 0;
  t->kind = kind;
}

static uint64_t align64(uint64_t v) { return (v + 63) & ~(uint64_t)63; }
static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void put_f32(uint8_t *p, float v) { memcpy(p, &v, 4); }

/* Random values of one tensor: matrices as the llama rows' (f32/f16 in [-0.05, 0.05), q8/q4
 * every code in range with scales about max/127), parameter vectors near upstream's. */
static void nc_fill(uint8_t *bytes, const nc_tensor *t, int group) {
  uint64_t n = t->ndim == 2 ? t->shape[0] * t->shape[1] : t->shape[0];
  uint8_t *v = bytes + t->values;
  if (t->kind) {
    for (uint64_t i = 0; i < n; i++) {
      float x = t->kind == 1 ? 1.0f : t->kind == 2 ? 0.1f : frand(0.5f);
      put_f32(v + 4 * i, x);
    }
    return;
  }
  switch (t->format) {
    case 1:
      for (uint64_t i = 0; i < n; i++) put_f32(v + 4 * i, frand(0.05f));
      break;
    case 2: {
      static uint16_t halves[4096];
      if (!halves[0] && !halves[1])
        for (int i = 0; i < 4096; i++) halves[i] = em_f32_to_f16(frand(0.05f));
      for (uint64_t i = 0; i < n; i++) memcpy(v + 2 * i, &halves[next_u32() >> 20], 2);
      break;
    }
    case 3:
      for (uint64_t i = 0; i < n; i++) v[i] = (uint8_t)(next_u32() % 255u + 129u);
      break;
    default:
      for (uint64_t i = 0; i < n / 2; i++) v[i] = (uint8_t)(next_u32() >> 24);
      break;
  }
  if (t->scales_size) {
    float scale = t->format == 3 ? 0.0004f : 0.05f / 7;
    for (uint64_t g = 0; g < n / group; g++)
      put_f32(bytes + t->scales + 4 * g, scale * (1.0f + frand(0.5f)));
  }
}

/* A nanochat container of `format` (1..4; groups of 64 for q8/q4) with random weights from
 * `seed` and a stub tokenizer (a valid empty BPE: the benchmark feeds token ids). */
static file_buf make_nanochat(const nc_shape *s, int format, uint64_t seed) {
  static nc_file f;
  f.count = 0;
  int group = format >= 3 ? 64 : 0;
  uint64_t C = (uint64_t)s->n_embd, V = (uint64_t)s->vocab, L = (uint64_t)s->n_layer;
  uint64_t kv = C / (uint64_t)s->n_head * (uint64_t)s->n_kv_head;
  char name[64];
  nc_add(&f, "transformer.wte.weight", format, 2, V, C, 0);
  nc_add(&f, "lm_head.weight", format, 2, V, C, 0);
  nc_add(&f, "resid_lambdas", 1, 1, L, 0, 1);
  nc_add(&f, "x0_lambdas", 1, 1, L, 0, 2);
  nc_add(&f, "smear_lambda", 1, 1, 1, 0, 2);
  nc_add(&f, "backout_lambda", 1, 1, 1, 0, 2);
  nc_add(&f, "smear_gate.weight", 1, 2, 1, 24, 3);
  for (int i = 0; i < s->n_layer; i++) {
    static const char *const kMats[6] = {"attn.c_q",    "attn.c_k", "attn.c_v",
                                         "attn.c_proj", "mlp.c_fc", "mlp.c_proj"};
    uint64_t rows[6] = {C, kv, kv, C, 4 * C, C}, cols[6] = {C, C, C, C, C, 4 * C};
    for (int k = 0; k < 6; k++) {
      snprintf(name, sizeof name, "transformer.h.%d.%s.weight", i, kMats[k]);
      nc_add(&f, name, format, 2, rows[k], cols[k], 0);
    }
    if (i % 2 == (s->n_layer - 1) % 2) { /* the default value-embedding layers */
      snprintf(name, sizeof name, "transformer.h.%d.attn.ve_gate.weight", i);
      nc_add(&f, name, 1, 2, (uint64_t)s->n_kv_head, 12, 3);
      snprintf(name, sizeof name, "value_embeds.%d.weight", i);
      nc_add(&f, name, format, 2, V, kv, 0);
    }
  }
  /* layout: header, table, tokenizer, data, empty manifest */
  uint64_t table = 256, table_size = (uint64_t)f.count * 128;
  uint64_t tok = align64(table + table_size), tok_size = 32 + 12;
  uint64_t data = align64(tok + tok_size), at = data;
  for (int i = 0; i < f.count; i++) {
    nc_tensor *t = &f.t[i];
    uint64_t n = t->ndim == 2 ? t->shape[0] * t->shape[1] : t->shape[0];
    t->values = align64(at);
    t->values_size = t->format == 1 ? 4 * n : t->format == 2 ? 2 * n : t->format == 3 ? n : n / 2;
    at = t->values + t->values_size;
    if (t->format >= 3) {
      t->scales = align64(at);
      t->scales_size = 4 * (n / (uint64_t)group);
      at = t->scales + t->scales_size;
    }
  }
  uint64_t manifest = align64(at);
  file_buf out = {NULL, (size_t)manifest, (size_t)manifest};
  out.bytes = xmalloc(out.size);
  memset(out.bytes, 0, out.size);
  uint8_t *b = out.bytes;
  g_rng = seed * 0x9e3779b97f4a7c15ull + 3;
  for (int i = 0; i < f.count; i++) {
    nc_tensor *t = &f.t[i];
    uint8_t *e = b + table + 128 * (uint64_t)i;
    memcpy(e, t->name, 48);
    put_u32(e + 48, (uint32_t)t->format);
    put_u32(e + 52, t->format >= 3 ? (uint32_t)group : 0);
    put_u32(e + 56, (uint32_t)t->ndim);
    put_u64(e + 64, t->shape[0]);
    put_u64(e + 72, t->shape[1]);
    put_u64(e + 96, t->values);
    put_u64(e + 104, t->values_size);
    put_u64(e + 112, t->scales);
    put_u64(e + 120, t->scales_size);
    nc_fill(b, t, group);
  }
  uint8_t *th = b + tok; /* tokenizer header, then n_ranked 0, pattern "", n_special 0 */
  put_u32(th, 2);
  put_u32(th + 4, (uint32_t)s->vocab);
  put_u32(th + 8, (uint32_t)s->vocab - 1);
  put_u32(th + 12, (uint32_t)s->vocab - 1);
  /* header */
  memcpy(b, "MCHC", 4);
  put_u32(b + 4, 1);
  put_u32(b + 8, 256);
  put_u64(b + 16, out.size);
  put_u32(b + 24, 2);
  put_u32(b + 28, (uint32_t)format); /* the largest tensor: wte (first of the V x C ones) */
  put_u32(b + 32, (uint32_t)group);
  put_u32(b + 36, (uint32_t)f.count);
  uint64_t offsets[4] = {table, tok, data, manifest};
  uint64_t sizes[4] = {table_size, tok_size, at - data, 0};
  for (int i = 0; i < 4; i++) {
    uint8_t *e = b + 40 + 24 * i;
    put_u64(e, offsets[i]);
    put_u64(e + 8, sizes[i]);
    put_u32(e + 16, crc32_update(0, b + offsets[i], (size_t)sizes[i]));
    put_u32(e + 20, (uint32_t)i + 1);
  }
  uint8_t *p = b + 136;
  uint32_t dims[8] = {(uint32_t)s->n_embd,  (uint32_t)s->n_layer,
                      (uint32_t)s->n_head,  (uint32_t)s->n_kv_head,
                      (uint32_t)s->vocab,   (uint32_t)s->vocab,
                      (uint32_t)s->seq_len, 0 /* short_window: derived */};
  for (int i = 0; i < 8; i++) put_u32(p + 4 * i, dims[i]);
  put_f32(p + 32, 15.0f); /* softcap as upstream; the other zeros are upstream's defaults */
  put_u32(p + 44, 4);     /* mlp_ratio */
  put_u32(p + 48, 24);    /* smear_channels */
  put_u32(p + 52, 12);    /* value_embed_gate_channels */
  put_u32(p + 68, 2);     /* rope_layout: half split */
  memcpy(p + 80, "SSSL", 4);
  put_u32(b + 12, crc32_update(0, b, 256)); /* the CRC field is still 0 here */
  return out;
}

/* Weight bytes one nanochat token reads: every layer matrix and lm_head (its vocab rows),
 * one row of wte and of each value embedding, and the small vectors. */
static size_t nanochat_weight_bytes(const nanochat_model *m) {
  const nanochat_config *c = &m->config;
  size_t total = matrix_bytes(&m->weights.lm_head);
  size_t row = matrix_bytes(&m->weights.wte) / (size_t)m->weights.wte.rows;
  total += row + (size_t)(2 * c->n_layer + 2 + c->smear_channels) * 4;
  for (int l = 0; l < c->n_layer; l++) {
    const nanochat_layer *y = &m->weights.layers[l];
    const em_matrix *ms[6] = {&y->c_q, &y->c_k, &y->c_v, &y->c_proj, &y->fc, &y->mlp_proj};
    for (int k = 0; k < 6; k++) total += matrix_bytes(ms[k]);
    if (y->ve_gate) {
      total += matrix_bytes(&y->value_embed) / (size_t)y->value_embed.rows;
      total += (size_t)(c->n_kv_head * c->ve_gate_channels) * 4;
    }
  }
  return total;
}

static double nanochat_tokens_per_s(nanochat_model *m, host_pool *pool, int steps) {
  m->parallel = host_pool_parallel(pool);
  if (steps > m->seq_len) steps = m->seq_len;
  int token = 1;
  double t0 = now_s();
  for (int pos = 0; pos < steps; pos++) {
    const float *logits = nanochat_forward(m, token, pos);
    token = argmax(logits, m->config.vocab_size);
  }
  double t = now_s() - t0;
  const float *logits = m->state.logits; /* random weights must still give finite logits */
  for (int i = 0; i < m->config.vocab_size; i++) {
    if (!(logits[i] > -1e30f && logits[i] < 1e30f)) {
      fprintf(stderr, "nanochat: logit %d is %g (not finite)\n", i, logits[i]);
      exit(1);
    }
  }
  return steps / t;
}

static void run_nanochat(const options *o, host_pool *all) {
  for (int dt = 0; dt < 4; dt++) {
    if (!(o->dtypes_mask & (1 << dt))) continue;
    file_buf f = make_nanochat(&kNanochat, dt + 1, o->seed);
    void *mem;
    /* KV cache for the positions decoded */
    nanochat_model *m = load(&f, o->steps, &nanochat_engine, &mem);
    size_t bytes = nanochat_weight_bytes(m);
    double t1 = nanochat_tokens_per_s(m, NULL, o->steps);
    double tn = nanochat_tokens_per_s(m, all, o->steps);
    print_row(kNanochat.name, kDtypeNames[dt], bytes, t1, tn);
    fflush(stdout);
    free(mem);
    free(f.bytes);
  }
}

/* ---- the kernels of this build against the reference ---- */

typedef void (*bench_fn)(int which, float *out, int rows, int cols);

static float *g_w32, *g_x, *g_ws, *g_xs;
static uint16_t *g_w16;
static int8_t *g_w8, *g_x8;
static uint8_t *g_w4;

static void run_kernel(int fast, int dt, float *out, int rows, int cols) {
  em_qvec xq = {g_x8, g_xs, cols, g_group};
  switch (dt) {
    case 0:
      (fast ? em_matvec_f32_rows : em_ref_matvec_f32_rows)(out, g_x, g_w32, cols, 0, rows);
      break;
    case 1:
      (fast ? em_matvec_f16_rows : em_ref_matvec_f16_rows)(out, g_x, g_w16, cols, 0, rows);
      break;
    case 2:
      (fast ? em_matvec_q8_rows : em_ref_matvec_q8_rows)(out, &xq, g_w8, g_ws, cols, 0, rows);
      break;
    default:
      (fast ? em_matvec_q4_rows : em_ref_matvec_q4_rows)(out, &xq, g_w4, g_ws, cols, 0, rows);
      break;
  }
}

static double kernel_gbs(int fast, int dt, int rows, int cols, size_t bytes) {
  static float out[4096];
  int reps = 0;
  double t0 = now_s(), t;
  do {
    run_kernel(fast, dt, out, rows, cols);
    reps++;
  } while ((t = now_s() - t0) < 0.25);
  return bytes * (double)reps / t / 1e9;
}

static void run_kernels(const options *o) {
  int rows = 2048, cols = 768;
  size_t n = (size_t)rows * cols;
  g_group = 64;
  g_rng = o->seed;
  g_w32 = xmalloc(n * 4);
  g_w16 = xmalloc(n * 2);
  g_w8 = xmalloc(n);
  g_w4 = xmalloc(n / 2);
  g_ws = xmalloc(n / g_group * 4);
  g_x = xmalloc((size_t)cols * 4);
  g_x8 = xmalloc((size_t)cols);
  g_xs = xmalloc((size_t)cols / g_group * 4);
  for (size_t i = 0; i < n; i++) g_w32[i] = frand(0.05f);
  for (size_t i = 0; i < n; i++) g_w16[i] = em_f32_to_f16(g_w32[i]);
  for (size_t i = 0; i < n; i++) g_w8[i] = (int8_t)(next_u32() % 255u - 127);
  for (size_t i = 0; i < n / 2; i++) g_w4[i] = (uint8_t)next_u32();
  for (size_t i = 0; i < n / g_group; i++) g_ws[i] = 0.0004f + frand(0.0002f);
  for (int i = 0; i < cols; i++) g_x[i] = frand(1.0f);
  em_quantize_q8(g_x8, g_xs, g_x, cols, g_group);
  size_t bytes[4] = {n * 4, n * 2, n + n / g_group * 4, n / 2 + n / g_group * 4};
  printf("\nmatvec kernels, %d x %d, one thread, GB/s of weights (this build vs the reference)\n",
         rows, cols);
  printf(
      "| dtype | reference | this build | speedup |\n| ----- | --------- | ---------- | ------- "
      "|\n");
  for (int dt = 0; dt < 4; dt++) {
    if (!(o->dtypes_mask & (1 << dt))) continue;
    double ref = kernel_gbs(0, dt, rows, cols, bytes[dt]);
    double fast = kernel_gbs(1, dt, rows, cols, bytes[dt]);
    printf("| %-5s | %9.2f | %10.2f | %6.2fx |\n", kDtypeNames[dt], ref, fast, fast / ref);
  }
}

static void run_model_file(const options *o, host_pool *all) {
  file_buf f = {NULL, 0, 0};
  if (!(f.bytes = host_read_file(o->model_path, &f.size, g_huge_pages))) {
    fprintf(stderr, "cannot read %s\n", o->model_path);
    exit(1);
  }
  void *mem;
  llama_model *m = load(&f, 0, &llama_engine, &mem);
  size_t bytes = model_weight_bytes(m, EM_F32, 0);
  double t1 = tokens_per_s(m, NULL, o->steps);
  double tn = tokens_per_s(m, all, o->steps);
  printf("| file         | dtype | MB / token | 1 thread | %d threads | GB/s (all) |\n",
         host_pool_threads(all));
  printf("| ------------ | ----- | ---------- | -------- | --------- | ---------- |\n");
  print_row("(file)", kDtypeNames[m->weights.layers[0].wq.dtype], bytes, t1, tn);
}

static const char kUsage[] =
    "usage: engines [options]   tokens/s of the Llama and nanochat engines, random weights\n"
    "  --shapes a,b     stories15M, stories110M, nanochat-d12 (default all)\n"
    "  --dtypes a,b     f32, f16, q8, q4 (default all)\n"
    "  --steps N        positions decoded per run, from 0 (default 256, like llama2.c's run)\n"
    "  --threads N      the \"all threads\" column (default: online CPUs)\n"
    "  --seed S         weight seed (default 42)\n"
    "  --write DIR      also write the random models as llama2.c files for its run / runq:\n"
    "                   DIR/<shape>_f32.bin (legacy v0 fp32), DIR/<shape>_q8.bin (v2, int8\n"
    "                   groups of 64, or 32 where 64 does not divide dim)\n"
    "  --model FILE     time a model file instead: a llama2.c .bin (any version) or a Llama\n"
    "                   container (.mcm)\n"
    "  --no-kernels     skip the kernel table\n"
    "  --no-huge-pages  ordinary 4 KB pages for weights and arenas (default: buffers of\n"
    "                   2 MB and more advised for transparent huge pages, Linux)\n";

int main(int argc, char **argv) {
  static const char *const shape_names[] = {"stories15M", "stories110M", "nanochat-d12"};
  options o = {7, 15, 256, 0, 1, 42, NULL, NULL};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(kUsage, stdout);
      return 0;
    }
    if (strcmp(a, "--no-kernels") == 0) {
      o.kernels = 0;
      continue;
    }
    if (strcmp(a, "--no-huge-pages") == 0) {
      g_huge_pages = false;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "%s needs a value\n%s", a, kUsage);
      return 2;
    }
    const char *v = argv[++i];
    if (strcmp(a, "--shapes") == 0)
      o.shapes_mask = mask_of(v, shape_names, 3);
    else if (strcmp(a, "--dtypes") == 0)
      o.dtypes_mask = mask_of(v, kDtypeNames, 4);
    else if (strcmp(a, "--steps") == 0)
      o.steps = atoi(v);
    else if (strcmp(a, "--threads") == 0)
      o.threads = atoi(v);
    else if (strcmp(a, "--seed") == 0)
      o.seed = strtoull(v, NULL, 10);
    else if (strcmp(a, "--write") == 0)
      o.write_dir = v;
    else if (strcmp(a, "--model") == 0)
      o.model_path = v;
    else {
      fprintf(stderr, "unknown option %s\n%s", a, kUsage);
      return 2;
    }
  }
  host_pool *all = host_pool_create(o.threads);
  printf("Greedy decode of %d positions from 0, random weights (seed %llu)\n\n", o.steps,
         (unsigned long long)o.seed);
  if (o.model_path)
    run_model_file(&o, all);
  else
    run_models(&o, all);
  if (o.kernels) run_kernels(&o);
  host_pool_destroy(all);
  return 0;
}
