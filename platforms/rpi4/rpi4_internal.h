// Between the files of the rpi4 board: nothing here is public.
#ifndef PLATFORMS_RPI4_RPI4_INTERNAL_H_
#define PLATFORMS_RPI4_RPI4_INTERNAL_H_

// Sets the ARM clock to its maximum and takes the first firmware readings (health.c).
void rpi4_health_init(void);

#endif  // PLATFORMS_RPI4_RPI4_INTERNAL_H_
