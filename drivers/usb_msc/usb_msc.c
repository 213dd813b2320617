// USB mass storage over Bulk-Only Transport with SCSI commands (usb_msc.h).
#include "drivers/usb_msc.h"

#include <stddef.h>

enum {
  CBW_LEN = 31,
  CSW_LEN = 13,
  CBW_SIGNATURE = 0x43425355,  // "USBC"
  CSW_SIGNATURE = 0x53425355,  // "USBS"
  CSW_PASSED = 0,
  CSW_FAILED = 1,
  CSW_PHASE_ERROR = 2,
  CHECK_CONDITION = 100,  // internal: the command failed (CSW status 1); sense data explains
  BOT_RESET = 0xff,       // class request: Bulk-Only Mass Storage Reset
  TUR_TRIES = 10,
  INQUIRY_LEN = 36,
  SENSE_LEN = 18,
  SENSE_NOT_READY = 2,
  SENSE_UNIT_ATTENTION = 6,
  SCSI_TEST_UNIT_READY = 0x00,
  SCSI_REQUEST_SENSE = 0x03,
  SCSI_INQUIRY = 0x12,
  SCSI_READ_CAPACITY10 = 0x25,
  SCSI_READ10 = 0x28,
  SCSI_READ16 = 0x88,
  SCSI_SERVICE_ACTION_IN16 = 0x9e,
  SA_READ_CAPACITY16 = 0x10,
};

static void put_le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put_be(uint8_t *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}
static uint64_t get_be(const uint8_t *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v = v << 8 | p[i];
  return v;
}

static int block_status_of(int usb) {
  switch (usb) {
    case USB_OK:
      return BLOCK_OK;
    case USB_ERR_TIMEOUT:
      return BLOCK_ERR_TIMEOUT;
    case USB_ERR_NO_DEVICE:
      return BLOCK_ERR_NO_MEDIUM;
    default:
      return BLOCK_ERR_IO;
  }
}

// BOT 5.3.4: the class reset, then both bulk endpoints un-halted (on the device and the host).
static void reset_recovery(usb_msc *m) {
  usb_setup reset = {0x21, BOT_RESET, 0, m->interface, 0};
  uint32_t actual;
  m->recoveries++;
  m->t.control(m->t.ctx, &reset, 0, &actual);
  m->t.reset_endpoint(m->t.ctx, 1);
  m->t.reset_endpoint(m->t.ctx, 0);
}

static int read_csw(usb_msc *m, uint32_t *actual) {
  *actual = 0;
  return m->t.bulk(m->t.ctx, 1, m->csw, CSW_LEN, actual);
}

// One command: CBW, data phase (len bytes in or out; 0: none), CSW. Returns a block_status, or
// CHECK_CONDITION when the device says the command failed. *moved: data bytes transferred.
static int command(usb_msc *m, const uint8_t *cb, uint8_t cb_len, int in, void *data, uint32_t len,
                   uint32_t *moved) {
  uint8_t *w = m->cbw;
  for (int i = 0; i < CBW_LEN; i++) w[i] = 0;
  put_le32(w, CBW_SIGNATURE);
  put_le32(w + 4, ++m->tag);
  put_le32(w + 8, len);
  w[12] = in ? 0x80 : 0;
  w[13] = 0;  // LUN 0
  w[14] = cb_len;
  for (int i = 0; i < cb_len; i++) w[15 + i] = cb[i];
  *moved = 0;
  uint32_t actual = 0;
  int st = m->t.bulk(m->t.ctx, 0, w, CBW_LEN, &actual);
  if (st != USB_OK || actual != CBW_LEN) {
    reset_recovery(m);
    return st == USB_OK ? BLOCK_ERR_IO : block_status_of(st);
  }
  if (len) {
    st = m->t.bulk(m->t.ctx, in, data, len, moved);
    if (*moved > len) *moved = len;
    if (st == USB_ERR_STALL) {
      // BOT 6.7.2/6.7.3: the host clears the halt and goes on to the status phase.
      if (m->t.reset_endpoint(m->t.ctx, in) != USB_OK) {
        reset_recovery(m);
        return BLOCK_ERR_IO;
      }
    } else if (st != USB_OK) {
      reset_recovery(m);
      return block_status_of(st);
    }
  }
  st = read_csw(m, &actual);
  if (st == USB_ERR_STALL) {  // BOT 6.7.2: clear bulk-in and try the CSW once more
    if (m->t.reset_endpoint(m->t.ctx, 1) == USB_OK) st = read_csw(m, &actual);
  }
  if (st != USB_OK) {
    reset_recovery(m);
    return block_status_of(st);
  }
  const uint8_t *s = m->csw;
  int valid = actual == CSW_LEN && get_le32(s) == CSW_SIGNATURE && get_le32(s + 4) == m->tag &&
              s[12] <= CSW_PHASE_ERROR && get_le32(s + 8) <= len;
  if (!valid || s[12] == CSW_PHASE_ERROR) {
    reset_recovery(m);
    return BLOCK_ERR_IO;
  }
  return s[12] == CSW_FAILED ? CHECK_CONDITION : BLOCK_OK;
}

static void request_sense(usb_msc *m) {
  uint8_t cb[6] = {SCSI_REQUEST_SENSE, 0, 0, 0, SENSE_LEN, 0};
  uint32_t got;
  m->sense_key = m->asc = m->ascq = 0;
  if (command(m, cb, 6, 1, m->reply, SENSE_LEN, &got) != BLOCK_OK || got < 14) return;
  m->sense_key = m->reply[2] & 0xf;
  m->asc = m->reply[12];
  m->ascq = m->reply[13];
}

// A command with its sense read on failure: a block_status.
static int scsi(usb_msc *m, const uint8_t *cb, uint8_t cb_len, void *data, uint32_t len,
                uint32_t *moved) {
  int st = command(m, cb, cb_len, 1, data, len, moved);
  if (st == CHECK_CONDITION) {
    request_sense(m);
    return BLOCK_ERR_IO;
  }
  return st;
}

// Copies n bytes of INQUIRY text, printable ASCII only, trailing spaces dropped.
static void inquiry_text(char *out, const uint8_t *in, int n) {
  int end = 0;
  for (int i = 0; i < n; i++) {
    out[i] = in[i] >= 0x20 && in[i] < 0x7f ? (char)in[i] : '?';
    if (out[i] != ' ') end = i + 1;
  }
  out[end] = '\0';
}

// A failed read is tried once more: a stall or phase error was recovered from in between.
static int read_blocks(block_device *dev, uint64_t lba, uint32_t count, void *buf) {
  int st = usb_msc_read((usb_msc *)dev->ctx, lba, count, buf);
  return st == BLOCK_ERR_IO ? usb_msc_read((usb_msc *)dev->ctx, lba, count, buf) : st;
}

static int read_capacity(usb_msc *m, uint64_t *blocks, uint32_t *block_len) {
  uint8_t cb10[10] = {SCSI_READ_CAPACITY10};
  uint32_t got;
  int st = scsi(m, cb10, 10, m->reply, 8, &got);
  if (st != BLOCK_OK) return st;
  if (got < 8) return BLOCK_ERR_IO;
  uint64_t last = get_be(m->reply, 4);
  *block_len = (uint32_t)get_be(m->reply + 4, 4);
  if (last == 0xffffffffu) {  // SBC: the capacity needs READ CAPACITY (16)
    uint8_t cb16[16] = {SCSI_SERVICE_ACTION_IN16, SA_READ_CAPACITY16};
    put_be(cb16 + 10, 32, 4);
    st = scsi(m, cb16, 16, m->reply, 32, &got);
    if (st != BLOCK_OK) return st;
    if (got < 12) return BLOCK_ERR_IO;
    last = get_be(m->reply, 8);
    *block_len = (uint32_t)get_be(m->reply + 8, 4);
    if (last == UINT64_MAX) return BLOCK_ERR_UNSUPPORTED;
  }
  *blocks = last + 1;
  return BLOCK_OK;
}

int usb_msc_init(usb_msc *m, const usb_transport *t, const usb_msc_choice *choice) {
  m->t = *t;
  m->interface = choice->interface;
  m->ep_in = choice->bulk_in.address;
  m->ep_out = choice->bulk_out.address;
  m->tag = 0;
  m->blocks = 0;
  m->vendor[0] = m->product[0] = '\0';
  m->sense_key = m->asc = m->ascq = 0;
  m->recoveries = 0;
  m->dev.read = 0;
  uint8_t inquiry[6] = {SCSI_INQUIRY, 0, 0, 0, INQUIRY_LEN, 0};
  uint32_t got;
  int st = scsi(m, inquiry, 6, m->reply, INQUIRY_LEN, &got);
  if (st != BLOCK_OK) return st;
  if (got < 5) return BLOCK_ERR_IO;
  if ((m->reply[0] & 0x1f) != 0 || (m->reply[0] >> 5) != 0) return BLOCK_ERR_UNSUPPORTED;
  if (got >= 32) {
    inquiry_text(m->vendor, m->reply + 8, 8);
    inquiry_text(m->product, m->reply + 16, 16);
  }
  uint8_t tur[6] = {SCSI_TEST_UNIT_READY};
  for (int i = 0;; i++) {
    st = scsi(m, tur, 6, 0, 0, &got);
    if (st == BLOCK_OK) break;
    int waiting = m->sense_key == SENSE_UNIT_ATTENTION || m->sense_key == SENSE_NOT_READY;
    if (st != BLOCK_ERR_IO || !waiting) return st;
    if (i + 1 == TUR_TRIES) return BLOCK_ERR_NO_MEDIUM;
  }
  uint32_t block_len = 0;
  st = read_capacity(m, &m->blocks, &block_len);
  if (st != BLOCK_OK) return st;
  if (block_len != BLOCK_SIZE) return BLOCK_ERR_UNSUPPORTED;
  m->dev.read = read_blocks;
  m->dev.num_blocks = m->blocks;
  m->dev.max_blocks = USB_MSC_MAX_BLOCKS;
  m->dev.ctx = m;
  return BLOCK_OK;
}

int usb_msc_read(usb_msc *m, uint64_t lba, uint32_t count, void *buf) {
  if (!m->dev.read || !buf || count == 0 || count > USB_MSC_MAX_BLOCKS) return BLOCK_ERR_INVALID;
  if (lba >= m->blocks || count > m->blocks - lba) return BLOCK_ERR_RANGE;
  uint8_t cb[16] = {0};
  uint8_t len;
  if (lba + count <= 0xffffffffu) {
    cb[0] = SCSI_READ10;
    put_be(cb + 2, lba, 4);
    put_be(cb + 7, count, 2);
    len = 10;
  } else {
    cb[0] = SCSI_READ16;
    put_be(cb + 2, lba, 8);
    put_be(cb + 10, count, 4);
    len = 16;
  }
  uint32_t bytes = count * BLOCK_SIZE, got;
  int st = scsi(m, cb, len, buf, bytes, &got);
  if (st != BLOCK_OK) return st;
  return got == bytes && get_le32(m->csw + 8) == 0 ? BLOCK_OK : BLOCK_ERR_IO;
}

static char *append(char *at, char *end, const char *text) {
  while (*text && at < end) *at++ = *text++;
  *at = '\0';
  return at;
}

// Records "step: cause" in m->error and returns status.
static int fail(usb_msc *m, const char *step, const char *cause, int status) {
  char *end = m->error + sizeof m->error - 1;
  append(append(append(m->error, end, step), end, ": "), end, cause);
  return status;
}

static int usb_fail(usb_msc *m, const char *step, int usb) {
  int st = usb == USB_ERR_NO_DEVICE ? BLOCK_ERR_NO_MEDIUM
           : usb == USB_ERR_TIMEOUT ? BLOCK_ERR_TIMEOUT
           : usb == USB_ERR_NO_MSC  ? BLOCK_ERR_UNSUPPORTED
                                    : BLOCK_ERR_IO;
  return fail(m, step, usb_strerror(usb), st);
}

int usb_msc_open(usb_msc *m, const usb_transport *t, usb_msc_configure_fn configure, void *ctx) {
  m->error[0] = '\0';
  uint32_t got = 0;
  usb_device_info info;
  int st = usb_get_descriptor(t, USB_DESC_DEVICE, 0, m->desc, 18, &got);
  if (st == USB_OK) st = usb_parse_device(m->desc, got, &info);
  if (st != USB_OK) return usb_fail(m, "device descriptor", st);
  st = usb_get_descriptor(t, USB_DESC_CONFIG, 0, m->desc, 9, &got);
  long total = st == USB_OK ? usb_config_total_length(m->desc, got) : -st;
  if (total < 0) return usb_fail(m, "configuration descriptor", (int)-total);
  uint16_t want = (uint16_t)(total < USB_MSC_CONFIG_MAX ? total : USB_MSC_CONFIG_MAX);
  st = usb_get_descriptor(t, USB_DESC_CONFIG, 0, m->desc, want, &got);
  usb_msc_choice choice;
  if (st == USB_OK) st = usb_find_msc(m->desc, got < want ? got : want, &choice);
  if (st != USB_OK) return usb_fail(m, "configuration descriptor", st);
  st = usb_set_configuration(t, choice.config_value);
  if (st != USB_OK) return usb_fail(m, "SET_CONFIGURATION", st);
  st = configure(ctx, &choice);
  if (st != USB_OK) return usb_fail(m, "opening the bulk endpoints", st);
  st = usb_msc_init(m, t, &choice);
  if (st != BLOCK_OK) return fail(m, "SCSI", block_strerror(st), st);
  return BLOCK_OK;
}
