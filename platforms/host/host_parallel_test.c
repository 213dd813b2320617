/* host_pool_for covers [0, n) exactly once per task, for any thread count and n (also
 * n < threads), over many back-to-back tasks, and over tasks far enough apart that the
 * workers have gone to sleep and must be woken. */
#define _POSIX_C_SOURCE 199309L /* nanosleep */
#include <stdatomic.h>
#include <time.h>

#include "common/check.h"
#include "host/parallel.h"

enum { MAX_N = 1000 };

static atomic_int g_hits[MAX_N];

static void mark(void *ctx, int begin, int end) {
  (void)ctx;
  for (int i = begin; i < end; i++) atomic_fetch_add(&g_hits[i], 1);
}

int main(void) {
  for (int threads = 1; threads <= 5; threads++) {
    host_pool *pool = host_pool_create(threads);
    CHECK(pool != NULL && host_pool_threads(pool) == threads);
    em_parallel par = host_pool_parallel(pool);
    int bad = 0;
    for (int round = 0; round < 306; round++) {
      if (round >= 300) nanosleep(&(struct timespec){0, 5000000}, NULL); /* past the spin */
      int n = (round * 37) % MAX_N;
      for (int i = 0; i < n; i++) atomic_store(&g_hits[i], 0);
      em_parallel_run(&par, mark, NULL, n);
      for (int i = 0; i < n; i++) bad += atomic_load(&g_hits[i]) != 1;
    }
    CHECKF(bad == 0, "%d threads: %d indices not run exactly once", threads, bad);
    host_pool_destroy(pool);
  }
  return finish();
}
