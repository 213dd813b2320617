// Board facade: every platforms/<board> implements this; images use nothing else.
// Start code runs board_init(), then main(), then board_exit(main's return value).
#ifndef BOARD_BOARD_H_
#define BOARD_BOARD_H_

#include <stddef.h>
#include <stdint.h>

void board_init(void);                       // console UART up, other cores woken and counted
void board_putc(char c);                     // write one byte to the console, blocking
int board_getc(void);                        // next console byte, or -1 if none is waiting (a
                                             // host may wait for its input instead)
int board_try_getc(void);                    // a console byte already waiting, else -1 at once:
                                             // never waits, never ends the program (Ctrl-C polls)
const char *board_name(void);                // board id, e.g. "rpi4"
const char *board_cpu(void);                 // CPU core name, e.g. "cortex-a72"
const char *board_privilege(void);           // measured "el=N" (AArch64) or "mode=..." (AArch32, M)
int board_cores_online(void);                // cores that checked in during board_init (measured)
const uint8_t *board_build_id(size_t *len);  // GNU build-id bytes of this image; *len 0 if none
void board_exit(int status) __attribute__((noreturn));  // semihosting exit, or park on hardware

#endif  // BOARD_BOARD_H_
