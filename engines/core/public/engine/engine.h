/* The interface every engine implements, so a caller (a board, the host CLI) can run any
 * model file without knowing its architecture. Engines keep all state in the arena they
 * are given and never copy weights they can use in place. */
#ifndef ENGINE_ENGINE_H_
#define ENGINE_ENGINE_H_

#include <stdbool.h>
#include <stddef.h>

#include "engine/arena.h"
#include "engine/parallel.h"
#include "engine/status.h"
#include "engine/weights.h"

struct em_tokenizer; /* engine/tokenizer.h */

typedef struct em_load_options {
  int max_seq_len;      /* cap on the context (KV cache) length; 0 = the model's own */
  em_parallel parallel; /* the board's parallel-for hook; {NULL, NULL} = serial */
  int prefill_block;    /* prompt tokens per forward pass; 0 = EM_PREFILL_BLOCK, 1 = one by one */
  /* Weight streaming: NULL = the whole file is in bytes[0..size) (resident). Otherwise
   * bytes[0..size) is only the head of the file (em_stream_head_size: the container's header,
   * tensor table and tokenizer) and the engine keeps its small tensors (norms), the KV cache
   * and activations in the arena, fetches the embedding rows it uses, and reads each layer's
   * matrices (and the classifier) through the source into two buffers, the next one's read
   * started before this one's compute. EM_ERR_UNSUPPORTED from an engine or file that cannot
   * stream (llama containers can; llama2.c files and nanochat cannot yet). */
  const em_weight_source *source;
} em_load_options;

/* Prompt tokens an engine feeds per forward pass unless told otherwise: each weight is read
 * once for all of them (prefill as matrix-matrix work). */
#define EM_PREFILL_BLOCK 16

typedef struct em_model_info {
  const char *engine; /* e.g. "llama" */
  int vocab_size;
  int seq_len; /* usable context length (after max_seq_len) */
  int pos;     /* tokens already in the context */
  int bos_id, eos_id;
} em_model_info;

/* Where the memory goes, in bytes. */
typedef struct em_memory_report {
  size_t weights_in_place; /* weights used directly from the caller's buffer */
  size_t weights_copied;   /* weight bytes that had to be copied into the arena */
  size_t kv_cache;         /* key + value caches */
  size_t activations;      /* run-state buffers */
  size_t arena_used;       /* everything the engine took from the arena */
  /* Weight streaming (em_load_options.source), else 0: */
  size_t stream_buffers;       /* the two layer buffers (in arena_used) */
  uint64_t streamed_per_token; /* weight bytes read through the source per forward pass */
} em_memory_report;

typedef struct em_engine {
  const char *name;
  /* 0 when the bytes are not this engine's; higher = more certain (100 = magic matched). */
  int (*probe)(const void *bytes, size_t size);
  /* Loads the model over bytes[0..size) (kept by reference: it must outlive the model). */
  em_status (*load)(void **model, const void *bytes, size_t size, const em_load_options *options,
                    em_arena *arena, const char **msg);
  void (*info)(const void *model, em_model_info *out);
  /* Feeds n tokens at the next positions; *logits (vocab) then belong to the last one. */
  em_status (*prefill)(void *model, const int *tokens, int n, const float **logits);
  /* Feeds one token at the next position and returns its logits; EM_ERR_FULL at seq_len. */
  em_status (*decode)(void *model, int token, const float **logits);
  /* Empties the context (position 0). */
  void (*reset)(void *model);
  void (*memory)(const void *model, em_memory_report *out);
  /* Optional (NULL = never): loads the tokenizer the model file itself carries (a
   * container's tokenizer section) into *tok, taking its tables from the arena.
   * EM_ERR_UNSUPPORTED when this file has none (llama2.c files: tokenizer.bin is separate). */
  em_status (*tokenizer)(const void *model, struct em_tokenizer *tok, em_arena *arena,
                         const char **msg);
  /* Optional (NULL = the engine has no turn format of its own): the tokens of one chat turn
   * of the user's text in the engine's format into tokens[0..capacity), *n of them (the
   * conversation's first turn starts with BOS). EM_ERR_FULL when capacity is short. */
  em_status (*chat_turn)(struct em_tokenizer *tok, const char *text, bool first, int *tokens,
                         int capacity, int *n);
  /* Optional (NULL = none): the token that ends an answer in a chat turn, or -1. */
  int (*end_of_turn)(const struct em_tokenizer *tok);
} em_engine;

/* An engine's forward pass over tokens[0..n) at positions pos..pos+n-1, returning the last
 * token's logits, or NULL when a streamed weight could not be read (EM_ERR_IO). */
typedef const float *(*em_block_forward_fn)(void *model, const int *tokens, int n, int pos);

/* The prefill of an engine whose forward pass takes blocks of up to `block` tokens: checks
 * every id first (EM_ERR_ARG, nothing fed), then feeds the tokens block by block, advancing
 * *pos, until they are all in or the context (seq_len) is full (EM_ERR_FULL). */
em_status em_prefill_blocks(em_block_forward_fn forward, void *model, const int *tokens, int n,
                            int block, int vocab_size, int seq_len, int *pos, const float **logits);

#endif /* ENGINE_ENGINE_H_ */
