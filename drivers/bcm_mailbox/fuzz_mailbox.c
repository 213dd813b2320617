/* Fuzz target: the VideoCore mailbox driver and the parsing of the firmware's replies
 * (bcm_mailbox.c, bcm_firmware.c) against a fake VideoCore whose answers come from the input.
 * The fake behaves like the firmware: the outbox has room, the reply arrives on the channel
 * written, the property answer is processed with the values asked. Each register read and each
 * answer word takes one control byte of the input: below 0x80 well-behaved, 0x80-0xbf one bit
 * flipped, 0xc0-0xfe the next four input bytes instead, 0xff: the device is stuck from there
 * on (every register reads the next four bytes, for ever). An input that has run out reads
 * well-behaved. Header (4 bytes): the tag (index into the tags the boards ask), the value
 * count (0-9, over 8 is refused), the channel and spin budget of a raw call.
 * Checked: every call returns one of the driver's codes, gives up instead of hanging (over
 * 3 spin budgets of register reads is a hang; the property call's budget,
 * BCM_MAILBOX_SPINS, is 1000 polls in this build (-DBCM_MAILBOX_SPINS=1000u), 10 million on a
 * board), and a throttling answer reads as words.
 * Returns 1 when the property call succeeded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/bcm_firmware.h"
#include "drivers/bcm_mailbox.h"

enum {
  MBOX0_READ = 0x00,
  MBOX0_STATUS = 0x18,
  MBOX1_WRITE = 0x20,
  MBOX1_STATUS = 0x38,
  HEADER = 4,
  FAKE_ADDRESS = 0x00080000, /* where the fake VideoCore sees the message */
};
#define STATUS_EMPTY (1u << 30)

static const uint8_t *in;
static size_t in_left;
static int stuck, written, flushes;
static uint32_t last_write;
static long reads, read_limit;

static uint8_t take(void) {
  if (in_left == 0) return 0;
  in_left--;
  return *in++;
}

static uint32_t take32(void) {
  uint32_t v = take();
  v |= (uint32_t)take() << 8;
  v |= (uint32_t)take() << 16;
  return v | (uint32_t)take() << 24;
}

/* A well-behaved value, perturbed as the next control byte says. */
static uint32_t answer(uint32_t v) {
  if (stuck) return take32();
  uint8_t c = take();
  if (c == 0xff) {
    stuck = 1;
    return take32();
  }
  if (c >= 0xc0) return take32();
  if (c >= 0x80) return v ^ (1u << (c & 31));
  return v;
}

uint32_t bcm_mailbox_fake_read(uintptr_t base, unsigned off) {
  (void)base;
  if (++reads > read_limit) abort(); /* a wait that never gives up */
  switch (off) {
    case MBOX1_STATUS:
      return answer(0);
    case MBOX0_STATUS:
      return answer(written ? 0 : STATUS_EMPTY);
    case MBOX0_READ:
      written = 0;
      return answer(last_write);
    default:
      abort(); /* the driver reads no other register */
  }
}

void bcm_mailbox_fake_write(uintptr_t base, unsigned off, uint32_t v) {
  (void)base;
  if (off != MBOX1_WRITE) abort();
  last_write = v;
  written = 1;
}

/* The first flush of a property call shows the request; the second is where the firmware's
 * answer becomes visible: the fake writes it then. */
void bcm_mailbox_fake_flush(volatile uint32_t *message, size_t len) {
  if (flushes++ % 2 == 0) return;
  uint32_t words = (uint32_t)(len / 4), asked = message[3];
  message[1] = answer(0x80000000u);
  message[4] = answer(0x80000000u | asked);
  for (uint32_t i = 5; i < words; i++) message[i] = answer(message[i] + 0x1000u * i);
}

uintptr_t bcm_mailbox_fake_address(const volatile void *message) {
  (void)message;
  return answer(FAKE_ADDRESS);
}

static int valid(int err) { return err <= BCM_MAILBOX_OK && err >= BCM_MAILBOX_BAD_ARGS; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint32_t tags[] = {
      BCM_TAG_BOARD_REVISION, BCM_TAG_ARM_MEMORY,         BCM_TAG_VC_MEMORY,
      BCM_TAG_GET_CLOCK_RATE, BCM_TAG_GET_MAX_CLOCK_RATE, BCM_TAG_GET_TEMPERATURE,
      BCM_TAG_GET_THROTTLED,  BCM_TAG_SET_CLOCK_RATE,
  };
  if (size < HEADER) return 0;
  uint32_t tag = tags[data[0] % (sizeof tags / sizeof tags[0])];
  unsigned count = data[1] % 10;
  unsigned channel = data[2] & 0xf;
  uint32_t spins = data[3];
  in = data + HEADER;
  in_left = size - HEADER;
  stuck = written = flushes = 0;

  uint32_t reply;
  reads = 0;
  read_limit = 3L * (spins + 1);
  int err = bcm_mailbox_call(0x3f00b880u, channel, FAKE_ADDRESS, &reply, spins);
  if (!valid(err) || (err == BCM_MAILBOX_OK && (reply & 0xf) != 0)) abort();

  uint32_t values[9] = {BCM_CLOCK_ARM, 0, 0, 0, 0, 0, 0, 0, 0};
  written = 0;
  reads = 0;
  read_limit = 3L * (BCM_MAILBOX_SPINS + 1);
  err = bcm_mailbox_property(0x3f00b880u, 0xc0000000u, tag, values, count);
  if (!valid(err)) abort();
  if (count > 8 && err != BCM_MAILBOX_BAD_ARGS) abort();
  if (err == BCM_MAILBOX_OK && count >= 1) {
    const char *words = bcm_throttled_describe(values[0]);
    size_t n = strlen(words);
    if (n >= 96) abort();
    for (size_t i = 0; i < n; i++)
      if (words[i] < 0x20 || words[i] > 0x7e) abort();
  }
  return err == BCM_MAILBOX_OK;
}
