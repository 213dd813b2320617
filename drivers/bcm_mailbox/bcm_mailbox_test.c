// Host test of the mailbox driver against a fake VideoCore (built with BCM_MAILBOX_FAKE):
// a reply on the right channel, replies on other channels dropped, a silent or chattering
// device timing out within its spin budget, a property answer and each way it can be wrong.
#include "drivers/bcm_mailbox.h"

#include "common/check.h"

enum { MBOX0_READ = 0x00, MBOX0_STATUS = 0x18, MBOX1_WRITE = 0x20, MBOX1_STATUS = 0x38 };
#define STATUS_FULL (1u << 31)
#define STATUS_EMPTY (1u << 30)

static struct {
  int wrong_replies;   // replies on channel 9 before the right one; -1: for ever
  int silent;          // the inbox stays empty
  uint32_t written;    // the last word written to the outbox
  uint32_t answer[3];  // words 1, 4 and 5 of the property answer
  long reads;
  int flushes;
} dev;

uint32_t bcm_mailbox_fake_read(uintptr_t base, unsigned off) {
  (void)base;
  dev.reads++;
  if (off == MBOX1_STATUS) return 0;
  // A driver that never gives up ends here: the device falls silent, the CHECK on reads fails.
  if (off == MBOX0_STATUS) return dev.silent || dev.reads > 100000 ? STATUS_EMPTY : 0;
  CHECK(off == MBOX0_READ);
  if (dev.wrong_replies != 0) {
    if (dev.wrong_replies > 0) dev.wrong_replies--;
    return 0x1230u | 9u;
  }
  return dev.written;
}

void bcm_mailbox_fake_write(uintptr_t base, unsigned off, uint32_t v) {
  (void)base;
  CHECK(off == MBOX1_WRITE);
  dev.written = v;
}

void bcm_mailbox_fake_flush(volatile uint32_t *message, size_t len) {
  (void)len;
  if (dev.flushes++ % 2 == 0) return;  // the request
  message[1] = dev.answer[0];
  message[4] = dev.answer[1];
  message[5] = dev.answer[2];
}

uintptr_t bcm_mailbox_fake_address(const volatile void *message) {
  (void)message;
  return 0x80000;
}

static void reset(int wrong_replies, int silent) {
  dev.wrong_replies = wrong_replies;
  dev.silent = silent;
  dev.reads = 0;
  dev.flushes = 0;
  dev.answer[0] = 0x80000000u;  // processed
  dev.answer[1] = 0x80000004u;  // tag answered, 4 bytes
  dev.answer[2] = 0x12345678u;
}

int main(void) {
  uint32_t reply = 0;
  reset(0, 0);
  CHECK(bcm_mailbox_call(0, 8, 0xc0080000u, &reply, 100) == BCM_MAILBOX_OK);
  CHECK(reply == 0xc0080000u && dev.written == (0xc0080000u | 8));

  reset(3, 0);  // three replies for another channel are dropped
  CHECK(bcm_mailbox_call(0, 8, 0x1000, &reply, 100) == BCM_MAILBOX_OK && reply == 0x1000);

  reset(0, 1);  // no reply at all
  CHECK(bcm_mailbox_call(0, 8, 0x1000, &reply, 100) == BCM_MAILBOX_TIMEOUT);
  CHECKF(dev.reads <= 3 * 101, "%ld register reads", dev.reads);

  // A device that answers every poll on another channel used to hold the caller for ever.
  reset(-1, 0);
  CHECK(bcm_mailbox_call(0, 8, 0x1000, &reply, 100) == BCM_MAILBOX_TIMEOUT);
  CHECKF(dev.reads <= 3 * 101, "%ld register reads", dev.reads);

  uint32_t values[2] = {0, 0};
  reset(0, 0);
  CHECK(bcm_mailbox_property(0, 0xc0000000u, 0x00030046u, values, 1) == BCM_MAILBOX_OK);
  CHECK(values[0] == 0x12345678u);
  reset(0, 0);
  dev.answer[0] = 0x80000001u;  // the firmware's error code
  CHECK(bcm_mailbox_property(0, 0xc0000000u, 0x00030046u, values, 1) == BCM_MAILBOX_REJECTED);
  reset(0, 0);
  dev.answer[1] = 0x00000004u;  // tag not processed
  CHECK(bcm_mailbox_property(0, 0xc0000000u, 0x00030046u, values, 1) == BCM_MAILBOX_BAD_TAG);
  reset(0, 0);  // shorter than asked
  CHECK(bcm_mailbox_property(0, 0xc0000000u, 0x00030046u, values, 2) == BCM_MAILBOX_BAD_TAG);
  CHECK(bcm_mailbox_property(0, 0xc0000000u, 0x00030046u, values, 9) == BCM_MAILBOX_BAD_ARGS);
  return finish();
}
