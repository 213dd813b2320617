// Two-core parallel-for for ARMv8-M boards whose second core the board releases itself
// (mps2_an521: SSE-200 CPUWAIT; rp2350: the boot ROM's SIO FIFO launch). Core 1 starts at
// __vectors_core1 (start.S: its own stack __stack1_top from linker.ld), checks in, and waits in
// wfe for jobs (board_parallel.c turns this into board/parallel.h). Same handshake as the AArch64
// boards: core 0 publishes a job with a release store of a generation number + sev; core 1
// acknowledges with a release store + sev.
#ifndef ARCH_ARMV8M_SMP_H_
#define ARCH_ARMV8M_SMP_H_

#include <stdint.h>

typedef void (*armv8m_task_fn)(void *ctx, int begin, int end);

// Core 1's vector table (256-byte aligned, as VTOR needs): initial SP and reset handler.
extern const uint32_t __vectors_core1[];

// Waits up to `spins` polls for core 1 to check in; returns the cores running (1 or 2).
int armv8m_wait_core1(uint32_t spins);
int armv8m_cores_online(void);  // 2 once core 1 has checked in, else 1

// Runs fn over [0, n) on `cores` cores (1 or 2; core 0 takes the first half) and returns when
// both halves are done. Serial when core 1 is not online, when nested, or for n == 1.
void armv8m_parallel_for(armv8m_task_fn fn, void *ctx, int n, int cores);

#endif  // ARCH_ARMV8M_SMP_H_
