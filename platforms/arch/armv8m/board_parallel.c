// board/parallel.h for the two-core ARMv8-M boards, over arch/armv8m_smp.h: the cores are the
// ones armv8m_wait_core1() counted.
#include "arch/armv8m_smp.h"
#include "board/parallel.h"

static int cores_in_use;  // 0 until set: all cores online

void board_parallel_for(board_task_fn fn, void *ctx, int n, void *user) {
  (void)user;
  armv8m_parallel_for(fn, ctx, n, board_parallel_cores());
}

int board_parallel_set_cores(int cores) {
  int online = armv8m_cores_online();
  cores_in_use = cores < 1 ? 1 : cores > online ? online : cores;
  return cores_in_use;
}

int board_parallel_cores(void) { return cores_in_use ? cores_in_use : armv8m_cores_online(); }
