/* A pthread parallel-for for host programs (tools/bench, tools/engine_cli): the engines'
 * em_parallel_for_fn over a pool of worker threads. The calling thread works too; workers
 * poll for the next task (a decode step's tasks come microseconds apart), yielding the CPU
 * after 50 us, and sleep on a condition variable after 2 ms. */
#ifndef HOST_PARALLEL_H_
#define HOST_PARALLEL_H_

#include "engine/parallel.h"

typedef struct host_pool host_pool;

/* A pool running tasks on `threads` threads (the caller included); NULL on failure.
 * threads <= 0 means one per online CPU. */
host_pool *host_pool_create(int threads);
void host_pool_destroy(host_pool *pool);
int host_pool_threads(const host_pool *pool);

/* em_parallel_for_fn: `user` is the host_pool. Splits [0, n) into one contiguous range per
 * thread. Not reentrant: one task at a time per pool. */
void host_pool_for(em_task_fn fn, void *ctx, int n, void *user);

/* {host_pool_for, pool}, or the serial hook for a NULL pool. */
em_parallel host_pool_parallel(host_pool *pool);

#endif /* HOST_PARALLEL_H_ */
