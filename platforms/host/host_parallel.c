/* host_parallel.h over pthreads and C11 atomics. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "host/parallel.h"

/* A thread waiting for a task (or for the workers to finish one) polls: a decode step's
 * tasks come microseconds apart, and waking a sleeping thread costs about as much. After
 * SPIN_NS it also yields the CPU between polls (with more threads than free cores, the
 * thread it waits for may need this one), and a worker still without a task after
 * SLEEP_AFTER_NS sleeps on the condition variable. */
enum { SPIN_NS = 50000, SLEEP_AFTER_NS = 2000000 };

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Tells the core this is a wait loop (x86 PAUSE, Arm YIELD): it leaves more of the core to
 * its other hardware thread, and spares the pipeline flush a tight loop pays on leaving. */
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ volatile("yield");
#endif
}

struct host_pool {
  int threads;
  pthread_t *workers; /* threads - 1 */
  pthread_mutex_t mutex;
  pthread_cond_t wake;
  atomic_uint generation; /* bumped for every task (and for stop) */
  atomic_int remaining;   /* workers still on the current task */
  atomic_int stop;
  atomic_int sleepers; /* workers in (or entering) pthread_cond_wait */
  em_task_fn fn;
  void *ctx;
  int n;
};

typedef struct worker_arg {
  host_pool *pool;
  int index;
} worker_arg;

static void run_share(host_pool *p, int index) {
  int begin = (int)((long long)p->n * index / p->threads);
  int end = (int)((long long)p->n * (index + 1) / p->threads);
  if (begin < end) p->fn(p->ctx, begin, end);
}

static void *worker_main(void *arg) {
  worker_arg a = *(worker_arg *)arg;
  free(arg);
  host_pool *p = a.pool;
  unsigned seen = 0;
  for (;;) {
    unsigned gen;
    uint64_t since = 0;
    for (unsigned spins = 0;
         (gen = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen; spins++) {
      cpu_relax();
      if (spins % 64 != 0) continue;
      uint64_t t = now_ns();
      if (since == 0) since = t;
      if (t - since < SPIN_NS) continue;
      if (t - since < SLEEP_AFTER_NS) {
        sched_yield();
        continue;
      }
      /* sleepers is raised before generation is read again, and publish() bumps generation
       * before reading sleepers (both sequentially consistent): one of the two sees the
       * other, so a task is never published to a sleeper without a wake-up */
      pthread_mutex_lock(&p->mutex);
      atomic_fetch_add(&p->sleepers, 1);
      while (atomic_load(&p->generation) == seen) pthread_cond_wait(&p->wake, &p->mutex);
      atomic_fetch_sub(&p->sleepers, 1);
      pthread_mutex_unlock(&p->mutex);
    }
    seen = gen;
    if (atomic_load(&p->stop)) return NULL;
    run_share(p, a.index);
    atomic_fetch_sub_explicit(&p->remaining, 1, memory_order_release);
  }
}

static void publish(host_pool *p) {
  atomic_fetch_add(&p->generation, 1);
  if (atomic_load(&p->sleepers) == 0) return; /* all spinning: they see the new generation */
  pthread_mutex_lock(&p->mutex);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mutex);
}

host_pool *host_pool_create(int threads) {
  if (threads <= 0) threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (threads <= 0) threads = 1;
  host_pool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->threads = threads;
  pthread_mutex_init(&p->mutex, NULL);
  pthread_cond_init(&p->wake, NULL);
  p->workers = calloc((size_t)threads, sizeof *p->workers);
  if (!p->workers) {
    free(p);
    return NULL;
  }
  for (int i = 1; i < threads; i++) {
    worker_arg *arg = malloc(sizeof *arg);
    if (!arg) abort();
    *arg = (worker_arg){p, i};
    if (pthread_create(&p->workers[i - 1], NULL, worker_main, arg) != 0) abort();
  }
  return p;
}

void host_pool_destroy(host_pool *p) {
  if (!p) return;
  atomic_store(&p->stop, 1);
  publish(p);
  for (int i = 1; i < p->threads; i++) pthread_join(p->workers[i - 1], NULL);
  pthread_cond_destroy(&p->wake);
  pthread_mutex_destroy(&p->mutex);
  free(p->workers);
  free(p);
}

int host_pool_threads(const host_pool *p) { return p ? p->threads : 1; }

void host_pool_for(em_task_fn fn, void *ctx, int n, void *user) {
  host_pool *p = (host_pool *)user;
  if (n <= 0) return;
  if (p->threads == 1 || n == 1) {
    fn(ctx, 0, n);
    return;
  }
  p->fn = fn;
  p->ctx = ctx;
  p->n = n;
  atomic_store_explicit(&p->remaining, p->threads - 1, memory_order_relaxed);
  publish(p);
  run_share(p, 0);
  uint64_t since = 0;
  for (unsigned spins = 1; atomic_load_explicit(&p->remaining, memory_order_acquire) != 0;
       spins++) {
    cpu_relax();
    if (spins % 64 != 0) continue;
    if (since == 0)
      since = now_ns();
    else if (now_ns() - since >= SPIN_NS)
      sched_yield(); /* a worker may be waiting for this core */
  }
}

em_parallel host_pool_parallel(host_pool *pool) {
  em_parallel par = {pool ? host_pool_for : NULL, pool};
  return par;
}
