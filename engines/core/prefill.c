/* Prompt prefill in blocks, for every engine's prefill (engine.h). */
#include "engine/engine.h"

em_status em_prefill_blocks(em_block_forward_fn forward, void *model, const int *tokens, int n,
                            int block, int vocab_size, int seq_len, int *pos,
                            const float **logits) {
  for (int i = 0; i < n; i++)
    if (tokens[i] < 0 || tokens[i] >= vocab_size) return EM_ERR_ARG;
  for (int done = 0; done < n;) {
    int count = n - done < block ? n - done : block;
    if (*pos + count > seq_len) count = seq_len - *pos;
    if (count <= 0) return EM_ERR_FULL;
    *logits = forward(model, tokens + done, count, *pos);
    if (!*logits) return EM_ERR_IO; /* a streamed weight could not be read */
    *pos += count;
    done += count;
  }
  return EM_OK;
}
