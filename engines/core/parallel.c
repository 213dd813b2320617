/* The serial parallel-for and the dispatcher used by ops.c. */
#include "engine/parallel.h"

#include <stddef.h>

void em_parallel_serial(em_task_fn fn, void *ctx, int n, void *user) {
  (void)user;
  if (n > 0) fn(ctx, 0, n);
}

void em_parallel_run(const em_parallel *par, em_task_fn fn, void *ctx, int n) {
  if (par && par->fn)
    par->fn(fn, ctx, n, par->user);
  else
    em_parallel_serial(fn, ctx, n, NULL);
}
