/* nanochat engine: upstream nanochat's GPT (karpathy/nanochat, nanochat/gpt.py), read in
 * place from a container (docs/CONTAINER.md, architecture 2). The forward pass is the one
 * python/metalchat/reference/nanochat.py documents (and reads upstream's ambiguous points
 * as that docstring says). Per token t at position pos:
 *
 *   e = norm(wte[t]);  x = e + [pos > 0] smear_lambda * sigmoid(smear_gate . e[:24]) * e_prev
 *   x0 = x
 *   layer i:  x = resid_lambdas[i] * x + x0_lambdas[i] * x0;  h = norm(x)
 *             q, k, v = c_q h, c_k h, c_v h
 *             [value-embedding layer] v_j += 3 * sigmoid(ve_gate_j . h[:12]) * value_embeds[i][t]_j
 *             q, k = rope(q), rope(k)      split halves, rotating by -angle, base 100000
 *             q, k = 1.2 * norm(q), 1.2 * norm(k)   per head
 *             attention (GQA) over the last window[i] + 1 positions, scores / sqrt(head_dim)
 *             x += c_proj attn;  x += mlp.c_proj relu(mlp.c_fc norm(x))^2
 *             [i == backout_layer] x_backout = x
 *   logits = softcap * tanh((lm_head norm(x - backout_lambda * x_backout))[:vocab] / softcap)
 *
 * norm is RMSNorm without weights (eps = norm_eps, float32's epsilon upstream). Windows:
 * pattern characters S/L tiled over the layers, S = short_window, L = sequence_len, last
 * layer always L. Zero parameters in the container mean (as the manifest documents):
 * short_window 0 = ceil(ceil(sequence_len / 4) / 128) * 128; softcap 0 = no softcap;
 * backout_layer 0 = n_layer / 2; value_embed_layers 0 = alternating layers ending with the
 * last. Zero for a parameter the manifest gives no default is read as upstream's constant:
 * rope_theta 100000, qk_scale 1.2, mlp_ratio 4, smear_channels 24, value-embedding gate
 * channels 12, value_embed_scale 3, norm_eps 2^-23, rope_layout half split.
 *
 * Tensors (upstream state-dict names; matrices in any container format, vectors and gates
 * in any format too — those are widened to f32 in the arena):
 *   transformer.wte.weight (padded_vocab, C)        lm_head.weight (padded_vocab, C)
 *   transformer.h.<i>.attn.c_q.weight (C, C)        .c_k/.c_v (kv_dim, C)   .c_proj (C, C)
 *   transformer.h.<i>.attn.ve_gate.weight (Hkv, 12) on value-embedding layers
 *   transformer.h.<i>.mlp.c_fc.weight (4C, C)        .mlp.c_proj.weight (C, 4C)
 *   value_embeds.<i>.weight (padded_vocab, kv_dim)   on value-embedding layers
 *   resid_lambdas (L)  x0_lambdas (L)  smear_lambda (1)  backout_lambda (1)  smear_gate.weight (1,
 * 24) The tokenizer section must be nanochat's byte-level BPE (kind 2). */
#ifndef NANOCHAT_NANOCHAT_H_
#define NANOCHAT_NANOCHAT_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/arena.h"
#include "engine/engine.h"
#include "engine/kernels.h"
#include "engine/status.h"
#include "engine/tokenizer.h"

#define NANOCHAT_MAX_LAYERS 64 /* the container's value-embedding mask has 64 bits */

typedef struct nanochat_config {
  int n_embd, n_layer, n_head, n_kv_head, head_dim, kv_dim, hidden_dim;
  int vocab_size, padded_vocab_size, sequence_len;
  int smear_channels, ve_gate_channels, backout_layer;
  float softcap, rope_theta, qk_scale, value_embed_scale, norm_eps;
  bool rope_split;
  int window[NANOCHAT_MAX_LAYERS]; /* earlier positions a query sees (sequence_len = all) */
  bool has_ve[NANOCHAT_MAX_LAYERS];
} nanochat_config;

typedef struct nanochat_layer {
  em_matrix c_q, c_k, c_v, c_proj; /* (C, C) (kv_dim, C) (kv_dim, C) (C, C) */
  em_matrix fc, mlp_proj;          /* (4C, C) (C, 4C) */
  em_matrix value_embed;           /* (vocab, kv_dim), rows = vocab_size; data NULL if none */
  const float *ve_gate;            /* (n_kv_head, ve_gate_channels) or NULL */
} nanochat_layer;

typedef struct nanochat_weights {
  em_matrix wte;                           /* (vocab_size, C): the padding rows are never read */
  em_matrix lm_head;                       /* (vocab_size, C): cropped to the real vocabulary */
  const float *resid_lambdas, *x0_lambdas; /* (L) */
  const float *smear_gate;                 /* (smear_channels) */
  float smear_lambda, backout_lambda;
  nanochat_layer *layers;
} nanochat_weights;

/* Buffers for one forward pass over a block of up to `block` tokens (a prompt is fed `block`
 * tokens at a time, decoding one): per-token ones hold a row per token of the block. */
typedef struct nanochat_run_state {
  int block;                      /* tokens per forward pass at most */
  float *x, *x0, *h;              /* (block, C) residual, x0, normed input */
  float *e;                       /* (block, C) normalized embeddings */
  float *q, *att_out, *proj;      /* (block, C) */
  float *hidden;                  /* (block, 4C) */
  float *rope_cos, *rope_sin;     /* (block, head_dim / 2); rope_sin holds -sin (by -angle) */
  em_qvec *xq;                    /* (block) int8 activations for q8/q4 matrices */
  float *xb;                      /* (C) the last token's backout copy */
  float *e_prev;                  /* (C) the normalized embedding of the token before the block */
  float *ve;                      /* (kv_dim) value-embedding row */
  float *att;                     /* (n_head, seq_len) scores */
  float *logits;                  /* (vocab_size) of the block's last token */
  float *key_cache, *value_cache; /* (L, seq_len, kv_dim) */
} nanochat_run_state;

typedef struct nanochat_model {
  nanochat_config config;
  nanochat_weights weights;
  nanochat_run_state state;
  em_parallel parallel;
  int seq_len; /* usable context */
  int pos;
  em_memory_report memory;
  const void *tokenizer_bytes; /* the container's BPE payload */
  size_t tokenizer_size;
  int bos_id, eos_id;
} nanochat_model;

/* 100 for a container whose (valid) header names architecture 2, else 0. */
int nanochat_probe(const void *bytes, size_t size);

/* Loads a container in place; model, run state and KV cache come from the arena. */
em_status nanochat_load(nanochat_model **model, const void *bytes, size_t size,
                        const em_load_options *options, em_arena *arena, const char **msg);

/* Runs one token at position pos (the next one: positions are fed in order) and returns
 * the logits (vocab_size). */
const float *nanochat_forward(nanochat_model *m, int token, int pos);

/* Runs tokens[0..n) (n <= state.block) at positions pos..pos+n-1 in one pass and returns the
 * last one's logits: the same bits as n calls of nanochat_forward. */
const float *nanochat_forward_block(nanochat_model *m, const int *tokens, int n, int pos);

/* nanochat's chat template for one user turn, into tokens[0..capacity), *n of them:
 *   [<|bos|> when first] <|user_start|> encode(text) <|user_end|> <|assistant_start|>
 * The assistant's answer ends with <|assistant_end|> (nanochat_end_of_turn: its id, or -1).
 * Both are the engine table's chat_turn and end_of_turn. */
em_status nanochat_chat_turn(em_tokenizer *tok, const char *text, bool first, int *tokens,
                             int capacity, int *n);
int nanochat_end_of_turn(const em_tokenizer *tok);

extern const em_engine nanochat_engine;

#endif /* NANOCHAT_NANOCHAT_H_ */
