// The fake USB stick of fake_stick.h.
#include "fake_stick.h"

#include <string.h>

const uint8_t fake_stick_device_desc[18] = {
    18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x34, 0x12, 0x78, 0x56, 0x00, 0x01, 1, 2, 3, 1,
};

// Configuration 1: interface 0 (mass storage, SCSI, bulk-only), bulk-in 0x81, bulk-out 0x02.
const uint8_t fake_stick_config_desc[32] = {
    9, 2, 32,   0, 1,    1,    0, 0x80, 50,  // configuration
    9, 4, 0,    0, 2,    8,    6, 0x50, 0,   // interface
    7, 5, 0x81, 2, 0x00, 0x02, 0,            // bulk in, 512
    7, 5, 0x02, 2, 0x00, 0x02, 0,            // bulk out, 512
};

void fake_stick_init(fake_stick *s, const uint8_t *disk, size_t bytes, uint64_t blocks) {
  memset(s, 0, sizeof *s);
  s->device_desc = fake_stick_device_desc;
  s->device_len = sizeof fake_stick_device_desc;
  s->config_desc = fake_stick_config_desc;
  s->config_len = sizeof fake_stick_config_desc;
  s->disk = disk;
  s->disk_bytes = bytes;
  s->blocks = blocks;
  s->block_len = 512;
}

static int take(fake_stick *s, unsigned fault) {
  if (!(s->faults & fault)) return 0;
  s->faults &= ~fault;
  return 1;
}

static int control(void *ctx, const usb_setup *setup, void *data, uint32_t *actual) {
  fake_stick *s = ctx;
  *actual = 0;
  if (setup->request_type == 0x80 && setup->request == USB_REQ_GET_DESCRIPTOR) {
    int type = setup->value >> 8;
    const uint8_t *d = type == USB_DESC_DEVICE   ? s->device_desc
                       : type == USB_DESC_CONFIG ? s->config_desc
                                                 : 0;
    size_t n = type == USB_DESC_DEVICE ? s->device_len : s->config_len;
    if (!d) return USB_ERR_STALL;
    *actual = (uint32_t)(n < setup->length ? n : setup->length);
    memcpy(data, d, *actual);
    return USB_OK;
  }
  if (setup->request_type == 0 && setup->request == USB_REQ_SET_CONFIGURATION) {
    s->configured = setup->value;
    return USB_OK;
  }
  if (setup->request_type == 2 && setup->request == USB_REQ_CLEAR_FEATURE) {
    if (setup->index & 0x80)
      s->halted_in = 0;
    else
      s->halted_out = 0;
    s->halts_cleared++;
    return USB_OK;
  }
  if (setup->request_type == 0x21 && setup->request == 0xff) {  // Bulk-Only Mass Storage Reset
    s->resets++;
    s->phase = 0;
    return USB_OK;
  }
  return USB_ERR_STALL;
}

static void sense(fake_stick *s, uint8_t key, uint8_t asc, uint8_t ascq) {
  s->sense[0] = key;
  s->sense[1] = asc;
  s->sense[2] = ascq;
}

static uint64_t be(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = v << 8 | p[i];
  return v;
}

static void put_be(uint8_t *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

// The data-in bytes of the command in s->cbw, into out (room: len bytes; the host may ask for
// less than the CBW announced when it is out of step); returns how many.
static uint32_t respond(fake_stick *s, uint8_t *out, uint32_t len) {
  const uint8_t *cb = s->cbw + 15;
  uint8_t reply[36] = {0};
  uint32_t n = 0;
  s->status = 0;
  switch (cb[0]) {
    case 0x00:  // TEST UNIT READY
      if (s->faults & FAKE_NOT_READY) {
        s->status = 1;
        sense(s, 2, 0x3a, 0);
      } else if (take(s, FAKE_UNIT_ATTENTION)) {
        s->status = 1;
        sense(s, 6, 0x28, 0);
      }
      return 0;
    case 0x03:  // REQUEST SENSE
      reply[0] = 0x70;
      reply[2] = s->sense[0];
      reply[7] = 10;
      reply[12] = s->sense[1];
      reply[13] = s->sense[2];
      n = 18;
      sense(s, 0, 0, 0);
      break;
    case 0x12:  // INQUIRY
      reply[0] = s->device_type;
      reply[4] = 31;
      memcpy(reply + 8, "Fake    Stick\x01           ", 24);
      memcpy(reply + 32, "1.00", 4);
      n = 36;
      break;
    case 0x25:  // READ CAPACITY (10)
      put_be(reply, s->blocks - 1 > 0xffffffffu ? 0xffffffffu : s->blocks - 1, 4);
      put_be(reply + 4, s->block_len, 4);
      n = 8;
      break;
    case 0x9e:  // READ CAPACITY (16)
      put_be(reply, s->blocks - 1, 8);
      put_be(reply + 8, s->block_len, 4);
      n = 32;
      break;
    case 0x28:
    case 0x88: {  // READ (10) / (16)
      uint64_t lba = cb[0] == 0x28 ? be(cb + 2, 4) : be(cb + 2, 8);
      uint64_t count = cb[0] == 0x28 ? be(cb + 7, 2) : be(cb + 10, 4);
      s->reads++;
      if (lba >= s->blocks || count > s->blocks - lba || count * 512 != s->expected) {
        s->status = 1;
        sense(s, 5, 0x21, 0);
        return 0;
      }
      if (s->expected > s->largest_read) s->largest_read = s->expected;
      uint32_t n = s->expected < len ? s->expected : len;
      for (uint32_t i = 0; i < n; i++) {
        uint64_t at = lba * 512 + i;
        out[i] = at < s->disk_bytes ? s->disk[at] : 0;
      }
      return n;
    }
    default:
      s->status = 1;
      sense(s, 5, 0x20, 0);  // invalid command operation code
      return 0;
  }
  if (n > s->expected) n = s->expected;
  if (n > len) n = len;
  memcpy(out, reply, n);
  return n;
}

static int bulk(void *ctx, int in, void *data, uint32_t len, uint32_t *actual) {
  fake_stick *s = ctx;
  *actual = 0;
  if (s->faults & FAKE_STALL_ALWAYS) {
    if (in)
      s->halted_in = 1;
    else
      s->halted_out = 1;
  }
  if (in ? s->halted_in : s->halted_out) return USB_ERR_STALL;
  if (!in && s->phase == 0) {  // CBW
    if (take(s, FAKE_STALL_CBW)) {
      s->halted_out = 1;
      return USB_ERR_STALL;
    }
    if (len != 31) return USB_ERR_IO;
    memcpy(s->cbw, data, 31);
    s->commands++;
    s->tag = (uint32_t)(s->cbw[4] | s->cbw[5] << 8 | s->cbw[6] << 16 | (uint32_t)s->cbw[7] << 24);
    s->expected =
        (uint32_t)(s->cbw[8] | s->cbw[9] << 8 | s->cbw[10] << 16 | (uint32_t)s->cbw[11] << 24);
    s->phase = s->expected ? 1 : 2;
    s->residue = s->expected;
    if (!s->expected) respond(s, 0, 0);
    *actual = 31;
    return USB_OK;
  }
  if (in && s->phase == 1) {
    s->phase = 2;
    if (take(s, FAKE_STALL_DATA)) {
      s->halted_in = 1;
      s->status = 1;
      sense(s, 3, 0x11, 0);  // unrecovered read error
      return USB_ERR_STALL;
    }
    uint32_t n = respond(s, data, len);
    if (take(s, FAKE_SHORT_DATA)) n /= 2;
    s->residue = s->expected - n;
    *actual = n;
    return USB_OK;
  }
  if (in && s->phase == 2) {
    if (take(s, FAKE_STALL_CSW)) {
      s->halted_in = 1;
      return USB_ERR_STALL;
    }
    uint8_t csw[13] = {'U', 'S', 'B', 'S'};
    uint32_t tag = s->tag + (take(s, FAKE_BAD_TAG) ? 1 : 0);
    for (int i = 0; i < 4; i++) {
      csw[4 + i] = (uint8_t)(tag >> (8 * i));
      csw[8 + i] = (uint8_t)(s->residue >> (8 * i));
    }
    csw[12] = take(s, FAKE_PHASE_ERROR) ? 2 : s->status;
    uint32_t n = take(s, FAKE_SHORT_CSW) ? 12 : 13;
    if (n > len) n = len;
    memcpy(data, csw, n);
    *actual = n;
    s->phase = 0;
    return USB_OK;
  }
  // out of step (a host bug): what a real device would do is stall
  if (in)
    s->halted_in = 1;
  else
    s->halted_out = 1;
  return USB_ERR_STALL;
}

static int reset_endpoint(void *ctx, int in) {
  fake_stick *s = ctx;
  usb_transport t = fake_stick_transport(s);
  return usb_clear_halt(&t, in ? 0x81 : 0x02);
}

usb_transport fake_stick_transport(fake_stick *s) {
  usb_transport t = {s, control, bulk, reset_endpoint};
  return t;
}

int fake_stick_configure(void *ctx, const usb_msc_choice *choice) {
  fake_stick *s = ctx;
  if (!(choice->bulk_in.address & 0x80) || (choice->bulk_out.address & 0x80)) return USB_ERR_IO;
  s->endpoints_opened++;
  return USB_OK;
}
