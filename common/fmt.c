#include "common/fmt.h"

#include <stdarg.h>

int fmt_puts(fmt_putc_fn putc, const char *s) {
  int n = 0;
  for (; *s; s++, n++) putc(*s);
  return n;
}

int fmt_unsigned(fmt_putc_fn putc, unsigned long long v, unsigned base, int width) {
  char digits[64];
  int n = 0;
  if (base < 2 || base > 16) return 0;
  do {
    digits[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v);
  while (n < width && n < (int)sizeof digits) digits[n++] = '0';
  for (int i = n - 1; i >= 0; i--) putc(digits[i]);
  return n;
}

int fmt_signed(fmt_putc_fn putc, long long v) {
  if (v >= 0) return fmt_unsigned(putc, (unsigned long long)v, 10, 0);
  putc('-');
  // Negate in unsigned arithmetic so LLONG_MIN is handled.
  return 1 + fmt_unsigned(putc, 0ull - (unsigned long long)v, 10, 0);
}

int fmt_printf(fmt_putc_fn putc, const char *fmt, ...) {
  va_list ap;
  int n = 0;
  va_start(ap, fmt);
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      putc(*fmt);
      n++;
      continue;
    }
    fmt++;
    int width = 0, longs = 0;
    if (*fmt == '0') fmt++;  // zero padding is the only padding supported
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l') longs++, fmt++;
    switch (*fmt) {
      case 'd': {
        long long v = longs >= 2 ? va_arg(ap, long long)
                      : longs    ? va_arg(ap, long)
                                 : va_arg(ap, int);
        n += fmt_signed(putc, v);
        break;
      }
      case 'u':
      case 'x': {
        unsigned long long v = longs >= 2 ? va_arg(ap, unsigned long long)
                               : longs    ? va_arg(ap, unsigned long)
                                          : va_arg(ap, unsigned);
        n += fmt_unsigned(putc, v, *fmt == 'x' ? 16 : 10, width);
        break;
      }
      case 'p':
        n += fmt_puts(putc, "0x");
        n += fmt_unsigned(putc, (unsigned long long)(__UINTPTR_TYPE__)va_arg(ap, void *), 16, 0);
        break;
      case 's': {
        const char *s = va_arg(ap, const char *);
        n += fmt_puts(putc, s ? s : "(null)");
        break;
      }
      case 'c':
        putc((char)va_arg(ap, int));
        n++;
        break;
      case '%':
        putc('%');
        n++;
        break;
      case '\0':  // lone '%' at the end of the format
        va_end(ap);
        return n;
      default:  // unknown conversion: echo it so the mistake is visible
        putc('%');
        putc(*fmt);
        n += 2;
        break;
    }
  }
  va_end(ap);
  return n;
}
