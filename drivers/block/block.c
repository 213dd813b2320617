#include "drivers/block.h"

int block_read(block_device *dev, uint64_t lba, uint64_t count, void *buf) {
  if (dev == NULL || dev->read == NULL || (buf == NULL && count != 0)) return BLOCK_ERR_INVALID;
  if (dev->num_blocks != 0 && (lba > dev->num_blocks || count > dev->num_blocks - lba)) {
    return BLOCK_ERR_RANGE;
  }
  uint8_t *out = buf;
  while (count > 0) {
    uint64_t n = count;
    if (n > UINT32_MAX) n = UINT32_MAX;
    if (dev->max_blocks != 0 && n > dev->max_blocks) n = dev->max_blocks;
    int status = dev->read(dev, lba, (uint32_t)n, out);
    if (status != BLOCK_OK) return status;
    lba += n;
    count -= n;
    out += n * BLOCK_SIZE;
  }
  return BLOCK_OK;
}

const char *block_strerror(int status) {
  switch (status) {
    case BLOCK_OK:
      return "ok";
    case BLOCK_ERR_IO:
      return "device I/O error";
    case BLOCK_ERR_TIMEOUT:
      return "device timed out";
    case BLOCK_ERR_NO_MEDIUM:
      return "no medium (no card)";
    case BLOCK_ERR_RANGE:
      return "sector past the end of the device";
    case BLOCK_ERR_INVALID:
      return "invalid argument";
    case BLOCK_ERR_UNSUPPORTED:
      return "unsupported device";
    default:
      return "unknown block device error";
  }
}
