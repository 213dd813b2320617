// board/parallel.h and board_cores_online for AArch64 boards, over aarch64_parallel_for: the
// board starts its secondaries in board_init, then calls aarch64_board_cores_start.
#ifndef ARCH_BOARD_PARALLEL_H_
#define ARCH_BOARD_PARALLEL_H_

#include <stdint.h>

// Waits up to timeout_ms for cores 0..cores-1 to check in; parallel-for then uses all of them.
void aarch64_board_cores_start(int cores, uint32_t timeout_ms);

#endif  // ARCH_BOARD_PARALLEL_H_
