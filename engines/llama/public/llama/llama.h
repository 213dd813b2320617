/* Llama engine (RoPE, RMSNorm, grouped-query attention, SwiGLU).
 * Formats read in place from the caller's buffer (which must be 4-byte aligned):
 *   v0  legacy: 7 int32 header (negative vocab_size = separate classifier), fp32 tensors
 *   v1  "ak42" magic, version 1, 256-byte header, fp32 tensors
 *   v2  "ak42" magic, version 2, 256-byte header with group size, fp32 norms, int8 (Q8_0)
 *       weights each followed by its fp32 group scales
 *   InferPi fp16 model.bin: the v0 header and v0 tensor order (freq_cis included) with
 *       every tensor IEEE binary16, as python/metalchat/export.py's `inferpi_model` writes
 *       it (a reading of InferPi's README; InferPi's own exporter is not public). No magic:
 *       told from v0 by the file size (v0 needs twice the bytes). Norms are widened to fp32
 *       in the arena; matrices stay fp16 in place.
 *   container (.mcm, docs/CONTAINER.md) of architecture 1: every tensor in its own format
 *       (f32, f16, q8, q4, each with its own group size), rope_theta, norm_eps and the RoPE
 *       layout from the header; the tokenizer section is the model's tokenizer.
 * InferPi's nanochat model.bin ("NCHT" magic) is refused with EM_ERR_UNSUPPORTED: its layout
 * is not published (see docs/ENGINES.md). */
#ifndef LLAMA_LLAMA_H_
#define LLAMA_LLAMA_H_

#include <stdbool.h>
#include <stddef.h>

#include "engine/arena.h"
#include "engine/engine.h"
#include "engine/kernels.h"
#include "engine/status.h"

typedef struct llama_config {
  int dim;        /* transformer width */
  int hidden_dim; /* FFN width */
  int n_layers;
  int n_heads;    /* query heads */
  int n_kv_heads; /* key/value heads (divides n_heads) */
  int vocab_size;
  int seq_len;            /* context length the model was trained for */
  bool shared_classifier; /* the classifier reuses the token embedding */
  int version;            /* 0, 1, 2, LLAMA_INFERPI_F16 or LLAMA_CONTAINER */
  int group_size;         /* v2; container: the smallest group size of a q8/q4 matrix */
  float rope_theta;       /* 10000 for llama2.c files */
  float norm_eps;         /* 1e-5 for llama2.c files */
  bool rope_split;        /* RoPE pairs (i, i + hs/2) instead of llama2.c's (2i, 2i+1) */
} llama_config;

#define LLAMA_INFERPI_F16 3 /* config.version of an InferPi fp16 model.bin */
#define LLAMA_CONTAINER 4   /* config.version of a container */

/* One block's weights (row-major, (out, in)). */
typedef struct llama_layer {
  const float *rms_att; /* (dim) */
  const float *rms_ffn; /* (dim) */
  em_matrix wq;         /* (dim, dim) = (n_heads * head_size, dim) */
  em_matrix wk, wv;     /* (kv_dim, dim) */
  em_matrix wo;         /* (dim, dim) */
  em_matrix w1, w3;     /* (hidden_dim, dim) gate and up */
  em_matrix w2;         /* (dim, hidden_dim) down */
} llama_layer;

typedef struct llama_weights {
  em_matrix token_embedding; /* (vocab_size, dim) */
  llama_layer *layers;       /* (n_layers) */
  const float *rms_final;    /* (dim) */
  em_matrix classifier;      /* (vocab_size, dim) */
} llama_weights;

/* Mutable buffers for one forward pass over a block of up to `block` tokens (a prompt is fed
 * `block` tokens at a time, decoding one), all from the arena. Per-token buffers hold one
 * row per token of the block. */
typedef struct llama_run_state {
  int block;          /* tokens per forward pass at most */
  float *x;           /* (block, dim) residual stream */
  float *xb;          /* (block, dim) normed input / attention output */
  float *xb2;         /* (block, dim) output of a projection back to dim */
  float *hb, *hb2;    /* (block, hidden_dim) FFN gate and up */
  float *q;           /* (block, dim) query */
  float *att;         /* (n_heads, seq_len) attention scores */
  float *logits;      /* (vocab_size) of the block's last token */
  float *key_cache;   /* (n_layers, seq_len, kv_dim) */
  float *value_cache; /* (n_layers, seq_len, kv_dim) */
  float *rope_cos;    /* (block, head_size / 2) each token's rotation */
  float *rope_sin;    /* (block, head_size / 2) */
  em_qvec *xq;        /* (block) int8 activations of max(dim, hidden_dim) for q8/q4 weights */
} llama_run_state;

typedef struct llama_model {
  llama_config config;
  llama_weights weights;
  llama_run_state state;
  em_parallel parallel;
  int seq_len; /* usable context: min(config.seq_len, max_seq_len) */
  int pos;     /* next position to fill */
  em_memory_report memory;
  struct llama_stream *stream; /* weight streaming (em_load_options.source), else NULL */
  /* the tokenizer the file carries (containers only): kind 0 = none */
  unsigned tokenizer_kind;
  const void *tokenizer_bytes;
  size_t tokenizer_size;
  int bos_id, eos_id;
} llama_model;

/* 100 for an "ak42" v1/v2 file with all its declared bytes present or a container of
 * architecture 1 (valid header), 50 for a v0 or InferPi fp16 header whose sizes add up to
 * exactly `size` bytes, else 0. */
int llama_probe(const void *bytes, size_t size);

/* Reads and checks a llama2.c header only (no weights; not for containers). A header
 * without magic is reported as v0; llama_load tells v0 from InferPi fp16 by the size. */
em_status llama_read_config(llama_config *config, const void *bytes, size_t size, const char **msg);

/* Loads a model in place; the model struct, run state and KV cache come from the arena. */
em_status llama_load(llama_model **model, const void *bytes, size_t size,
                     const em_load_options *options, em_arena *arena, const char **msg);

/* Loads a container (docs/CONTAINER.md) of architecture 1 in place (llama_load calls it for
 * bytes that start with the container magic). */
em_status llama_load_container(llama_model **model, const void *bytes, size_t size,
                               const em_load_options *options, em_arena *arena, const char **msg);

/* Runs one token at position pos (< seq_len) and returns the logits (vocab_size); NULL when
 * a streamed model's weights could not be read. */
const float *llama_forward(llama_model *m, int token, int pos);

/* Runs tokens[0..n) (n <= state.block) at positions pos..pos+n-1 (< seq_len) in one pass and
 * returns the last one's logits: the same bits as n calls of llama_forward. */
const float *llama_forward_block(llama_model *m, const int *tokens, int n, int pos);

/* The engine table entry for the registry. */
extern const em_engine llama_engine;

#endif /* LLAMA_LLAMA_H_ */
