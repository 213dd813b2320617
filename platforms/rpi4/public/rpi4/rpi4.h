// Raspberry Pi 4 specifics beyond the board facade, for rpi4 test images and diagnostics.
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

#endif  // RPI4_RPI4_H_
