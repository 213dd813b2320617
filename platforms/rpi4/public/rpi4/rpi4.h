// The Pi 4 chat's storage (images/chat/storage_rpi4.c) still asks the board for its SD slots
// and RAM-bundle address under these names; they are bcm/sd_slots.h's. Goes once that storage
// is the board's backend of board/storage.h.
#ifndef RPI4_RPI4_H_
#define RPI4_RPI4_H_

#include <stdint.h>

#include "bcm/sd_slots.h"

#define rpi4_sd_slot bcm_sd_slot
static inline int rpi4_sd_slots(const struct bcm_sd_slot **slots) { return bcm_sd_slots(slots); }
static inline uintptr_t rpi4_ram_bundle(void) { return bcm_ram_bundle(); }

#endif  // RPI4_RPI4_H_
