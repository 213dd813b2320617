/* The session layer: one model brought up and run, the same way for every program (the chat
 * app on any board, tools/engine_cli, the benches). Bring-up: the engine that recognises the
 * file (engines/registry), loaded over the caller's arena; its tokenizer (the file's own or a
 * separate tokenizer.bin, which must match the vocabulary); the sampler. Runs: a completion
 * (llama2.c's generate) or a chat turn on the persistent context, with stop conditions, a
 * cancel hook and stats. The chat template of a turn is the caller's choice (em_template). */
#ifndef ENGINE_SESSION_H_
#define ENGINE_SESSION_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/arena.h"
#include "engine/engine.h"
#include "engine/sampler.h"
#include "engine/tokenizer.h"

/* How a user's turn becomes tokens:
 *   plain     the text as typed; the model continues it (story models, llama2.c)
 *   alpaca    Stanford Alpaca's instruction format (InferPi's for Llama models):
 *             first turn "Below is an instruction that describes a task. Write a response that
 *             appropriately completes the request.\n\n### Instruction:\n{text}\n\n### Response:",
 *             later turns "\n\n### Instruction:\n{text}\n\n### Response:"
 *   engine    the engine's own turn format (em_engine.chat_turn: nanochat's special tokens)
 * A conversation starts with BOS; later turns continue the same context (KV cache). */
typedef enum em_template {
  EM_TEMPLATE_PLAIN = 0,
  EM_TEMPLATE_ALPACA = 1,
  EM_TEMPLATE_ENGINE = 2,
} em_template;

/* The template named by text[0..len) ("plain", "alpaca", "engine"); 0 when none is. */
int em_template_from_name(const char *text, size_t len, em_template *out);
const char *em_template_name(em_template t);

typedef struct em_session_options {
  em_parallel parallel; /* the board's parallel-for; {NULL, NULL} = serial */
  int max_seq_len;      /* context cap; 0 = the model's own */
  /* Out of memory for the whole context: retry with it capped at 4096, 2048, ... 64 tokens
   * (a board's fixed RAM); false: fail, so the caller may grow the arena (a host). */
  bool fit_context;
  float temperature; /* 0 = greedy */
  float topp;
  uint64_t seed;
  /* Weight streaming (engine/weights.h): NULL = the whole file is in bytes; else bytes holds
   * only its head (em_session_stream_head's size) and the engine reads its layers through
   * the source, one layer ahead into two buffers, with what stays resident in the arena. */
  const em_weight_source *source;
} em_session_options;

/* Resident or streamed: a model file of file_size bytes (first[0..n): its first bytes, at
 * least 256) is streamed when it takes more than three quarters of the ram bytes a program
 * has for it (the last quarter is left for the KV cache, activations and tokenizer), and only
 * a container can be. Returns the bytes of its head to read and hand em_session_load with a
 * source, or 0: load the whole file. */
uint64_t em_session_stream_head(const void *first, size_t n, uint64_t file_size, uint64_t ram);

typedef struct em_session {
  const em_engine *engine;
  void *model;
  em_model_info info;
  em_tokenizer tokenizer;
  bool has_tokenizer;
  em_sampler sampler;
  em_arena *arena;
  em_template template; /* the one the model file names (a container's manifest), else plain */
  int context_cap;      /* the cap fit_context settled on below the model's context, or 0 */
  int end_of_turn;      /* a token that ends a chat answer besides EOS and BOS, or -1 */
  const float *logits;  /* the last forward pass's logits (vocab_size), or NULL before one */
  const char *msg;      /* why the last call failed: one phrase */
  /* When no engine takes the file (engine NULL after em_session_load): why, if a reader can
   * tell (a container's failed check: "corrupt container: header CRC-32 mismatch"; a
   * llama2.c or InferPi model.bin shorter than its header says, with both sizes; InferPi's
   * NCHT files), else "" (the bytes are in no format known here). msg points here then. */
  char why[200];
} em_session;

/* Finds the engine for the bytes (kept by reference), loads the model and its sampler over
 * the arena. EM_ERR_UNSUPPORTED when no engine recognises the file. */
em_status em_session_load(em_session *s, const void *bytes, size_t size,
                          const em_session_options *options, em_arena *arena);

/* Loads the tokenizer: tokenizer.bin bytes when given (which must hold exactly the model's
 * vocabulary), else the one the model file carries (EM_ERR_UNSUPPORTED when it has none). */
em_status em_session_load_tokenizer(em_session *s, const void *bytes, size_t size);

/* Why a run stopped. */
typedef enum em_stop {
  EM_STOP_LENGTH = 0,  /* the token limit */
  EM_STOP_END = 1,     /* EOS, BOS or the end-of-turn token (not printed) */
  EM_STOP_CONTEXT = 2, /* the context is full */
  EM_STOP_CANCEL = 3,  /* the cancel hook said so */
  EM_STOP_ERROR = 4,   /* the engine failed (the status says how) */
} em_stop;

typedef struct em_run_hooks {
  em_putc_fn putc; /* the text, as UTF-8 (broken sequences replaced); NULL = none */
  /* After every forward pass of a completion: the token fed at pos, its logits and the token
   * chosen next (the next prompt token while in the prompt). NULL = none. */
  void (*on_step)(void *user, int pos, int token, const float *logits, int next);
  bool (*cancel)(void *user);       /* checked before each new token; NULL = never */
  uint64_t (*clock_us)(void *user); /* monotonic microseconds; NULL = no timing */
  void *user;
} em_run_hooks;

typedef struct em_run_stats {
  int n_prompt;        /* prompt tokens fed (a completion's include BOS) */
  int n_generated;     /* tokens sampled and kept */
  int n_forward;       /* forward passes run */
  uint64_t prefill_us; /* feeding the prompt */
  uint64_t decode_us;  /* from the first sampled token to the last */
  em_stop stop;
} em_run_stats;

/* A completion, llama2.c's generate: resets the context, feeds BOS + text and samples until
 * `steps` positions or a sampled BOS, printing the prompt and the text. The prompt goes in as
 * one prefill, unless an on_step hook wants every position's logits (then token by token). A prompt
 * longer than the context runs nothing and returns EM_ERR_FULL. Uses the arena for the
 * prompt's tokens only, and gives that memory back. */
em_status em_session_complete(em_session *s, const char *text, int steps, const em_run_hooks *hooks,
                              em_run_stats *stats);

/* Writes the text of a turn under a text template (plain, alpaca) into out, NUL-terminated;
 * returns its length, or 0 when it does not fit in `size` bytes (or t is not such a template). */
size_t em_template_render(em_template t, bool first_turn, const char *user, char *out, size_t size);

/* Bytes a rendering adds around the user's text, at most (for sizing buffers). */
#define EM_TEMPLATE_OVERHEAD 192

/* The tokens of the user's next chat turn under the template: rendered in scratch and encoded
 * (with BOS when the context is empty), or the engine's own turn format. EM_ERR_FULL when
 * scratch or `capacity` is short; EM_ERR_UNSUPPORTED for EM_TEMPLATE_ENGINE on an engine with
 * no turn format. */
em_status em_session_turn_tokens(em_session *s, em_template t, const char *text, char *scratch,
                                 size_t scratch_size, int *tokens, int capacity, int *n);

/* A chat turn: feeds tokens[0..n) after what the context holds, then streams the answer until
 * EOS, BOS, the end-of-turn token, max_tokens or a full context; each answer id goes to ids
 * (room for max_tokens) when not NULL. Every token printed is in the context afterwards. */
em_status em_session_answer(em_session *s, const int *tokens, int n, int max_tokens,
                            const em_run_hooks *hooks, int *ids, em_run_stats *stats);

#endif /* ENGINE_SESSION_H_ */
