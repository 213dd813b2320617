// Broadcom VideoCore mailbox 0 (ARM <- VC) / 1 (ARM -> VC) and the firmware's property
// interface on channel 8. Knows no board: calls take the mailbox base and the bus alias
// under which the VideoCore sees ARM RAM (both SoC facts: platforms/bcm).
//
// The property buffer is shared with the VideoCore, which does not snoop the ARM caches:
// the driver cleans it to memory before the call and cleans+invalidates it after. Not
// reentrant (one static buffer): call from one core at a time.
#ifndef DRIVERS_BCM_MAILBOX_H_
#define DRIVERS_BCM_MAILBOX_H_

#include <stdint.h>

#define BCM_MAILBOX_CH_PROPERTY 8u  // property tags, ARM to VC

// Property tags (firmware wiki "Mailbox property interface").
#define BCM_TAG_BOARD_REVISION 0x00010002u  // -> revision
#define BCM_TAG_BOARD_SERIAL 0x00010004u    // -> serial low, serial high
#define BCM_TAG_ARM_MEMORY 0x00010005u      // -> base, size
#define BCM_TAG_VC_MEMORY 0x00010006u       // -> base, size

enum bcm_mailbox_error {
  BCM_MAILBOX_OK = 0,
  BCM_MAILBOX_TIMEOUT = -1,   // no reply within the spin budget
  BCM_MAILBOX_REJECTED = -2,  // firmware answered with an error (or did not process it)
  BCM_MAILBOX_BAD_TAG = -3,   // tag not answered, or the answer is shorter than asked
  BCM_MAILBOX_BAD_ARGS = -4,  // too many values for the buffer
};

// Writes data (28 bits, 16-byte aligned bus address) to channel; waits for the reply on
// the same channel and stores its 28 data bits in *reply. Spins at most `spins` polls for
// room and `spins` more for the reply (replies on other channels count as polls).
int bcm_mailbox_call(uintptr_t base, unsigned channel, uint32_t data, uint32_t *reply,
                     uint32_t spins);

// One property tag: sends `count` request words from values (zeros for a "get") and, on
// success, overwrites values[0..count) with the response. count <= 8.
int bcm_mailbox_property(uintptr_t base, uint32_t bus_alias, uint32_t tag, uint32_t *values,
                         unsigned count);

#endif  // DRIVERS_BCM_MAILBOX_H_
