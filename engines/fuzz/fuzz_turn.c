/* Fuzz target: chat-turn rendering and encoding (engines/session: em_template_render,
 * em_session_turn_tokens) with the test tokenizers named by $FUZZ_TOKENIZERS (tokenizer fuzz
 * seeds, fuzz_tokenizer.c's format: kind byte, u16 vocabulary, tokenizer), loaded once.
 * Input: byte 0 bits 0-1 the template (3: an unknown one), bit 2 the first turn, bit 3 which
 * tokenizer; byte 1 the scratch size / 4; byte 2 the token capacity; the rest, up to a NUL,
 * the user's text. Checked: a rendering fits its buffer, is NUL-terminated and holds the
 * text; tokens fit their capacity and are in the vocabulary. Returns 1 when a turn encoded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/registry.h"
#include "engine/session.h"

enum { MAX_TOKENIZERS = 2 };
static uint8_t arena_mem[8 << 20] __attribute__((aligned(64)));
static em_tokenizer tokenizers[MAX_TOKENIZERS];
static int n_tokenizers;

static void *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  *size = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  void *p = malloc(*size + 1);
  if (p && fread(p, 1, *size, f) != *size) p = NULL;
  fclose(f);
  return p;
}

static void load_tokenizers(void) {
  const char *list = getenv("FUZZ_TOKENIZERS");
  if (!list) {
    fprintf(stderr, "fuzz_turn: set FUZZ_TOKENIZERS to tokenizer seed files\n");
    exit(64);
  }
  em_arena arena;
  em_arena_init(&arena, arena_mem, sizeof arena_mem);
  static char paths[4096];
  snprintf(paths, sizeof paths, "%s", list);
  for (char *path = strtok(paths, " :"); path && n_tokenizers < MAX_TOKENIZERS;
       path = strtok(NULL, " :")) {
    size_t size;
    uint8_t *b = read_file(path, &size);
    const char *msg = "unreadable";
    em_tokenizer *t = &tokenizers[n_tokenizers];
    int vocab = size >= 3 ? b[1] | b[2] << 8 : 0;
    em_status st = !b || size < 3 ? EM_ERR_ARG
                   : b[0] & 1
                       ? em_tokenizer_load_bpe(t, b + 3, size - 3, vocab, &arena, &msg)
                       : em_tokenizer_load(t, b + 3, size - 3, vocab ? vocab : -1, &arena, &msg);
    if (st != EM_OK) {
      fprintf(stderr, "fuzz_turn: %s: %s\n", path, msg);
      exit(64);
    }
    n_tokenizers++;
  }
  if (n_tokenizers == 0) exit(64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (n_tokenizers == 0) load_tokenizers();
  if (size < 3) return 0;
  em_template t = (data[0] & 3) == 3 ? (em_template)7 : (em_template)(data[0] & 3);
  bool first = (data[0] >> 2) & 1;
  em_tokenizer *tok = &tokenizers[(data[0] >> 3) % n_tokenizers];
  size_t scratch_size = (size_t)data[1] * 4;
  int capacity = data[2];
  char *text = malloc(size - 2); /* exact sizes: ASan sees any overflow */
  char *scratch = malloc(scratch_size ? scratch_size : 1);
  int *tokens = malloc(sizeof(int) * (capacity ? (size_t)capacity : 1));
  if (!text || !scratch || !tokens) abort();
  memcpy(text, data + 3, size - 3);
  text[size - 3] = '\0';

  size_t len = em_template_render(t, first, text, scratch, scratch_size);
  if (len > 0 && (len >= scratch_size || strlen(scratch) != len || !strstr(scratch, text))) abort();

  em_session s;
  memset(&s, 0, sizeof s);
  s.engine = em_registry_by_name("nanochat"); /* the one engine with its own turn format */
  s.tokenizer = *tok;
  s.has_tokenizer = true;
  s.info.pos = first ? 0 : 5;
  int n = -1;
  em_status st = em_session_turn_tokens(&s, t, text, scratch, scratch_size, tokens, capacity, &n);
  if (st == EM_OK) {
    if (n < 0 || n > capacity) abort();
    for (int i = 0; i < n; i++)
      if (tokens[i] < 0 || tokens[i] >= tok->vocab_size) abort();
  }
  free(text);
  free(scratch);
  free(tokens);
  return st == EM_OK;
}
