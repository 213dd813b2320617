/* The deterministic fuzz driver of every LLVMFuzzerTestOneInput target (the engines' loaders
 * and encoders, the FAT32 driver) for builds without libFuzzer (zig ships none): mutates the
 * seed files with a seeded xorshift RNG and runs the target on each mutant; every input ends
 * right before an inaccessible page (guard.h), so a read past its end crashes. With UBSan
 * (-fno-sanitize-recover) undefined behaviour aborts. A crash, an abort or a hang fails the
 * test that runs it.
 *   <target> ITERATIONS RNG_SEED SEED_FILE...
 * Seeds up to 1 MiB are copied and mutated whole (bytes set, flipped, interesting values,
 * truncation, chunks copied, inserted, deleted). A bigger seed (a disk image) is mutated in
 * place where it lies and restored after each run, favouring its first MiB (the metadata),
 * with bytes set, flipped, special values and truncation. Prints the iterations run and how
 * many inputs the target accepted (its return value 1); every seed must be accepted. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fuzz/guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void put_le(uint8_t *p, size_t room, uint64_t v, int bytes) {
  for (int i = 0; i < bytes && (size_t)i < room; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* One to eight mutations of work[0..*size) in place (capacity bytes of room). */
static void mutate(uint8_t *work, size_t *size, size_t capacity) {
  static const uint64_t interesting[] = {0,
                                         1,
                                         2,
                                         3,
                                         4,
                                         7,
                                         8,
                                         16,
                                         63,
                                         64,
                                         65,
                                         127,
                                         128,
                                         255,
                                         256,
                                         0x7fff,
                                         0xffff,
                                         0x10000,
                                         1u << 24,
                                         0x7fffffff,
                                         0x80000000u,
                                         0xffffffffu,
                                         0xffffffffffffffffull,
                                         0x7fffffffffffffffull};
  int count = 1 + (int)(next() % 8);
  for (int m = 0; m < count && *size > 0; m++) {
    size_t at = next() % *size;
    uint64_t r = next();
    switch (r % 8) {
      case 0:
        work[at] = (uint8_t)(r >> 8);
        break;
      case 1:
        work[at] ^= (uint8_t)(1u << ((r >> 8) % 8));
        break;
      case 2:
      case 3: { /* an interesting u32 or u64 at a 4-aligned offset (header fields) */
        size_t aligned = at & ~(size_t)3;
        uint64_t v = interesting[(r >> 8) % (sizeof interesting / sizeof interesting[0])];
        if ((r >> 16) & 1) v += (uint64_t)(int64_t)((int)((r >> 20) % 5) - 2);
        put_le(work + aligned, *size - aligned, v, (r >> 24) & 1 ? 8 : 4);
        break;
      }
      case 4: /* truncate */
        *size = at;
        break;
      case 5: { /* copy a chunk over another place */
        size_t from = next() % *size, len = 1 + next() % 64;
        if (from + len > *size) len = *size - from;
        if (at + len > *size) len = *size - at;
        memmove(work + at, work + from, len);
        break;
      }
      case 6: { /* insert bytes */
        size_t len = 1 + next() % 16;
        if (*size + len > capacity) break;
        memmove(work + at + len, work + at, *size - at);
        for (size_t i = 0; i < len; i++) work[at + i] = (uint8_t)next();
        *size += len;
        break;
      }
      default: { /* delete bytes */
        size_t len = 1 + next() % 16;
        if (at + len > *size) len = *size - at;
        memmove(work + at, work + at + len, *size - at - len);
        *size -= len;
      }
    }
  }
}

enum { COPY_LIMIT = 1 << 20 }; /* bigger seeds are mutated in place */

/* Bytes that mean something in disk metadata: FAT entries, media descriptors, signatures. */
static const uint8_t kSpecial[] = {0x00, 0xff, 0x0f, 0xf8, 0xf7, 0x0b, 0x0c,
                                   0x55, 0xaa, 0xe5, 0x40, 0x80, 0x01, 0x02};

typedef struct undo_log {
  size_t at[64];
  uint8_t old[64];
  int n;
} undo_log;

static void set_byte(uint8_t *work, undo_log *u, size_t at, uint8_t v) {
  if (u->n == 64) return;
  u->at[u->n] = at;
  u->old[u->n++] = work[at];
  work[at] = v;
}

/* In-place mutations of a big input: one to sixteen, 3 in 4 within its first MiB. */
static void mutate_in_place(uint8_t *work, size_t size, undo_log *u) {
  size_t hot = size < COPY_LIMIT ? size : COPY_LIMIT;
  int count = 1 + (int)(next() % 16);
  for (int m = 0; m < count; m++) {
    size_t at = next() % 4 != 0 ? next() % hot : next() % size;
    uint64_t r = next();
    switch (r % 4) {
      case 0:
        set_byte(work, u, at, (uint8_t)(r >> 8));
        break;
      case 1:
        set_byte(work, u, at, kSpecial[(r >> 8) % sizeof kSpecial]);
        break;
      case 2:
        set_byte(work, u, at, work[at] ^ (uint8_t)(1u << ((r >> 8) % 8)));
        break;
      default: { /* a 32-bit little-endian value: cluster numbers, sizes, FAT entries */
        uint32_t v = (r >> 8) % 3 == 0 ? (uint32_t)(r >> 16) : (uint32_t)((r >> 16) % 4096);
        for (size_t i = 0; i < 4 && at + i < size; i++)
          set_byte(work, u, at + i, (uint8_t)(v >> (8 * i)));
      }
    }
  }
}

/* Runs the target on one mutant of a big seed placed at p, then puts the seed back. */
static int run_in_place(uint8_t *p, size_t size) {
  undo_log u = {{0}, {0}, 0};
  mutate_in_place(p, size, &u);
  size_t len = next() % 16 == 0 ? next() % size : size; /* a truncated image */
  int accepted = LLVMFuzzerTestOneInput(p, len);
  while (u.n > 0) {
    u.n--;
    p[u.at[u.n]] = u.old[u.n];
  }
  return accepted;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s ITERATIONS RNG_SEED SEED_FILE...\n", argv[0]);
    return 64;
  }
  long iterations = strtol(argv[1], NULL, 0);
  rng = strtoull(argv[2], NULL, 0);
  if (rng == 0) rng = 1;
  int n_seeds = argc - 3;
  uint8_t **seeds = calloc((size_t)n_seeds, sizeof *seeds);
  size_t *sizes = calloc((size_t)n_seeds, sizeof *sizes), biggest = 0;
  for (int i = 0; i < n_seeds; i++) {
    FILE *f = fopen(argv[3 + i], "rb");
    if (!f) return 64;
    fseek(f, 0, SEEK_END);
    sizes[i] = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    seeds[i] = malloc(sizes[i] + 1);
    if (fread(seeds[i], 1, sizes[i], f) != sizes[i]) return 64;
    fclose(f);
    if (sizes[i] > biggest) biggest = sizes[i];
  }
  size_t capacity = biggest + 256;
  uint8_t *work = malloc(capacity);
  guard_buffer guard;
  if (!work || guard_init(&guard, capacity) != 0) return 64;
  long accepted = 0, seeds_accepted = 0;
  int placed = -1; /* the big seed lying in the guard buffer, if any */
  for (long it = 0; it < iterations; it++) {
    int s = (int)(next() % (uint64_t)n_seeds);
    size_t size = sizes[s];
    if (size > COPY_LIMIT) {
      uint8_t *p = placed == s ? guard.limit - ((size + 3) & ~(size_t)3)
                               : guard_place(&guard, seeds[s], size);
      placed = s;
      accepted += run_in_place(p, size);
      continue;
    }
    memcpy(work, seeds[s], size);
    mutate(work, &size, capacity);
    placed = -1;
    accepted += LLVMFuzzerTestOneInput(guard_place(&guard, work, size), size);
  }
  /* The seeds themselves, last: a mutation must not have leaked into them. */
  for (int i = 0; i < n_seeds; i++)
    seeds_accepted += LLVMFuzzerTestOneInput(guard_place(&guard, seeds[i], sizes[i]), sizes[i]);
  printf("%ld iterations, %ld accepted; seeds accepted: %ld of %d\n", iterations, accepted,
         seeds_accepted, n_seeds);
  return seeds_accepted == n_seeds ? 0 : 1;
}
