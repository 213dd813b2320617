// PCIe -> xHCI -> USB mass storage (usb_stick.h).
#include "drivers/usb_stick.h"

#include <stddef.h>

// A line built from strings and numbers in a buffer of fixed size (cut short if it is full).
typedef struct line {
  char *at, *end;
} line;

static line start(char *buf, size_t n) {
  buf[0] = '\0';
  line l = {buf, buf + n - 1};
  return l;
}
static void str(line *l, const char *s) {
  while (*s && l->at < l->end) *l->at++ = *s++;
  *l->at = '\0';
}
static void num(line *l, unsigned v) {
  char digits[12];
  int n = 0;
  do digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  while (n > 0 && l->at < l->end) *l->at++ = digits[--n];
  *l->at = '\0';
}

static block_device *none(usb_stick *s, const char *what, const char *why) {
  line l = start(s->error, sizeof s->error);
  str(&l, "no USB stick (");
  str(&l, what);
  str(&l, why);
  str(&l, ")");
  return 0;
}

block_device *usb_stick_open(usb_stick *s, const usb_stick_config *c) {
  s->where[0] = s->error[0] = '\0';
  int n = pcie_enumerate(&c->host, s->functions, PCIE_MAX_FUNCTIONS);
  if (n < 0) {
    return none(s,
                "PCIe: ", n == PCIE_ERR_NO_ROOM ? "memory window too small" : "too many bridges");
  }
  if (n > PCIE_MAX_FUNCTIONS) n = PCIE_MAX_FUNCTIONS;
  const pcie_function *f = pcie_find_class(s->functions, n, PCIE_CLASS_XHCI);
  if (!f || !f->bar_cpu[0]) return none(s, "no xHCI controller on PCIe", "");
  const char *why = 0;
  if (c->before_xhci && c->before_xhci(c->ctx, f, &why) != 0)
    return none(s, "", why ? why : "controller set-up failed");
  xhci_config xc = c->xhci;
  xc.base = (uintptr_t)f->bar_cpu[0];
  int st = xhci_init(&s->x, &xc);
  if (st != USB_OK) return none(s, "xHCI: ", s->x.error);
  uint32_t connected = xhci_connected(&s->x);
  if (!connected) return none(s, "nothing connected to the xHCI ports", "");
  for (uint32_t p = 1; p <= s->x.ports && p <= 32; p++) {
    if (!(connected & 1u << (p - 1))) continue;
    st = xhci_open_port(&s->x, (int)p);
    why = st != USB_OK ? s->x.error : 0;
    usb_transport t = xhci_transport(&s->x);
    if (!why && usb_msc_open(&s->msc, &t, xhci_configure, &s->x) != BLOCK_OK) why = s->msc.error;
    if (why) {  // the last port's reason is the one reported
      line l = start(s->error, sizeof s->error);
      str(&l, "USB port ");
      num(&l, p);
      str(&l, ": ");
      str(&l, why);
      continue;
    }
    line l = start(s->where, sizeof s->where);
    str(&l, "USB port ");
    num(&l, p);
    str(&l, " (");
    str(&l, xhci_speed_name(s->x.speed));
    str(&l, " speed): ");
    str(&l, s->msc.vendor);
    str(&l, " ");
    str(&l, s->msc.product);
    return &s->msc.dev;
  }
  return 0;
}
