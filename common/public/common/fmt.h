// Small formatter writing through a caller-supplied putc; no heap, no libc.
#ifndef COMMON_FMT_H_
#define COMMON_FMT_H_

typedef void (*fmt_putc_fn)(char c);

// Writes s; returns the number of characters written.
int fmt_puts(fmt_putc_fn putc, const char *s);
// Writes v in base 2..16 (lower-case), zero-padded to at least width digits.
int fmt_unsigned(fmt_putc_fn putc, unsigned long long v, unsigned base, int width);
// Writes v in decimal with a leading '-' when negative.
int fmt_signed(fmt_putc_fn putc, long long v);
// printf subset: %s %c %d %u %x %p %%, l/ll length, '0' flag and width (e.g. %02x).
int fmt_printf(fmt_putc_fn putc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// UTF-8's rules, for the writers of text that check it (common/term.h, the tokenizers' stream):
// the length of the sequence a lead byte starts (0: it cannot start one), and whether b may be
// the first continuation byte after lead (no overlong forms, surrogates, or code points above
// U+10FFFF; later continuation bytes are any 10xxxxxx).
static inline int fmt_utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

static inline int fmt_utf8_valid_second(unsigned char lead, unsigned char b) {
  if (lead == 0xe0) return b >= 0xa0 && b <= 0xbf;
  if (lead == 0xed) return b >= 0x80 && b <= 0x9f;
  if (lead == 0xf0) return b >= 0x90 && b <= 0xbf;
  if (lead == 0xf4) return b >= 0x80 && b <= 0x8f;
  return b >= 0x80 && b <= 0xbf;
}

#endif  // COMMON_FMT_H_
