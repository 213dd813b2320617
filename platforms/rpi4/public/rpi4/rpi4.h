// Raspberry Pi 4 specifics beyond the board facade: firmware facts for test images and
// diagnostics, and the storage facts an image wires its drivers with.
#ifndef RPI4_RPI4_H_
#define RPI4_RPI4_H_

#include <stdint.h>

// What the firmware told board_init() through the mailbox property interface.
struct rpi4_firmware {
  int ok;                       // 1 when every query below was answered
  uint32_t revision;            // board revision code, e.g. 0xb03115 = Pi 4B 1.5, 2 GB
  uint32_t arm_base, arm_size;  // ARM's first RAM block (below the VideoCore's)
  uint32_t vc_base, vc_size;    // the VideoCore's RAM (gpu_mem)
};
const struct rpi4_firmware *rpi4_firmware(void);

uint64_t rpi4_ram_total(void);  // RAM the MMU maps as normal memory (bytes)
int rpi4_mmu_error(void);       // aarch64_mmu_enable()'s result in board_init (0: MMU on)

// An SD host controller to try for the card: base address, base clock (from the firmware; 0:
// take it from the controller's capabilities register) and a name for messages.
struct rpi4_sd_slot {
  uintptr_t base;
  uint32_t clock_hz;
  const char *name;
};
// The SD controllers in the order to try them (EMMC2, the SD slot, first); returns how many.
int rpi4_sd_slots(const struct rpi4_sd_slot **slots);
// Where a file the boot loader placed in RAM (config.txt `initramfs FILE ADDR`) is expected.
uintptr_t rpi4_ram_bundle(void);

#endif  // RPI4_RPI4_H_
