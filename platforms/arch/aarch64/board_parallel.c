// The parallel facade of every AArch64 board (arch/board_parallel.h).
#include "arch/board_parallel.h"

#include "arch/aarch64.h"
#include "arch/smp.h"
#include "board/board.h"
#include "board/parallel.h"

static int cores_online = 1;
static int parallel_cores = 1;

void aarch64_board_cores_start(int cores, uint32_t timeout_ms) {
  cores_online = aarch64_wait_cores(cores, timeout_ms);
  parallel_cores = cores_online;
}

int board_cores_online(void) { return cores_online; }

void board_parallel_for(board_task_fn fn, void *ctx, int n, void *user) {
  (void)user;
  aarch64_parallel_for(fn, ctx, n, parallel_cores);
}

int board_parallel_set_cores(int cores) {
  parallel_cores = cores < 1 ? 1 : cores > cores_online ? cores_online : cores;
  return parallel_cores;
}

int board_parallel_cores(void) { return parallel_cores; }
