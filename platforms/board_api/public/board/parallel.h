// Optional board facade: parallel-for over the board's cores. Implemented by rpi0 (one core:
// in place), rpi3, rpi4, qemu_virt, rp2350 and mps2_an521; an image using it links only on
// boards that do. board_parallel_for
// has exactly the type of the engines' hook (em_parallel_for_fn in
// engines/core/public/engine/parallel.h), so an image passes it straight through:
// em_parallel par = {board_parallel_for, NULL};
#ifndef BOARD_PARALLEL_H_
#define BOARD_PARALLEL_H_

typedef void (*board_task_fn)(void *ctx, int begin, int end);  // = em_task_fn

// Runs fn over [0, n), split into one contiguous range per core in use (the calling core,
// core 0, takes the first), and returns when all are done. `user` is unused (pass NULL).
// From a task (nested) or a core other than 0 it runs fn(ctx, 0, n) serially.
void board_parallel_for(board_task_fn fn, void *ctx, int n, void *user);
// Cores parallel-for uses from now on: clamped to 1..board_cores_online(); returns it.
int board_parallel_set_cores(int cores);
int board_parallel_cores(void);

#endif  // BOARD_PARALLEL_H_
