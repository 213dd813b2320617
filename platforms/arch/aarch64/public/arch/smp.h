// AArch64 parallel-for over the cores that checked in. Secondaries wait in wfe for a job
// (woken by sev), run their slice and report back; core 0 runs slice 0 and waits for the
// rest. No atomic read-modify-write: core 0 alone writes the job, each secondary alone
// writes its own acknowledgement, ordered by acquire/release, so it also works with the
// MMU off (Device memory). With the MMU on, every core must have it on (start.S does).
#ifndef ARCH_SMP_H_
#define ARCH_SMP_H_

typedef void (*aarch64_task_fn)(void *ctx, int begin, int end);

// Runs fn over [0, n) on `cores` cores (clamped to 1..online; core 0 included): slice k is
// [n*k/cores, n*(k+1)/cores) in core order, core 0 taking slice 0. Returns when every slice
// is done (its writes visible to the caller). Called from a secondary or from inside a
// running job, it runs fn(ctx, 0, n) on the calling core instead.
void aarch64_parallel_for(aarch64_task_fn fn, void *ctx, int n, int cores);

// Cores the last parallel_for from core 0 ran on (1 when it ran serially).
int aarch64_parallel_last_cores(void);

#endif  // ARCH_SMP_H_
