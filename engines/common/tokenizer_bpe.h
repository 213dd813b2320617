/* Private to engines/common: the byte-level BPE half of em_tokenizer (tokenizer_bpe.c). */
#ifndef ENGINES_COMMON_TOKENIZER_BPE_H_
#define ENGINES_COMMON_TOKENIZER_BPE_H_

#include "engine/tokenizer.h"

const char *em_bpe_piece(const em_tokenizer *tok, int id, int *len);
em_status em_bpe_encode(em_tokenizer *tok, const char *text, bool bos, bool eos, int *tokens,
                        int capacity, int *n_tokens);
const char *em_bpe_decode(const em_tokenizer *tok, int token, int *len);

/* Sorts ids by (piece bytes, id) (tokenizer.c). */
void em_tokenizer_sort_ids(const em_tokenizer *tok, int32_t *ids, int n);

/* The end of the chunk of the split pattern that starts at text[0] (text[0] != 0):
 * digit_group 2 (nanochat) or 3 (GPT-4). Exposed for tests. */
const char *em_bpe_split_chunk(const char *text, int digit_group);

#endif /* ENGINES_COMMON_TOKENIZER_BPE_H_ */
