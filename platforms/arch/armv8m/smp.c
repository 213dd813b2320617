#include "arch/armv8m_smp.h"

static inline void wake(void) { __asm__ volatile("dsb\n\tsev" ::: "memory"); }
static inline void wait_event(void) { __asm__ volatile("wfe" ::: "memory"); }

// Zeroed by core 0's .bss clear, which runs before the board releases core 1.
static uint32_t core1_checked_in;
static uint32_t core1_acked;  // the last gen core 1 finished
static int in_job;

// Written by core 0 only before it publishes a new gen, while core 1 is idle.
static struct {
  armv8m_task_fn fn;
  void *ctx;
  int n;
  uint32_t gen;
} job;

static void run_half(int half) {
  long long n = job.n;
  job.fn(job.ctx, (int)(n * half / 2), (int)(n * (half + 1) / 2));
}

// Core 1's C entry (start.S, _start_core1). Never returns.
void armv8m_core1_main(void) {
  uint32_t seen = __atomic_load_n(&job.gen, __ATOMIC_ACQUIRE);
  __atomic_store_n(&core1_checked_in, 1u, __ATOMIC_RELEASE);
  wake();
  for (;;) {
    uint32_t gen;
    while ((gen = __atomic_load_n(&job.gen, __ATOMIC_ACQUIRE)) == seen) wait_event();
    seen = gen;
    run_half(1);
    __atomic_store_n(&core1_acked, gen, __ATOMIC_RELEASE);
    wake();
  }
}

int armv8m_cores_online(void) {
  return __atomic_load_n(&core1_checked_in, __ATOMIC_ACQUIRE) ? 2 : 1;
}

int armv8m_wait_core1(uint32_t spins) {
  while (armv8m_cores_online() < 2 && spins-- > 0) {
  }
  return armv8m_cores_online();
}

void armv8m_parallel_for(armv8m_task_fn fn, void *ctx, int n, int cores) {
  if (n <= 0) return;
  if (in_job || cores < 2 || n == 1 || !__atomic_load_n(&core1_checked_in, __ATOMIC_ACQUIRE)) {
    fn(ctx, 0, n);
    return;
  }
  in_job = 1;
  job.fn = fn;
  job.ctx = ctx;
  job.n = n;
  uint32_t gen = job.gen + 1;
  __atomic_store_n(&job.gen, gen, __ATOMIC_RELEASE);
  wake();
  run_half(0);
  while (__atomic_load_n(&core1_acked, __ATOMIC_ACQUIRE) != gen) wait_event();
  in_job = 0;
}
