// A fake board on the host (Linux), for fast tests of board programs off the board: the console is
// stdin/stdout, one core, parallel-for runs serially, RAM is one malloc'd block. When stdin ends
// the board powers off (exit status 0), as QEMU does when its piped input runs out.
#define _POSIX_C_SOURCE 200809L

#include "board/board.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "board/memory.h"
#include "board/parallel.h"
#include "board/time.h"
#include "host/host.h"

static size_t ram_bytes = (size_t)64 << 20;

void host_board_set_ram(size_t bytes) { ram_bytes = bytes; }

void board_init(void) { setvbuf(stdout, NULL, _IONBF, 0); }
void board_putc(char c) { putchar(c); }

// stdin is read a byte at a time without stdio's buffer, so that poll() sees what is waiting.
static int read_byte(void) {
  unsigned char c;
  ssize_t n;
  do n = read(STDIN_FILENO, &c, 1);
  while (n < 0 && errno == EINTR);
  return n == 1 ? c : -1;
}

static int stdin_ended;

int board_getc(void) {
  int c = stdin_ended ? -1 : read_byte();
  if (c < 0) board_exit(0);
  return c;
}

int board_try_getc(void) {
  struct pollfd p = {STDIN_FILENO, POLLIN, 0};
  if (stdin_ended || poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP))) return -1;
  int c = read_byte();
  if (c < 0) stdin_ended = 1;
  return c;
}

const char *board_name(void) { return "host"; }
const char *board_cpu(void) { return "x86_64"; }
const char *board_privilege(void) { return "mode=user"; }
int board_cores_online(void) { return 1; }

const uint8_t *board_build_id(size_t *len) {
  *len = 0;
  return NULL;
}

void board_exit(int status) {
  fflush(stdout);
  exit(status);
}

void board_parallel_for(board_task_fn fn, void *ctx, int n, void *user) {
  (void)user;
  fn(ctx, 0, n);
}

int board_parallel_set_cores(int cores) {
  (void)cores;
  return 1;
}

int board_parallel_cores(void) { return 1; }

uint64_t board_time_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int board_ram(uintptr_t *base, size_t *size) {
  static void *ram;
  if (!ram) ram = aligned_alloc(4096, ram_bytes);
  *base = (uintptr_t)ram;
  *size = ram ? ram_bytes : 0;
  return ram ? 0 : -1;
}
