#include "arch/aarch64.h"

#include "arch/smp.h"

// Zeroed by core 0's .bss clear before any secondary is woken.
static volatile uint32_t checked_in[AARCH64_MAX_CORES];

// The job core 0 publishes; a new gen announces it. Core 0 writes it only while every
// core of the previous job's `waiting` mask has acknowledged (acked[core] == gen).
static struct {
  aarch64_task_fn fn;
  void *ctx;
  int n, cores;
  signed char slice[AARCH64_MAX_CORES];  // slice of each core, -1: none
  uint32_t waiting;                      // cores that must acknowledge this gen
  uint32_t gen;
} job;
static uint32_t acked[AARCH64_MAX_CORES];
static int in_job, last_cores = 1;

const char *aarch64_privilege(void) {
  static const char *const names[] = {"el=0", "el=1", "el=2", "el=3"};
  return names[aarch64_current_el()];
}

int aarch64_core_online(unsigned core) {
  return core == 0 || (core < AARCH64_MAX_CORES && checked_in[core] != 0);
}

static void run_slice(int slice) {
  long long n = job.n, cores = job.cores;
  job.fn(job.ctx, (int)(n * slice / cores), (int)(n * (slice + 1) / cores));
}

void aarch64_secondary_main(unsigned core) {
  if (core >= AARCH64_MAX_CORES) aarch64_park();
  // Read the current gen before checking in: core 0 includes this core only in jobs
  // published after it saw the check-in, so those all have a newer gen.
  uint32_t seen = __atomic_load_n(&job.gen, __ATOMIC_ACQUIRE);
  __atomic_store_n(&checked_in[core], 1u, __ATOMIC_RELEASE);
  aarch64_wake_all();  // make the flag visible, nudge core 0 out of wfe
  for (;;) {
    uint32_t gen;
    while ((gen = __atomic_load_n(&job.gen, __ATOMIC_ACQUIRE)) == seen) __asm__ volatile("wfe");
    seen = gen;
    if (job.waiting & (1u << core)) {
      if (job.slice[core] >= 0) run_slice(job.slice[core]);
      __atomic_store_n(&acked[core], gen, __ATOMIC_RELEASE);
      aarch64_wake_all();
    }
  }
}

int aarch64_wait_cores(int cores, uint32_t timeout_ms) {
  uint64_t deadline = aarch64_counter() + aarch64_counter_hz() * timeout_ms / 1000;
  int online;
  do {
    online = 1;  // core 0 is running this
    for (int i = 1; i < cores && i < AARCH64_MAX_CORES; i++) online += checked_in[i] != 0;
  } while (online < cores && aarch64_counter() < deadline);
  return online;
}

void aarch64_parallel_for(aarch64_task_fn fn, void *ctx, int n, int cores) {
  if (n <= 0) return;
  if (aarch64_core_id() != 0 || in_job || cores <= 1 || n == 1) {
    if (aarch64_core_id() == 0 && !in_job) last_cores = 1;
    fn(ctx, 0, n);
    return;
  }
  if (cores > n) cores = n;
  int used = 1;  // core 0 takes slice 0
  uint32_t waiting = 0;
  job.slice[0] = 0;
  for (unsigned c = 1; c < AARCH64_MAX_CORES; c++) {
    job.slice[c] = -1;
    if (!aarch64_core_online(c)) continue;
    waiting |= 1u << c;
    if (used < cores) job.slice[c] = (signed char)used++;
  }
  job.fn = fn;
  job.ctx = ctx;
  job.n = n;
  job.cores = used;
  job.waiting = waiting;
  in_job = 1;
  last_cores = used;
  uint32_t gen = job.gen + 1;
  __atomic_store_n(&job.gen, gen, __ATOMIC_RELEASE);
  aarch64_wake_all();
  run_slice(0);
  for (unsigned c = 1; c < AARCH64_MAX_CORES; c++) {
    if (!(waiting & (1u << c))) continue;
    while (__atomic_load_n(&acked[c], __ATOMIC_ACQUIRE) != gen) __asm__ volatile("wfe");
  }
  in_job = 0;
}

int aarch64_parallel_last_cores(void) { return last_cores; }
