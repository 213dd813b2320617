// SMP test image (rpi3, rpi4): board_parallel_for on 1, 2, 3 and 4 cores against the serial result.
//   fill:   a[i] = hash(i), written by all cores
//   sum:    per-slice partial sums recorded in slots (atomic slot counter: needs coherent,
//           cacheable memory on every core), checked to cover [0, n) exactly once
//   matvec: y = W x in fp32; each row is one dot product, so any split is bit-identical
//   stress: many tiny parallel-fors (the wake/ack handshake under load)
// Prints "smp: cores=<k> ..." per core count and "N passed, N failed"; exit 0 if all passed.
#include "arch_probe.h"
#include "board/board.h"
#include "board/memory.h"
#include "board/parallel.h"
#include "board/time.h"
#include "common/fmt.h"
#include "common/mem.h"
#include "tests/board/board_check.h"

#define N_ITEMS (1 << 20)  // uint32 items: 4 MB
#define ROWS 256
#define COLS 1024  // W: 1 MB of fp32
#define MAX_SLOTS 64
#define STRESS_JOBS 200

static void check(int ok, const char *what, int cores) {
  CHECKF(ok, "%s with %d cores", what, cores);
}

static uint32_t hash(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  return x ^ (x >> 16);
}

struct slot {
  int begin, end;
  unsigned core;
  uint64_t sum;
};

struct work {
  uint32_t *a;
  float *w, *x, *y;
  struct slot slots[MAX_SLOTS];
  int slot_count;      // atomic
  unsigned core_mask;  // atomic: cores that ran a slice
};

static void record_core(struct work *wk) {
  __atomic_fetch_or(&wk->core_mask, 1u << probe_core(), __ATOMIC_RELAXED);
}

static void fill_task(void *ctx, int begin, int end) {
  struct work *wk = ctx;
  for (int i = begin; i < end; i++) wk->a[i] = hash((uint32_t)i);
  record_core(wk);
}

static void sum_task(void *ctx, int begin, int end) {
  struct work *wk = ctx;
  uint64_t s = 0;
  for (int i = begin; i < end; i++) s += wk->a[i];
  int k = __atomic_fetch_add(&wk->slot_count, 1, __ATOMIC_RELAXED);
  if (k < MAX_SLOTS) {
    struct slot sl = {begin, end, probe_core(), s};
    wk->slots[k] = sl;
  }
  record_core(wk);
}

static void matvec_task(void *ctx, int begin, int end) {
  struct work *wk = ctx;
  for (int r = begin; r < end; r++) {
    const float *row = wk->w + (long)r * COLS;
    float acc = 0.0f;
    for (int c = 0; c < COLS; c++) acc += row[c] * wk->x[c];
    wk->y[r] = acc;
  }
  record_core(wk);
}

static void count_task(void *ctx, int begin, int end) {
  __atomic_fetch_add((int *)ctx, end - begin, __ATOMIC_RELAXED);
}

// The slots of one sum: disjoint, covering [0, n), totalling want.
static int slots_ok(const struct work *wk, int n, uint64_t want, int *slices) {
  int count = wk->slot_count, next = 0;
  uint64_t total = 0;
  *slices = count;
  if (count > MAX_SLOTS) return 0;
  for (int found = 1; found && next < n;) {
    found = 0;
    for (int k = 0; k < count; k++) {
      if (wk->slots[k].begin == next && wk->slots[k].end > next) {
        total += wk->slots[k].sum;
        next = wk->slots[k].end;
        found = 1;
      }
    }
  }
  return next == n && total == want;
}

static int popcount(unsigned v) {
  int n = 0;
  for (; v; v &= v - 1) n++;
  return n;
}

int main(void) {
  uintptr_t base;
  size_t size;
  if (board_ram(&base, &size) != 0 || size < (size_t)N_ITEMS * 4 + (ROWS + 2) * COLS * 4 * 2) {
    fmt_puts(board_putc, "smp: no RAM arena\r\n");
    return 1;
  }
  static struct work wk;
  wk.a = (uint32_t *)base;
  wk.w = (float *)(base + (size_t)N_ITEMS * 4);
  wk.x = wk.w + ROWS * COLS;
  wk.y = wk.x + COLS;
  float *y_serial = wk.y + ROWS;
  for (int i = 0; i < ROWS * COLS; i++)
    wk.w[i] = (float)((int)(hash((uint32_t)i) % 2001) - 1000) / 997.0f;
  for (int c = 0; c < COLS; c++)
    wk.x[c] = (float)((int)(hash((uint32_t)c + 77u) % 2001) - 1000) / 991.0f;

  // Serial reference on core 0 alone.
  uint64_t want = 0;
  for (int i = 0; i < N_ITEMS; i++) want += hash((uint32_t)i);
  board_parallel_set_cores(1);
  wk.y = y_serial;
  matvec_task(&wk, 0, ROWS);
  wk.y = y_serial + ROWS;

  int online = board_cores_online();
  fmt_printf(board_putc, "smp: cores_online=%d items=%d matvec=%dx%d\r\n", online, N_ITEMS, ROWS,
             COLS);
  for (int cores = 1; cores <= online; cores++) {
    check(board_parallel_set_cores(cores) == cores, "set_cores", cores);
    memset(wk.a, 0, (size_t)N_ITEMS * 4);
    wk.core_mask = 0;
    wk.slot_count = 0;
    uint64_t t0 = board_time_us(), c0 = probe_counter();
    board_parallel_for(fill_task, &wk, N_ITEMS, NULL);
    board_parallel_for(sum_task, &wk, N_ITEMS, NULL);
    board_parallel_for(matvec_task, &wk, ROWS, NULL);
    uint64_t t1 = board_time_us(), c1 = probe_counter();
    int slices;
    check(slots_ok(&wk, N_ITEMS, want, &slices), "sum", cores);
    check(slices == cores, "slices", cores);
    check(popcount(wk.core_mask) == cores, "distinct cores", cores);
    check(memcmp(wk.y, y_serial, ROWS * sizeof(float)) == 0, "matvec bit-exact", cores);

    int counted = 0;
    for (int j = 0; j < STRESS_JOBS; j++) board_parallel_for(count_task, &counted, 1 + j % 7, NULL);
    int want_count = 0;
    for (int j = 0; j < STRESS_JOBS; j++) want_count += 1 + j % 7;
    check(counted == want_count, "stress", cores);

    fmt_printf(board_putc,
               "smp: cores=%d slices=%d core_mask=0x%x sum=0x%llx matvec=%s stress=%d/%d "
               "time_us=%llu ticks=%llu\r\n",
               cores, slices, wk.core_mask, (unsigned long long)want,
               memcmp(wk.y, y_serial, ROWS * sizeof(float)) == 0 ? "match" : "MISMATCH", counted,
               want_count, (unsigned long long)(t1 - t0), (unsigned long long)(c1 - c0));
  }

  // Edge cases: nothing to do, fewer items than cores, nested calls run serially.
  board_parallel_set_cores(online);
  int counted = 0;
  board_parallel_for(count_task, &counted, 0, NULL);
  check(counted == 0, "n=0", online);
  wk.slot_count = 0;
  board_parallel_for(sum_task, &wk, 3, NULL);
  int slices;
  check(slots_ok(&wk, 3, (uint64_t)hash(0) + hash(1) + hash(2), &slices) &&
            slices == (online < 3 ? online : 3),
        "n=3", online);
  check(board_parallel_set_cores(99) == online && board_parallel_set_cores(0) == 1, "clamp",
        online);

  CHECK_PRINTF("smp: ");
  return finish();
}
