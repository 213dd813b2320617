/* The parallel-for hook a board gives the engine (e.g. one task per core). */
#ifndef ENGINE_PARALLEL_H_
#define ENGINE_PARALLEL_H_

/* Work on the items [begin, end) of a task. */
typedef void (*em_task_fn)(void *ctx, int begin, int end);

/* Runs fn over [0, n) split into disjoint ranges, possibly concurrently, and returns when
 * all ranges are done. `user` is the board's own pointer (e.g. its core table). */
typedef void (*em_parallel_for_fn)(em_task_fn fn, void *ctx, int n, void *user);

/* A hook together with its user pointer; a NULL fn means serial. */
typedef struct em_parallel {
  em_parallel_for_fn fn;
  void *user;
} em_parallel;

/* The serial default: fn(ctx, 0, n) on the calling core. */
void em_parallel_serial(em_task_fn fn, void *ctx, int n, void *user);

/* Runs fn over [0, n) with the hook in `par` (serially if par or par->fn is NULL). */
void em_parallel_run(const em_parallel *par, em_task_fn fn, void *ctx, int n);

#endif /* ENGINE_PARALLEL_H_ */
