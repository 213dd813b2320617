// Board support shared by the AArch64 Broadcom boards (rpi3: BCM2837, rpi4: BCM2711), given
// each board's facts. It implements board.h on PL011 UART0 (semihosting exit), crash reports,
// the firmware's answers over the mailbox, MMU and caches (RAM normal, the board's device
// windows Device-nGnRE), the spin-table secondaries and the optional facade parts
// board/parallel.h, board/time.h (BCM system timer), board/memory.h (board_ram) and
// board/health.h (the firmware keepalive: ARM clock at its maximum, temperature, throttling).
// The board's board.c defines board_init() and calls bcm_board_init() first thing.
#ifndef BCM_AARCH64_BOARD_H_
#define BCM_AARCH64_BOARD_H_

#include <stdint.h>

#include "arch/mmu.h"

struct bcm_board {
  const char *name;                   // board_name(); also prefixes the board's messages
  const char *cpu;                    // board_cpu()
  uintptr_t uart, mailbox, systimer;  // PL011 UART0, VideoCore mailbox, 1 MHz system timer
  uint32_t baud;                      // console: 8N1 at this rate
  unsigned cores;                     // cores to release from the spin table (core 0 included)
  uint32_t core_wait_ms;              // how long core 0 waits for secondaries to check in
  uint32_t keepalive_us;              // board_keepalive() polls the firmware at most this often
  uint64_t ram_fallback;  // RAM size when the firmware's revision code does not give one
  uint64_t ram_limit;     // RAM below this address is mapped normal (the peripherals start
                          // there); RAM beyond 4 GB (8 GB Pi 4) is mapped from 4 GB up
  const struct aarch64_region *devices;  // device windows, mapped as given
  int device_count;
};

// Console, crash reports, firmware query, MMU (its RAM size decides the map), secondaries,
// ARM clock to its maximum and the first firmware readings.
// `board` must stay valid for the program's life.
void bcm_board_init(const struct bcm_board *board);

// What the firmware told bcm_board_init() through the mailbox property interface.
struct bcm_firmware {
  int ok;                       // 1 when every query below was answered
  uint32_t revision;            // board revision code, e.g. 0xb03115 = Pi 4B 1.5, 2 GB
  uint32_t arm_base, arm_size;  // ARM's first RAM block (below the VideoCore's)
  uint32_t vc_base, vc_size;    // the VideoCore's RAM (gpu_mem)
};
const struct bcm_firmware *bcm_board_firmware(void);

uint64_t bcm_board_ram_total(void);  // RAM the MMU maps as normal memory (bytes)
int bcm_board_mmu_error(void);       // aarch64_mmu_enable()'s result (0: MMU and caches on)

#endif  // BCM_AARCH64_BOARD_H_
