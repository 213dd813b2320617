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

#endif /* ENGINES_LLAMA_LLAMA_INTERNAL_H_ */
