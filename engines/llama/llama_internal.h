/* Private to engines/llama: what llama.c and llama2c_file.c share. */
#ifndef ENGINES_LLAMA_LLAMA_INTERNAL_H_
#define ENGINES_LLAMA_LLAMA_INTERNAL_H_

#include "llama/llama.h"

#define LLAMA_MAGIC 0x616b3432u /* "ak42" as a little-endian uint32 */
#define LLAMA_HEADER_V1 256     /* v1/v2 header bytes */
#define LLAMA_HEADER_V0 28      /* v0: 7 int32 */

/* *out = a * b; false when that overflows size_t. */
static inline bool mul_size(size_t a, size_t b, size_t *out) {
  if (b != 0 && a > (size_t)-1 / b) return false;
  *out = a * b;
  return true;
}

/* llama.c: checks that the seven numbers describe a buildable transformer. */
em_status llama_check_dims(const llama_config *c, const char **msg);

/* llama2c_file.c: tells a headerless file's version by its size (v0 or InferPi fp16), then
 * checks that the file holds every weight and is aligned for fp32 in place. */
em_status llama2c_check_file(llama_config *c, const void *bytes, size_t size, const char **msg);

/* llama2c_file.c: maps the weights of a file llama2c_check_file accepted into *w (in place
 * where aligned; misaligned fp32 blocks and widened norms are copied into the arena). */
em_status llama2c_map_weights(const llama_config *c, const void *bytes, size_t size,
                              em_arena *arena, llama_weights *w, size_t *in_place, size_t *copied,
                              const char **msg);

/* ---------------------------------------------------------------------------------------
 * Weight streaming (llama_stream.c): a container opened head-only, its layers read through
 * the weight source into two buffers, one layer ahead. */

#include "container/container.h"
#include "container/tensor_map.h"

enum {
  LLAMA_LAYER_MATRICES = 7,                    /* wq wk wv wo w1 w2 w3 */
  LLAMA_STAGE_READS = 2 * LLAMA_LAYER_MATRICES /* values and scales of each */
};

/* One stage's reads: half a layer's matrices (stage 2l: attention, wq wk wv wo; stage 2l+1:
 * feed-forward, w1 w2 w3), or (the last stage, 2 n_layers) the classifier. reads[2k] are
 * matrix k's values, reads[2k+1] its scales (size 0: none; k counts wq..w3 from 0 in both
 * halves, so a half leaves the other's entries empty); dst holds the byte offset in a buffer.
 * Half-layer stages halve the two buffers: Llama-2-7B's biggest stage is its 142 MB FFN. */
typedef struct llama_stage {
  em_read reads[LLAMA_STAGE_READS];
} llama_stage;

typedef struct llama_stream {
  const em_weight_source *src;
  llama_stage *stages; /* (2 n_layers + 1): the half layers, then the classifier */
  uint8_t *buffer[2];  /* buffer_size bytes each, 64-byte aligned */
  size_t buffer_size;
  int loaded;                        /* buffer holding the stage being computed */
  em_read active[LLAMA_STAGE_READS]; /* the batch in flight */
  llama_layer layer;                 /* the layer being computed, its matrices in a buffer */
  em_matrix classifier;              /* the classifier, in a buffer */
  mc_tensor embedding;               /* the token embedding, rows read as tokens come */
  uint8_t *row;                      /* one embedding row (values, then scales at row_scales) */
  size_t row_scales;
  uint64_t per_token; /* bytes read per forward pass, embedding rows excluded */
  em_status status;   /* EM_OK, or the first failed read */
} llama_stream;

/* Maps a head-only container's weights for streaming: norms read into the arena, the layer
 * table with shapes only, the stages' reads and the two buffers. */
em_status llama_stream_map(llama_model *m, const mc_container *mc, mc_map *map,
                           const mc_tensor t[12], em_arena *arena, const char **msg);

/* The forward pass's hooks: the embedding row of token into out (dim floats); the begin of a
 * pass (layer 0's read); layer l's attention weights, then its feed-forward weights (each
 * waits for its read and starts the next stage's); the classifier. NULL / false when a read
 * failed (stream->status says how). */
bool llama_stream_embed(llama_model *m, int token, float *out);
bool llama_stream_begin(llama_model *m);
const llama_layer *llama_stream_attention(llama_model *m, int l);
const llama_layer *llama_stream_ffn(llama_model *m, int l);
const em_matrix *llama_stream_classifier(llama_model *m);

#endif /* ENGINES_LLAMA_LLAMA_INTERNAL_H_ */
