/* bpe_encode PAYLOAD VOCAB DOCS: loads a byte-level BPE payload (container tokenizer kind 2)
 * for a vocabulary of VOCAB ids and prints the ids of each NUL-separated document of DOCS, one line
 * each (bpe_tokenizer_test). */
#include "common/check.h"
#include "engine/arena.h"
#include "engine/tokenizer.h"

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: bpe_encode PAYLOAD VOCAB DOCS\n");
    return 2;
  }
  size_t payload_size, text_size;
  char *payload = read_file(argv[1], &payload_size);
  char *text = read_file(argv[3], &text_size);
  if (!payload || !text) {
    fprintf(stderr, "cannot read %s\n", payload ? argv[3] : argv[1]);
    return 1;
  }
  text[text_size] = 0; /* read_file leaves a byte for it */
  size_t arena_size = 64u << 20;
  em_arena arena;
  em_arena_init(&arena, malloc(arena_size), arena_size);
  em_tokenizer tok;
  const char *msg;
  if (em_tokenizer_load_bpe(&tok, payload, payload_size, atoi(argv[2]), &arena, &msg) != EM_OK) {
    fprintf(stderr, "%s\n", msg);
    return 1;
  }
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
