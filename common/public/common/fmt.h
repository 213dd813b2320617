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

#endif  // COMMON_FMT_H_
