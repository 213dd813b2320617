// Block device interface: 512-byte sectors read by logical block address. Drivers (SDHCI,
// USB mass storage, a RAM disk) fill in a block_device; filesystems read through block_read.
#ifndef DRIVERS_BLOCK_H_
#define DRIVERS_BLOCK_H_

#include <stddef.h>
#include <stdint.h>

#define BLOCK_SIZE 512u  // bytes per sector, for every device

typedef enum block_status {
  BLOCK_OK = 0,
  BLOCK_ERR_IO = 1,           // the device reported an error (CRC, bus error, bad response)
  BLOCK_ERR_TIMEOUT = 2,      // the device did not answer in time
  BLOCK_ERR_NO_MEDIUM = 3,    // no card or medium present
  BLOCK_ERR_RANGE = 4,        // lba + count lies past the end of the device
  BLOCK_ERR_INVALID = 5,      // bad argument (NULL buffer, count 0, device not initialised)
  BLOCK_ERR_UNSUPPORTED = 6,  // the device is of a kind the driver cannot use
} block_status;

typedef struct block_device block_device;
struct block_device {
  // Reads count (1..max_blocks) sectors starting at lba into buf (any alignment). Returns a
  // block_status. Callers go through block_read, which checks the range and splits.
  int (*read)(block_device *dev, uint64_t lba, uint32_t count, void *buf);
  uint64_t num_blocks;  // capacity in sectors (0: unknown, no range check)
  uint32_t max_blocks;  // most sectors one read call takes (0: no limit)
  void *ctx;            // the driver's state
};

// Reads count sectors from lba into buf: checks the range against num_blocks (count 0 reads
// nothing) and splits into calls of at most max_blocks sectors.
int block_read(block_device *dev, uint64_t lba, uint64_t count, void *buf);
// A short English description of a block_status, e.g. "device timed out".
const char *block_strerror(int status);

// A block device over a byte array in memory (tests, fuzzing, images placed in RAM by the boot
// loader). A trailing partial sector is not part of the device.
void block_ram_init(block_device *dev, const void *data, size_t bytes);

#endif  // DRIVERS_BLOCK_H_
