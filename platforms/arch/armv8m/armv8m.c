#include "arch/armv8m.h"

#include <stdint.h>

const char *armv8m_privilege(void) {
  uint32_t ipsr, tt;
  const void *here = (const void *)&armv8m_privilege;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  // TT on our own code: its S bit (22) is the address's security, and reads as
  // zero when executed from Non-secure state. Code runs from memory of its own state.
  __asm__ volatile("tt %0, %1" : "=r"(tt) : "r"(here));
  int handler = (ipsr & 0x1ff) != 0;
  if ((tt >> 22) & 1) return handler ? "mode=handler-secure" : "mode=thread-secure";
  return handler ? "mode=handler-nonsecure" : "mode=thread-nonsecure";
}
