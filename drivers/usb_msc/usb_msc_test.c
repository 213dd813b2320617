// usb_msc against the fake stick: bring-up, READ (10)/(16) of up to 128 KiB per command, and
// every fault the fake can make: the read still returns the right bytes after a recovered
// stall or phase error, a persistent fault is one error, bad descriptors are named.
#include "drivers/usb_msc.h"

#include "common/check.h"
#include "fake_stick.h"

enum { DISK_BLOCKS = 600 };

static uint8_t disk[DISK_BLOCKS * 512];
static uint8_t buf[USB_MSC_MAX_BLOCKS * 512 + 3];
static usb_msc m;
static fake_stick s;

static int open_stick(void) {
  usb_transport t = fake_stick_transport(&s);
  return usb_msc_open(&m, &t, fake_stick_configure, &s);
}

static int same_as_disk(const uint8_t *p, uint64_t lba, uint32_t count) {
  return memcmp(p, disk + lba * 512, count * 512) == 0;
}

static void test_bring_up_and_reads(void) {
  fake_stick_init(&s, disk, sizeof disk, DISK_BLOCKS);
  s.faults = FAKE_UNIT_ATTENTION;
  CHECK(open_stick() == BLOCK_OK);
  CHECK(s.configured == 1 && s.endpoints_opened == 1);
  CHECK(m.dev.num_blocks == DISK_BLOCKS && m.dev.max_blocks == USB_MSC_MAX_BLOCKS);
  CHECK(strcmp(m.vendor, "Fake") == 0);
  CHECK(strcmp(m.product, "Stick?") == 0);  // the control byte is not printed raw
  // one whole command of 128 KiB at an odd address
  CHECK(block_read(&m.dev, 7, USB_MSC_MAX_BLOCKS, buf + 3) == BLOCK_OK);
  CHECK(same_as_disk(buf + 3, 7, USB_MSC_MAX_BLOCKS));
  CHECK(s.largest_read == USB_MSC_MAX_BLOCKS * 512);
  CHECK(block_read(&m.dev, DISK_BLOCKS - 1, 1, buf) == BLOCK_OK);
  CHECK(same_as_disk(buf, DISK_BLOCKS - 1, 1));
  CHECK(block_read(&m.dev, DISK_BLOCKS, 1, buf) == BLOCK_ERR_RANGE);
  CHECK(m.recoveries == 0);
}

static void test_recovered_faults(void) {
  static const unsigned faults[] = {FAKE_STALL_CBW,   FAKE_STALL_DATA, FAKE_STALL_CSW,
                                    FAKE_PHASE_ERROR, FAKE_BAD_TAG,    FAKE_SHORT_CSW,
                                    FAKE_SHORT_DATA};
  for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
    fake_stick_init(&s, disk, sizeof disk, DISK_BLOCKS);
    CHECK(open_stick() == BLOCK_OK);
    s.faults = faults[i];
    memset(buf, 0, 64 * 512);
    int st = block_read(&m.dev, 100, 64, buf);
    CHECKF(st == BLOCK_OK, "fault %u: %s\n", faults[i], block_strerror(st));
    CHECK(same_as_disk(buf, 100, 64));
    CHECK(s.faults == 0);
    CHECKF(faults[i] == FAKE_STALL_CSW || faults[i] == FAKE_STALL_DATA ||
               faults[i] == FAKE_SHORT_DATA || m.recoveries == 1,
           "fault %u: %d recoveries\n", faults[i], m.recoveries);
    CHECK(faults[i] != FAKE_STALL_DATA || s.halts_cleared >= 1);
    CHECK(block_read(&m.dev, 0, 1, buf) == BLOCK_OK && same_as_disk(buf, 0, 1));
  }
}

static void test_persistent_faults(void) {
  fake_stick_init(&s, disk, sizeof disk, DISK_BLOCKS);
  CHECK(open_stick() == BLOCK_OK);
  s.faults = FAKE_STALL_ALWAYS;
  CHECK(block_read(&m.dev, 0, 8, buf) == BLOCK_ERR_IO);
  CHECK(m.recoveries >= 1);

  fake_stick_init(&s, disk, sizeof disk, DISK_BLOCKS);
  s.faults = FAKE_STALL_ALWAYS;
  CHECK(open_stick() == BLOCK_ERR_IO);
  CHECK(strcmp(m.error, "SCSI: I/O error") == 0 || m.error[0] != '\0');

  fake_stick_init(&s, disk, sizeof disk, DISK_BLOCKS);
  s.faults = FAKE_NOT_READY;
  CHECK(open_stick() == BLOCK_ERR_NO_MEDIUM);

  fake_stick_init(&s, disk, sizeof disk, DISK_BLOCKS);
  s.device_type = 5;  // a CD-ROM
  CHECK(open_stick() == BLOCK_ERR_UNSUPPORTED);

  fake_stick_init(&s, disk, sizeof disk, DISK_BLOCKS);
  s.block_len = 4096;
  CHECK(open_stick() == BLOCK_ERR_UNSUPPORTED);
}

static void test_large_capacity(void) {
  fake_stick_init(&s, disk, sizeof disk, UINT64_C(1) << 33);  // 4 TiB: READ CAPACITY (16)
  CHECK(open_stick() == BLOCK_OK);
  CHECK(m.dev.num_blocks == UINT64_C(1) << 33);
  CHECK(block_read(&m.dev, 3, 2, buf) == BLOCK_OK && same_as_disk(buf, 3, 2));
  buf[0] = 1;
  CHECK(block_read(&m.dev, (UINT64_C(1) << 32) + 5, 1, buf) == BLOCK_OK);  // READ (16)
  CHECK(buf[0] == 0 && buf[511] == 0);
}

static void test_descriptors(void) {
  static const struct {
    const char *what;
    uint8_t config[40];
    size_t len;
    const char *error;
  } cases[] = {
      {"short header", {9, 2, 32, 0}, 4, "configuration descriptor: descriptor too short"},
      {"bLength 0",
       {9, 2, 18, 0, 1, 1, 0, 0x80, 50, 0, 4},
       18,
       "configuration descriptor: malformed descriptor"},
      {"interface past the end",
       {9, 2, 18, 0, 1, 1, 0, 0x80, 50, 200, 4, 0},
       18,
       "configuration descriptor: malformed descriptor"},
      {"printer, no storage",
       {9, 2, 32, 0, 1,    1, 0, 0x80, 50, 9, 4, 0, 0, 2, 7, 1,
        2, 0, 7,  5, 0x81, 2, 0, 2,    0,  7, 5, 2, 2, 0, 2, 0},
       32,
       "configuration descriptor: not a USB mass-storage (bulk-only SCSI) device"},
      {"one endpoint",
       {9, 2, 25, 0, 1, 1, 0, 0x80, 50, 9, 4, 0, 0, 1, 8, 6, 0x50, 0, 7, 5, 0x81, 2, 0, 2, 0},
       25,
       "configuration descriptor: not a USB mass-storage (bulk-only SCSI) device"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fake_stick_init(&s, disk, sizeof disk, DISK_BLOCKS);
    s.config_desc = cases[i].config;
    s.config_len = cases[i].len;
    CHECKF(open_stick() != BLOCK_OK && strcmp(m.error, cases[i].error) == 0, "%s: %s\n",
           cases[i].what, m.error);
    CHECK(s.configured == 0);
  }
  // oversized: wTotalLength says 1000 bytes, more than is read; the interface is in the part read
  static uint8_t big[USB_MSC_CONFIG_MAX + 100];
  memcpy(big, fake_stick_config_desc, sizeof fake_stick_config_desc);
  big[2] = 1000 & 0xff;
  big[3] = 1000 >> 8;
  for (size_t at = 32; at + 4 <= sizeof big; at += 4) {
    big[at] = 4;
    big[at + 1] = 0x24;  // class-specific padding descriptors
  }
  fake_stick_init(&s, disk, sizeof disk, DISK_BLOCKS);
  s.config_desc = big;
  s.config_len = sizeof big;
  CHECKF(open_stick() == BLOCK_OK, "oversized: %s\n", m.error);
  // a short device descriptor
  static const uint8_t short_device[6] = {18, 1, 0, 2, 0, 0};
  fake_stick_init(&s, disk, sizeof disk, DISK_BLOCKS);
  s.device_desc = short_device;
  s.device_len = sizeof short_device;
  CHECK(open_stick() == BLOCK_ERR_IO);
  CHECK(strcmp(m.error, "device descriptor: descriptor too short") == 0);
}

int main(void) {
  uint32_t seed = 14;
  for (size_t i = 0; i < sizeof disk; i++) disk[i] = (uint8_t)check_next_u32(&seed);
  test_bring_up_and_reads();
  test_recovered_faults();
  test_persistent_faults();
  test_large_capacity();
  test_descriptors();
  return finish();
}
