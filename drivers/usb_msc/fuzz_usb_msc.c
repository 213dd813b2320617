/* Fuzz target: the mass-storage class driver (bring-up, then reads) against a device whose
 * answers the input bends. Every transport call takes one control byte of the input: below
 * 0x80 the fake stick (fake_stick.h) answers as a good device would; 0x80-0xbf it answers and
 * then one bit of the bytes it returned is flipped (bit and byte from the control byte and the
 * next input byte); 0xc0-0xcf the call fails (stall, transfer error or timeout) without the
 * fake seeing it; 0xd0-0xff the call returns the next input byte's worth of input bytes as
 * data (at most what was asked) and succeeds. An input that has run out answers well.
 * The driver must end every call with a status, never ask for more than its buffers hold, and
 * never move more bytes than asked (guard bytes around the read buffer are checked). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/usb_msc.h"
#include "fake_stick.h"

enum { DISK_BLOCKS = 300, GUARD = 64, CALLS_MAX = 20000 };

static const uint8_t *in;
static size_t in_left;
static fake_stick stick;
static usb_transport good;
static long calls;
static uint8_t disk[DISK_BLOCKS * 512];

static uint8_t take(void) {
  if (!in_left) return 0;
  in_left--;
  return *in++;
}

// Bends one answer per the control byte c; data/actual as the transport call's.
static int bend(uint8_t c, int status, uint8_t *data, const uint32_t *actual) {
  if (c >= 0x80 && c < 0xc0 && *actual) {
    uint32_t at = take() % *actual;
    data[at] ^= (uint8_t)(1u << (c & 7));
  }
  return status;
}

static int fail_code(uint8_t c) {
  static const int codes[] = {USB_ERR_STALL, USB_ERR_IO, USB_ERR_TIMEOUT};
  return codes[c % 3];
}

static int replace(uint8_t *data, uint32_t len, uint32_t *actual) {
  uint32_t n = take();
  if (n > len) n = len;
  for (uint32_t i = 0; i < n; i++) data[i] = take();
  *actual = n;
  return USB_OK;
}

static int control(void *ctx, const usb_setup *s, void *data, uint32_t *actual) {
  (void)ctx;
  if (++calls > CALLS_MAX) abort();  // a hang
  uint8_t c = take();
  *actual = 0;
  if (c >= 0xc0 && c < 0xd0) return fail_code(c);
  if (c >= 0xd0) return (s->request_type & 0x80) ? replace(data, s->length, actual) : USB_OK;
  int st = good.control(good.ctx, s, data, actual);
  if (*actual > s->length) abort();
  return bend(c, st, data, actual);
}

static int bulk(void *ctx, int dir_in, void *data, uint32_t len, uint32_t *actual) {
  (void)ctx;
  if (++calls > CALLS_MAX) abort();
  uint8_t c = take();
  *actual = 0;
  if (c >= 0xc0 && c < 0xd0) return fail_code(c);
  if (c >= 0xd0 && dir_in) return replace(data, len, actual);
  int st = good.bulk(good.ctx, dir_in, data, len, actual);
  if (*actual > len) abort();
  return dir_in ? bend(c, st, data, actual) : st;
}

static int reset_endpoint(void *ctx, int dir_in) {
  (void)ctx;
  if (++calls > CALLS_MAX) abort();
  uint8_t c = take();
  if (c >= 0xc0 && c < 0xd0) return fail_code(c);
  return good.reset_endpoint(good.ctx, dir_in);
}

static uint8_t buffer[GUARD + USB_MSC_MAX_BLOCKS * 512 + GUARD];
static usb_msc m;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  in = data;
  in_left = size;
  calls = 0;
  if (!disk[1])
    for (size_t i = 0; i < sizeof disk; i++) disk[i] = (uint8_t)(i * 7 + i / 512);
  fake_stick_init(&stick, disk, sizeof disk, DISK_BLOCKS);
  good = fake_stick_transport(&stick);
  usb_transport bent = {0, control, bulk, reset_endpoint};
  int st = usb_msc_open(&m, &bent, fake_stick_configure, &stick);
  if (st == BLOCK_OK) {
    memset(buffer, 0xa5, GUARD);
    memset(buffer + sizeof buffer - GUARD, 0xa5, GUARD);
    uint64_t lba = take() % DISK_BLOCKS;
    uint32_t count = 1 + take() % USB_MSC_MAX_BLOCKS;
    block_read(&m.dev, lba, count, buffer + GUARD);
    block_read(&m.dev, 0, 1, buffer + GUARD);
    for (size_t i = 0; i < GUARD; i++)
      if (buffer[i] != 0xa5 || buffer[sizeof buffer - 1 - i] != 0xa5) abort();
  } else if (m.error[0] == '\0') {
    abort();  // a failed bring-up always says why
  }
  return st == BLOCK_OK;
}
