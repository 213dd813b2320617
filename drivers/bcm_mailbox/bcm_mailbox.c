// Register layout: BCM2835 ARM peripherals (mailbox 0 read/status at +0x00/+0x18, mailbox 1
// write at +0x20); property message format from the Raspberry Pi firmware wiki.
#include "drivers/bcm_mailbox.h"

#include <stddef.h>

enum {
  MBOX0_READ = 0x00,
  MBOX0_STATUS = 0x18,
  MBOX1_WRITE = 0x20,
  MBOX1_STATUS = 0x38,
};
#define STATUS_FULL (1u << 31)
#define STATUS_EMPTY (1u << 30)

#define REQUEST 0x00000000u
#define RESPONSE_OK 0x80000000u
#define TAG_RESPONSE (1u << 31)  // set by the firmware in a processed tag's size word
#define MAX_VALUES 8u
#ifndef BCM_MAILBOX_SPINS
#define BCM_MAILBOX_SPINS 10000000u  // a property call's budget (a host fake sets a smaller one)
#endif

#ifdef BCM_MAILBOX_FAKE
// Host fuzzing (fuzz_mailbox.c): a fake VideoCore answers the register accesses, sees the
// message at each cache flush (the request before the call, its answer after) and gives the
// bus address under which it sees it.
uint32_t bcm_mailbox_fake_read(uintptr_t base, unsigned off);
void bcm_mailbox_fake_write(uintptr_t base, unsigned off, uint32_t v);
void bcm_mailbox_fake_flush(volatile uint32_t *message, size_t len);
uintptr_t bcm_mailbox_fake_address(const volatile void *message);
static inline uint32_t rd(uintptr_t base, unsigned off) { return bcm_mailbox_fake_read(base, off); }
static inline void wr(uintptr_t base, unsigned off, uint32_t v) {
  bcm_mailbox_fake_write(base, off, v);
}
static void flush(volatile uint32_t *p, size_t len) { bcm_mailbox_fake_flush(p, len); }
static uintptr_t address(const volatile void *p) { return bcm_mailbox_fake_address(p); }
#else
static inline uint32_t rd(uintptr_t base, unsigned off) {
  return *(volatile uint32_t *)(base + off);
}
static inline void wr(uintptr_t base, unsigned off, uint32_t v) {
  *(volatile uint32_t *)(base + off) = v;
}

#if defined(__aarch64__)
// Clean+invalidate the lines of [p, p+len) to the point of coherency.
static void flush(const volatile void *p, size_t len) {
  uint64_t ctr;
  __asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
  uintptr_t line = (uintptr_t)4 << ((ctr >> 16) & 0xf);
  for (uintptr_t a = (uintptr_t)p & ~(line - 1); a < (uintptr_t)p + len; a += line) {
    __asm__ volatile("dc civac, %0" ::"r"(a) : "memory");
  }
  __asm__ volatile("dsb sy" ::: "memory");
}
#elif defined(__ARM_ARCH) && __ARM_ARCH == 6
// ARMv6 (the Pi Zero's ARM1176): clean+invalidate each 32-byte data cache line by address
// (CP15 c7, c14, 1), then the ARMv6 data synchronization barrier (CP15 c7, c10, 4). Harmless
// with the data cache off.
static void flush(const volatile void *p, size_t len) {
  for (uintptr_t a = (uintptr_t)p & ~(uintptr_t)31; a < (uintptr_t)p + len; a += 32) {
    __asm__ volatile("mcr p15, 0, %0, c7, c14, 1" ::"r"(a) : "memory");
  }
  __asm__ volatile("mcr p15, 0, %0, c7, c10, 4" ::"r"(0) : "memory");
}
#else
#error "bcm_mailbox: cache maintenance for AArch64 and ARMv6 only"
#endif

static uintptr_t address(const volatile void *p) { return (uintptr_t)p; }
#endif

int bcm_mailbox_call(uintptr_t base, unsigned channel, uint32_t data, uint32_t *reply,
                     uint32_t spins) {
  uint32_t n = spins;
  while (rd(base, MBOX1_STATUS) & STATUS_FULL) {
    if (n-- == 0) return BCM_MAILBOX_TIMEOUT;
  }
  wr(base, MBOX1_WRITE, (data & ~0xfu) | (channel & 0xfu));
  n = spins;  // one budget for the reply: empty polls and replies dropped alike
  for (;;) {
    while (rd(base, MBOX0_STATUS) & STATUS_EMPTY) {
      if (n-- == 0) return BCM_MAILBOX_TIMEOUT;
    }
    uint32_t v = rd(base, MBOX0_READ);
    if ((v & 0xfu) == (channel & 0xfu)) {  // replies on other channels are dropped
      *reply = v & ~0xfu;
      return BCM_MAILBOX_OK;
    }
    if (n-- == 0) return BCM_MAILBOX_TIMEOUT;
  }
}

// One cache line (64 bytes on the A72/A53; two on the ARM1176), aligned: no other data shares its
// lines.
static volatile uint32_t message[16] __attribute__((aligned(64)));

int bcm_mailbox_property(uintptr_t base, uint32_t bus_alias, uint32_t tag, uint32_t *values,
                         unsigned count) {
  if (count > MAX_VALUES) return BCM_MAILBOX_BAD_ARGS;
  unsigned i = 0;
  message[i++] = 0;  // total size, below
  message[i++] = REQUEST;
  message[i++] = tag;
  message[i++] = 4 * count;  // value buffer size
  message[i++] = 0;          // request
  for (unsigned v = 0; v < count; v++) message[i++] = values[v];
  message[i++] = 0;  // end tag
  message[0] = 4 * i;
  flush(message, sizeof message);

  uintptr_t addr = address(message);
  if (addr >= 0x40000000u) return BCM_MAILBOX_BAD_ARGS;  // the alias covers the first 1 GB
  uint32_t reply;
  int err = bcm_mailbox_call(base, BCM_MAILBOX_CH_PROPERTY, (uint32_t)addr | bus_alias, &reply,
                             BCM_MAILBOX_SPINS);
  flush(message, sizeof message);  // drop lines fetched while the VC wrote the answer
  if (err != BCM_MAILBOX_OK) return err;
  if (message[1] != RESPONSE_OK) return BCM_MAILBOX_REJECTED;
  uint32_t answered = message[4];
  if (!(answered & TAG_RESPONSE) || (answered & ~TAG_RESPONSE) < 4 * count) {
    return BCM_MAILBOX_BAD_TAG;
  }
  for (unsigned v = 0; v < count; v++) values[v] = message[5 + v];
  return BCM_MAILBOX_OK;
}
