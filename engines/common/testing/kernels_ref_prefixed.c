/* kernels_ref.c with every public kernel renamed em_ref_* (see kernels_ref_prefixed.h).
 * kernels.h is included first, so kernels_ref.c's own include of it is a no-op and its
 * definitions below take the renamed names. A new public function in kernels_ref.c needs its
 * line here (else tests linking both copies fail with a duplicate symbol). */
#include "engines/common/testing/kernels_ref_prefixed.h"

#define em_f16_to_f32 em_ref_f16_to_f32
#define em_f32_to_f16 em_ref_f32_to_f16
#define em_quantize_q8 em_ref_quantize_q8
#define em_quantize_q4 em_ref_quantize_q4
#define em_dequantize_q8 em_ref_dequantize_q8
#define em_dequantize_q4 em_ref_dequantize_q4
#define em_matrix_row em_ref_matrix_row
#define em_matvec_f32_rows em_ref_matvec_f32_rows
#define em_matvec_f16_rows em_ref_matvec_f16_rows
#define em_matvec_q8_rows em_ref_matvec_q8_rows
#define em_matvec_q4_rows em_ref_matvec_q4_rows
#define em_rmsnorm em_ref_rmsnorm
#define em_softmax em_ref_softmax
#define em_swiglu em_ref_swiglu
#define em_add em_ref_add
#define em_rope_angles em_ref_rope_angles
#define em_rope_interleaved em_ref_rope_interleaved
#define em_rope_split em_ref_rope_split
#define em_attention_head em_ref_attention_head

/* Prototypes of the renamed functions the header above does not declare. */
uint16_t em_f32_to_f16(float f);
void em_quantize_q4(uint8_t *q, float *s, const float *x, int n, int group_size);
void em_dequantize_q8(float *out, const int8_t *q, const float *s, int n, int group_size);
void em_dequantize_q4(float *out, const uint8_t *q, const float *s, int n, int group_size);
void em_rope_angles(float *cos_out, float *sin_out, int head_size, int pos, float theta);
void em_rope_interleaved(float *v, int n_heads, int head_size, const float *cos, const float *sin);
void em_rope_split(float *v, int n_heads, int head_size, const float *cos, const float *sin);

#include "engines/common/kernels_ref.c"
