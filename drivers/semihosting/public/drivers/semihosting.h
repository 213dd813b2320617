// Arm semihosting: talks to the debugger or QEMU (-semihosting). Without a host
// attached the trap instruction raises an exception instead (see the board's vectors).
#ifndef DRIVERS_SEMIHOSTING_H_
#define DRIVERS_SEMIHOSTING_H_

// Writes a NUL-terminated string to the host console (SYS_WRITE0).
void semihosting_write0(const char *s);
// Ends the session; the host (QEMU) exits with status (SYS_EXIT / SYS_EXIT_EXTENDED).
void semihosting_exit(int status) __attribute__((noreturn));

#endif  // DRIVERS_SEMIHOSTING_H_
