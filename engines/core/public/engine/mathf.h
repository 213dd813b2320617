/* Freestanding single-precision math: no libm. Each function is within a few ulp of
 * the correctly rounded result over the ranges documented here (tested against libm). */
#ifndef ENGINE_MATHF_H_
#define ENGINE_MATHF_H_

/* e^x; overflows to +inf above 88.72, underflows to 0 below -103.97 (subnormals in between). */
float em_expf(float x);

/* Natural log; log(0) = -inf, log(x<0) = NaN. */
float em_logf(float x);

/* Square root (the FPU instruction where there is one, else an exact integer method). */
float em_sqrtf(float x);

/* sin and cos: a few ulp for |x| < 1.6e6 (RoPE angles are below the context length). */
float em_sinf(float x);
float em_cosf(float x);

/* Hyperbolic tangent. */
float em_tanhf(float x);

/* x^y with the usual special cases (negative x only for integer y); a few ulp. */
float em_powf(float x, float y);

/* Rounds half away from zero, like C99 roundf. */
float em_roundf(float x);

/* |x| */
float em_fabsf(float x);

#endif /* ENGINE_MATHF_H_ */
