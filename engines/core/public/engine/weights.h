/* A weight source: where an engine reads the weights of a model bigger than the RAM it is
 * given, one layer at a time (weight streaming). The engine sees offsets into the model file
 * only; the program behind the source knows whether that is a file on a card (FAT32, one file
 * or shards), a host file, or anything else.
 *
 * A batch of reads is started, then waited for. A source with a blocking read (PIO on a card
 * controller, pread) does the reads in start and wait returns their status; a source that can
 * read in the background (a DMA engine, a thread) returns from start at once, so the engine
 * computes layer l while layer l+1 arrives. One batch at a time: start is not called again
 * before wait. The requests and their buffers stay untouched by the engine until wait returns. */
#ifndef ENGINE_WEIGHTS_H_
#define ENGINE_WEIGHTS_H_

#include <stddef.h>
#include <stdint.h>

#include "engine/status.h"

/* size bytes at offset of the model file into dst. */
typedef struct em_read {
  uint64_t offset;
  void *dst;
  size_t size;
} em_read;

typedef struct em_weight_source {
  uint64_t file_size; /* bytes of the whole model file (every shard together) */
  /* Begins reads[0..n); EM_ERR_TRUNCATED / EM_ERR_IO style failures may come here or in wait. */
  em_status (*start)(void *user, const em_read *reads, int n);
  /* Waits for the batch start began; EM_OK when every byte arrived. */
  em_status (*wait)(void *user);
  void *user;
} em_weight_source;

/* One blocking read through the source (start, then wait). */
em_status em_weights_read(const em_weight_source *src, uint64_t offset, void *dst, size_t size);

#endif /* ENGINE_WEIGHTS_H_ */
