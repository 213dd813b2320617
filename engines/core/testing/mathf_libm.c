/* Host-only replacement for mathf.c that routes the em_ math functions to the host libm,
 * so a test can give the engine exactly the probabilities llama2.c computes with glibc.
 * Linked ahead of the engine libraries (static archives), it stands in for mathf.o. */
#include <math.h>

#include "engine/mathf.h"

float em_expf(float x) { return expf(x); }
float em_logf(float x) { return logf(x); }
float em_sqrtf(float x) { return sqrtf(x); }
float em_sinf(float x) { return sinf(x); }
float em_cosf(float x) { return cosf(x); }
float em_tanhf(float x) { return tanhf(x); }
float em_powf(float x, float y) { return powf(x, y); }
float em_roundf(float x) { return roundf(x); }
float em_fabsf(float x) { return fabsf(x); }
