/* Code point ranges [first, last] of the Unicode classes the BPE pre-tokenizer needs, sorted
 * (generated: unicode_gen.py). Private to engines/tokenizer. */
#ifndef ENGINES_TOKENIZER_UNICODE_TABLES_H_
#define ENGINES_TOKENIZER_UNICODE_TABLES_H_

#include <stdint.h>

extern const uint32_t em_unicode_letter[][2]; /* \p{L} */
extern const int em_unicode_letter_count;
extern const uint32_t em_unicode_number[][2]; /* \p{N} */
extern const int em_unicode_number_count;
extern const uint32_t em_unicode_space[][2]; /* \s: White_Space */
extern const int em_unicode_space_count;

#endif /* ENGINES_TOKENIZER_UNICODE_TABLES_H_ */
