/* The tokenizers' test driver: prints the ids of each NUL-separated document of DOCS, one line
 * each, under a llama2.c tokenizer.bin or a byte-level BPE payload (container tokenizer kind 2)
 * of VOCAB ids. No BOS or EOS.
 *   encode TOKENIZER.bin DOCS          (sentencepiece_parity_test)
 *   encode --bpe PAYLOAD VOCAB DOCS    (bpe_tokenizer_test) */
#include "common/check.h"
#include "engine/arena.h"
#include "engine/tokenizer.h"

int main(int argc, char **argv) {
  bool bpe = argc == 5 && strcmp(argv[1], "--bpe") == 0;
  if (argc != 3 && !bpe) {
    fprintf(stderr, "usage: encode TOKENIZER.bin DOCS | encode --bpe PAYLOAD VOCAB DOCS\n");
    return 2;
  }
  const char *tok_path = argv[bpe ? 2 : 1], *docs_path = argv[argc - 1];
  size_t payload_size, text_size;
  char *payload = read_file(tok_path, &payload_size);
  char *text = read_file(docs_path, &text_size);
  if (!payload || !text) {
    fprintf(stderr, "cannot read %s\n", payload ? docs_path : tok_path);
    return 1;
  }
  text[text_size] = 0; /* read_file leaves a byte for it */
  size_t arena_size = 64u << 20;
  em_arena arena;
  em_arena_init(&arena, malloc(arena_size), arena_size);
  em_tokenizer tok;
  const char *msg;
  em_status st =
      bpe ? em_tokenizer_load_bpe(&tok, payload, payload_size, atoi(argv[3]), &arena, &msg)
          : em_tokenizer_load(&tok, payload, payload_size, 0, &arena, &msg);
  if (st != EM_OK) {
    fprintf(stderr, "%s\n", msg);
    return 1;
  }
  tok.arena = &arena; /* the merge heap, as the session runs it */
  int *ids = malloc((text_size + 3) * sizeof(int));
  for (size_t start = 0; ids && start <= text_size;) {
    size_t len = strlen(text + start);
    int n;
    em_status s = em_tokenizer_encode(&tok, text + start, false, false, ids, (int)len + 3, &n);
    if (s != EM_OK) {
      fprintf(stderr, "encode: %s\n", em_status_name(s));
      return 1;
    }
    for (int i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
    printf("\n");
    start += len + 1;
  }
  return 0;
}
