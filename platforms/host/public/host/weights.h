/* A weight source (engine/weights.h) over a model file on the host, for weight streaming in
 * host programs (tools/engine_cli): one file, or shards `<path>.000`, `<path>.001`, ... read
 * as their concatenation (what `export --shard-bytes` writes). Reads run on a thread of their
 * own, so the engine computes one layer while the next one arrives (the overlap a board's DMA
 * gives). Counts the bytes read. */
#ifndef HOST_WEIGHTS_H_
#define HOST_WEIGHTS_H_

#include <pthread.h>
#include <stdint.h>

#include "engine/weights.h"

#define HOST_SHARDS_MAX 64

typedef struct host_weights {
  em_weight_source source; /* hand &source to the session */
  int fd[HOST_SHARDS_MAX];
  uint64_t start[HOST_SHARDS_MAX + 1]; /* shard i holds file bytes [start[i], start[i + 1]) */
  int shards;
  uint64_t bytes_read; /* every byte read through the source */
  uint64_t reads;      /* batches */
  /* the batch in flight */
  const em_read *batch;
  int batch_n;
  int busy;
  int status; /* em_status of the batch */
  pthread_t thread;
} host_weights;

/* Opens path, or its shards when path itself is absent; 0, or -1 when neither opens (or a
 * shard is empty, or there are more than HOST_SHARDS_MAX). */
int host_weights_open(host_weights *w, const char *path);

/* The file's first bytes: n bytes at offset 0 into dst (blocking); 0 or -1. */
int host_weights_read(host_weights *w, uint64_t offset, void *dst, size_t n);

void host_weights_close(host_weights *w);

#endif /* HOST_WEIGHTS_H_ */
