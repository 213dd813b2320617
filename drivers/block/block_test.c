// Host unit test for drivers/block: range checks, splitting by max_blocks, the RAM device.
#include "drivers/block.h"

#include "common/check.h"

static void check(const char *what, int ok) { CHECKF(ok, "%s", what); }

static uint8_t disk[8 * BLOCK_SIZE + 100];  // 8 sectors and a partial one
static int calls;
static uint32_t largest;
static int (*ram_read)(block_device *, uint64_t, uint32_t, void *);

static int counting_read(block_device *dev, uint64_t lba, uint32_t count, void *buf) {
  calls++;
  if (count > largest) largest = count;
  return ram_read(dev, lba, count, buf);
}

int main(void) {
  for (size_t i = 0; i < sizeof disk; i++) disk[i] = (uint8_t)(i * 7 + i / BLOCK_SIZE);
  block_device dev;
  block_ram_init(&dev, disk, sizeof disk);
  check("partial sector dropped", dev.num_blocks == 8);

  uint8_t buf[8 * BLOCK_SIZE];
  check("read all", block_read(&dev, 0, 8, buf) == BLOCK_OK && memcmp(buf, disk, sizeof buf) == 0);
  check("read middle", block_read(&dev, 3, 2, buf) == BLOCK_OK &&
                           memcmp(buf, disk + 3 * BLOCK_SIZE, 2 * BLOCK_SIZE) == 0);
  check("past end", block_read(&dev, 7, 2, buf) == BLOCK_ERR_RANGE);
  check("lba past end", block_read(&dev, 9, 1, buf) == BLOCK_ERR_RANGE);
  check("huge count", block_read(&dev, 1, UINT64_MAX, buf) == BLOCK_ERR_RANGE);
  check("zero count", block_read(&dev, 8, 0, buf) == BLOCK_OK);
  check("null buffer", block_read(&dev, 0, 1, NULL) == BLOCK_ERR_INVALID);

  ram_read = dev.read;
  dev.read = counting_read;
  dev.max_blocks = 3;
  memset(buf, 0, sizeof buf);
  check("split read", block_read(&dev, 0, 8, buf) == BLOCK_OK && calls == 3 && largest == 3 &&
                          memcmp(buf, disk, sizeof buf) == 0);
  check("strerror", strcmp(block_strerror(BLOCK_ERR_TIMEOUT), "device timed out") == 0 &&
                        strcmp(block_strerror(99), "unknown block device error") == 0);
  return finish();
}
