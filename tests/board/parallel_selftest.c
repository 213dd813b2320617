/* Parallel-for self-test image, for boards with board/parallel.h (rpi4: 4 cores; mps2_an521
 * and rp2350: 2 Cortex-M33s): on every core count, every index of [0, n) runs exactly once
 * (a core that missed its slice or ran another's shows), nested calls run serially, the core
 * count clamps, and em_matmul (f32 and q8) gives the same bits on 1 core as on all.
 * Prints "parallel self-test: board=B N passed, M failed" and exits with M != 0. */
#include <stddef.h>
#include <stdint.h>

#include "board/board.h"
#include "board/parallel.h"
#include "common/fmt.h"
#include "engine/kernels.h"
#include "engine/ops.h"
#include "tests/board/board_check.h"

/* One check; a failure names what and two numbers that locate it. */
#define check_that(ok, what, a, b) CHECKF(ok, "%s (%d, %d)", what, (int)(a), (int)(b))

enum { MAX_N = 1024, ROWS = 67, COLS = 96, GROUP = 32 };

static volatile uint8_t g_hits[MAX_N];
static volatile uint8_t g_nested[16 * 4];

static void count(void *ctx, int begin, int end) {
  (void)ctx;
  for (int i = begin; i < end; i++) g_hits[i]++;
}

static void count_nested(void *ctx, int begin, int end) {
  volatile uint8_t *slots = (volatile uint8_t *)ctx;
  for (int i = begin; i < end; i++) slots[i]++;
}

/* Each index of the outer range starts an inner parallel-for over 4 slots of its own. */
static void outer(void *ctx, int begin, int end) {
  (void)ctx;
  for (int i = begin; i < end; i++) {
    board_parallel_for(count_nested, (void *)&g_nested[i * 4], 4, NULL);
    g_hits[i]++;
  }
}

static int each_once(int n) {
  for (int i = 0; i < n; i++)
    if (g_hits[i] != 1) return 0;
  return 1;
}

static uint32_t g_rng = 0x2545f491u;

static float g_w[ROWS * COLS], g_x[COLS], g_one[ROWS], g_all[ROWS], g_ws[ROWS * COLS / GROUP];
static float g_xs[COLS / GROUP];
static int8_t g_w8[ROWS * COLS], g_x8[COLS];

static int same_bits(const float *a, const float *b, int n) {
  for (int i = 0; i < n; i++) {
    uint32_t u, v;
    __builtin_memcpy(&u, &a[i], 4);
    __builtin_memcpy(&v, &b[i], 4);
    if (u != v) return 0;
  }
  return 1;
}

static void test_matmul(int cores) {
  em_parallel par = {board_parallel_for, NULL};
  em_matrix f32 = {EM_F32, g_w, NULL, ROWS, COLS, 0};
  em_matrix q8 = {EM_Q8, g_w8, g_ws, ROWS, COLS, GROUP};
  em_qvec xq = {g_x8, g_xs, COLS, GROUP};
  board_parallel_set_cores(1);
  em_matmul(&par, g_one, &f32, g_x, NULL);
  board_parallel_set_cores(cores);
  em_matmul(&par, g_all, &f32, g_x, NULL);
  check_that(same_bits(g_one, g_all, ROWS), "f32 matmul: 1 core vs all", cores, ROWS);
  board_parallel_set_cores(1);
  em_matmul(&par, g_one, &q8, NULL, &xq);
  board_parallel_set_cores(cores);
  em_matmul(&par, g_all, &q8, NULL, &xq);
  check_that(same_bits(g_one, g_all, ROWS), "q8 matmul: 1 core vs all", cores, ROWS);
}

int main(void) {
  int online = board_cores_online();
  fmt_printf(board_putc, "parallel self-test: %d cores online\r\n", online);
  check_that(online >= 2, "more than one core online", online, 2);
  check_that(board_parallel_set_cores(online + 5) == online, "core count clamps high", online, 0);
  check_that(board_parallel_set_cores(0) == 1, "core count clamps low", 0, 1);

  static const int sizes[] = {1, 2, 3, 7, 64, 1001, MAX_N};
  for (int cores = 1; cores <= online; cores++) {
    check_that(board_parallel_set_cores(cores) == cores, "set cores", cores, cores);
    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
      int n = sizes[s];
      for (int i = 0; i < n; i++) g_hits[i] = 0;
      board_parallel_for(count, NULL, n, NULL);
      check_that(each_once(n), "every index exactly once", cores, n);
    }
    for (int i = 0; i < 16; i++) g_hits[i] = 0;
    for (int i = 0; i < 16 * 4; i++) g_nested[i] = 0;
    board_parallel_for(outer, NULL, 16, NULL);
    int nested_once = 1;
    for (int i = 0; i < 16 * 4; i++) nested_once &= g_nested[i] == 1;
    check_that(each_once(16) && nested_once, "nested calls", cores, 16);
  }

  for (int i = 0; i < ROWS * COLS; i++) g_w[i] = check_frand(&g_rng);
  for (int i = 0; i < COLS; i++) g_x[i] = check_frand(&g_rng);
  em_quantize_q8(g_w8, g_ws, g_w, ROWS * COLS, GROUP);
  em_quantize_q8(g_x8, g_xs, g_x, COLS, GROUP);
  test_matmul(online);

  return selftest_finish("parallel");
}
