/* The tokenizers' test driver: prints the ids of each NUL-separated document of DOCS, one line
 * each, under a llama2.c tokenizer.bin, a nanochat BPE payload (container tokenizer kind 2)
 * or a Hugging Face BPE payload (kind 3) of VOCAB ids. No BOS or EOS. With --decode OUT it
 * also writes each document decoded back from its ids (em_tokenizer_decode, token by token),
 * NUL-separated, to OUT.
 *   encode TOKENIZER.bin DOCS                       (sentencepiece_parity_test)
 *   encode --bpe PAYLOAD VOCAB DOCS                 (bpe_tokenizer_test)
 *   encode --hf PAYLOAD VOCAB DOCS [--decode OUT]   (hf_bpe_parity_test)
 *   encode --split PRETOKENIZER DOCS                (hf_bpe_parity_test: the byte length of each
 *                                                    chunk, em_pretokenizer number) */
#include "common/check.h"
#include "engine/arena.h"
#include "engine/tokenizer.h"
#include "engines/tokenizer/tokenizer_internal.h"

/* Prints the byte lengths of the pre-tokenizer's chunks of each document, one line each. */
static int split(int pretok, const char *docs_path) {
  size_t size;
  char *text = read_file(docs_path, &size);
  if (!text) {
    fprintf(stderr, "cannot read %s\n", docs_path);
    return 1;
  }
  text[size] = 0;
  for (size_t start = 0; start <= size;) {
    size_t len = strlen(text + start);
    for (const char *p = text + start; *p;) {
      const char *end = em_bpe_split_chunk(p, (em_pretokenizer)pretok);
      printf(p == text + start ? "%d" : " %d", (int)(end - p));
      p = end;
    }
    printf("\n");
    start += len + 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--split") == 0) return split(atoi(argv[2]), argv[3]);
  const char *decode_path = NULL;
  if (argc >= 3 && strcmp(argv[argc - 2], "--decode") == 0) {
    decode_path = argv[argc - 1];
    argc -= 2;
  }
  bool bpe = argc == 5 && strcmp(argv[1], "--bpe") == 0;
  bool hf = argc == 5 && strcmp(argv[1], "--hf") == 0;
  if (argc != 3 && !bpe && !hf) {
    fprintf(stderr,
            "usage: encode TOKENIZER.bin DOCS | encode --bpe|--hf PAYLOAD VOCAB DOCS "
            "[--decode OUT]\n");
    return 2;
  }
  const char *tok_path = argv[argc == 3 ? 1 : 2], *docs_path = argv[argc - 1];
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
      bpe  ? em_tokenizer_load_bpe(&tok, payload, payload_size, atoi(argv[3]), &arena, &msg)
      : hf ? em_tokenizer_load_hf(&tok, payload, payload_size, atoi(argv[3]), &arena, &msg)
           : em_tokenizer_load(&tok, payload, payload_size, 0, &arena, &msg);
  if (st != EM_OK) {
    fprintf(stderr, "%s\n", msg);
    return 1;
  }
  tok.arena = &arena; /* the merge heap, as the session runs it */
  FILE *decoded = decode_path ? fopen(decode_path, "wb") : NULL;
  if (decode_path && !decoded) {
    fprintf(stderr, "cannot write %s\n", decode_path);
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
    for (int i = 0; decoded && i < n; i++) {
      int piece_len;
      const char *piece = em_tokenizer_decode(&tok, i ? ids[i - 1] : -1, ids[i], &piece_len);
      fwrite(piece, 1, (size_t)piece_len, decoded);
    }
    if (decoded && start + len < text_size) fputc(0, decoded);
    start += len + 1;
  }
  if (decoded) fclose(decoded);
  return 0;
}
