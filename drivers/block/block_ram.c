#include "drivers/block.h"

static int ram_read(block_device *dev, uint64_t lba, uint32_t count, void *buf) {
  if (lba > dev->num_blocks || count > dev->num_blocks - lba) return BLOCK_ERR_RANGE;
  __builtin_memcpy(buf, (const uint8_t *)dev->ctx + lba * BLOCK_SIZE, (size_t)count * BLOCK_SIZE);
  return BLOCK_OK;
}

void block_ram_init(block_device *dev, const void *data, size_t bytes) {
  dev->read = ram_read;
  dev->num_blocks = bytes / BLOCK_SIZE;
  dev->max_blocks = 0;
  dev->ctx = (void *)(uintptr_t)data;
}
