// board/storage.h for QEMU virt: a USB stick (-device qemu-xhci -device usb-storage) through
// the PCIe host, the xHCI controller and USB mass storage (drivers/usb_stick.h). No RAM bundle.
#include "board/storage.h"

#include "board/time.h"
#include "drivers/usb_stick.h"
#include "memory_map.h"

enum { SCRATCHPAD_PAGES = 16 };

static usb_stick stick;
static uint8_t dma[XHCI_DMA_BYTES + SCRATCHPAD_PAGES * 4096] __attribute__((aligned(4096)));

int board_storage_cards(board_card cards[BOARD_CARDS_MAX]) {
  usb_stick_config config = {
      .host = {{(void *)(uintptr_t)QEMU_VIRT_PCIE_ECAM, pcie_ecam_read, pcie_ecam_write},
               0,
               QEMU_VIRT_PCIE_BUS_LAST,
               QEMU_VIRT_PCIE_MEM,
               QEMU_VIRT_PCIE_MEM,
               QEMU_VIRT_PCIE_MEM_SIZE,
               0},
      // coherent DMA, bus address = CPU address
      .xhci = {0, dma, sizeof dma, 0, board_time_us, 0, 0},
  };
  block_device *dev = usb_stick_open(&stick, &config);
  board_card card = {dev, dev ? stick.where : 0, dev ? 0 : stick.error, "usb"};
  cards[0] = card;
  return 1;
}

const void *board_model_region(size_t *size) {
  *size = 0;
  return 0;
}
