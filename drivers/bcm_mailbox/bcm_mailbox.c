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
#define SPINS 10000000u

static inline volatile uint32_t *reg(uintptr_t base, unsigned off) {
  return (volatile uint32_t *)(base + off);
}

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

int bcm_mailbox_call(uintptr_t base, unsigned channel, uint32_t data, uint32_t *reply,
                     uint32_t spins) {
  uint32_t n = spins;
  while (*reg(base, MBOX1_STATUS) & STATUS_FULL) {
    if (n-- == 0) return BCM_MAILBOX_TIMEOUT;
  }
  *reg(base, MBOX1_WRITE) = (data & ~0xfu) | (channel & 0xfu);
  for (;;) {
    n = spins;
    while (*reg(base, MBOX0_STATUS) & STATUS_EMPTY) {
      if (n-- == 0) return BCM_MAILBOX_TIMEOUT;
    }
    uint32_t v = *reg(base, MBOX0_READ);
    if ((v & 0xfu) == (channel & 0xfu)) {  // replies on other channels are dropped
      *reply = v & ~0xfu;
      return BCM_MAILBOX_OK;
    }
  }
}

// One cache line (64 bytes on the A72/A53), aligned: no other data shares its lines.
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

  uintptr_t addr = (uintptr_t)message;
  if (addr >= 0x40000000u) return BCM_MAILBOX_BAD_ARGS;  // the alias covers the first 1 GB
  uint32_t reply;
  int err =
      bcm_mailbox_call(base, BCM_MAILBOX_CH_PROPERTY, (uint32_t)addr | bus_alias, &reply, SPINS);
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
