/* Fuzz target: the pre-tokenizers and the Hugging Face BPE encoder on arbitrary text. Byte 0
 * picks the pre-tokenizer (em_pretokenizer 1..7), the rest up to the first NUL is the text.
 * The chunks must be non-empty and tile the text exactly (else abort). Then a kind-3 tokenizer
 * built here for that pre-tokenizer (byte-level: the 256 bytes and a few merges;
 * SentencePiece: <unk> <s> </s>, the 256 <0xXX> tokens, a few pieces and merges, a dummy
 * prefix) encodes the text (the merge heap, as a session runs it), and the decoded tokens must
 * give back exactly its bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer.h"
#include "engines/tokenizer/tokenizer_internal.h"

/* Merges as (left, right) piece texts, earliest first; every concatenation is a token. */
static const char *const kMerges[][2] = {
    {"t", "h"}, {"th", "e"}, {" ", "the"}, {"i", "n"},    {"in", "g"},      {"e", "r"},
    {" ", "a"}, {"1", "2"},  {" ", " "},   {"\n", "\n"},  {"\xc3", "\xa9"}, {"'", "s"},
    {"o", "r"}, {"w", "or"}, {"l", "d"},   {"wor", "ld"},
};
#define N_MERGES (sizeof kMerges / sizeof kMerges[0])

static uint8_t payload[2][16384];
static size_t payload_size[2];
static uint8_t arena_mem[2][1 << 20] __attribute__((aligned(64)));
static uint8_t scratch_mem[4 << 20] __attribute__((aligned(64))); /* the merge heap */
static em_tokenizer hf[2];                                        /* byte-level, SentencePiece */
static int ready;

static size_t put_u32(uint8_t *p, size_t at, uint32_t v) {
  for (int i = 0; i < 4; i++) p[at + i] = (uint8_t)(v >> (8 * i));
  return at + 4;
}

static size_t put_text(uint8_t *p, size_t at, const char *s, size_t n) {
  at = put_u32(p, at, (uint32_t)n);
  memcpy(p + at, s, n);
  return at + n;
}

/* The pieces of a tokenizer: the fixed ones, then each merge's concatenation. */
static int n_pieces;
static char pieces[300 + N_MERGES][16];

static int piece_id(const char *s) {
  for (int i = 0; i < n_pieces; i++)
    if (strcmp(pieces[i], s) == 0) return i;
  abort();
}

static void build_one(int which) {
  uint8_t *p = payload[which];
  bool sp = which == 1;
  n_pieces = 0;
  if (sp) {
    static const char hex[] = "0123456789ABCDEF";
    strcpy(pieces[n_pieces++], "<unk>");
    strcpy(pieces[n_pieces++], "<s>");
    strcpy(pieces[n_pieces++], "</s>");
    for (int b = 0; b < 256; b++) {
      char t[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
      strcpy(pieces[n_pieces++], t);
    }
    static const char *const kChars[] = {" ", "t",  "h", "e", "i", "n", "g", "r", "a",    "1",
                                         "2", "\n", "'", "s", "o", "w", "l", "d", "\xc3", "\xa9"};
    for (size_t i = 0; i < sizeof kChars / sizeof kChars[0]; i++)
      strcpy(pieces[n_pieces++], kChars[i]);
  } else {
    for (int b = 1; b < 256; b++) pieces[n_pieces][0] = (char)b, n_pieces++;
    pieces[n_pieces++][0] = 0; /* the NUL byte: never in a text, present for byte-level */
  }
  for (size_t m = 0; m < N_MERGES; m++) {
    strcpy(pieces[n_pieces], kMerges[m][0]);
    strcat(pieces[n_pieces++], kMerges[m][1]);
  }
  size_t at = put_u32(p, 0, sp ? EM_PRETOK_SENTENCEPIECE : EM_PRETOK_GPT2);
  at = put_u32(p, at, sp ? EM_BPE_DUMMY_PREFIX : 0);
  at = put_u32(p, at, (uint32_t)n_pieces);
  for (int i = 0; i < n_pieces; i++) {
    size_t len = (!sp && i == n_pieces - 1 - (int)N_MERGES) ? 1 : strlen(pieces[i]);
    at = put_text(p, at, pieces[i], len);
  }
  at = put_u32(p, at, N_MERGES);
  for (size_t m = 0; m < N_MERGES; m++) {
    char joined[16];
    strcpy(joined, kMerges[m][0]);
    strcat(joined, kMerges[m][1]);
    at = put_u32(p, at, (uint32_t)piece_id(kMerges[m][0]));
    at = put_u32(p, at, (uint32_t)piece_id(kMerges[m][1]));
    at = put_u32(p, at, (uint32_t)piece_id(joined));
  }
  at = put_u32(p, at, 1);
  at = put_u32(p, at, (uint32_t)n_pieces);
  at = put_text(p, at, "<|endoftext|>", 13);
  payload_size[which] = at;
  em_arena arena;
  em_arena_init(&arena, arena_mem[which], sizeof arena_mem[which]);
  const char *msg;
  if (em_tokenizer_load_hf(&hf[which], p, at, n_pieces + 1, &arena, &msg) != EM_OK) abort();
  if (sp) hf[which].bos_id = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!ready) {
    build_one(0);
    build_one(1);
    ready = 1;
  }
  if (size < 1) return 0;
  em_pretokenizer pretok = (em_pretokenizer)(1 + data[0] % 7);
  char *text = malloc(size);
  int *ids = malloc((size + 3) * sizeof(int));
  char *back = malloc(size + 2);
  if (!text || !ids || !back) abort();
  memcpy(text, data + 1, size - 1);
  text[size - 1] = 0;
  size_t len = strlen(text);

  /* the chunks tile the text */
  for (const char *p = text; *p;) {
    const char *end = em_bpe_split_chunk(p, pretok);
    if (end <= p || end > text + len) abort();
    p = end;
  }

  /* SentencePiece, or the byte-level tokenizer switched to this pre-tokenizer */
  em_tokenizer *tok = &hf[pretok == EM_PRETOK_SENTENCEPIECE ? 1 : 0];
  tok->pretok = pretok;
  em_arena scratch;
  em_arena_init(&scratch, scratch_mem, sizeof scratch_mem);
  tok->arena = &scratch;
  int n;
  if (em_tokenizer_encode(tok, text, false, false, ids, (int)len + 3, &n) != EM_OK) abort();
  size_t at = 0;
  for (int i = 0; i < n; i++) {
    int piece_len;
    const char *piece = em_tokenizer_decode(tok, i ? ids[i - 1] : -1, ids[i], &piece_len);
    if (at + (size_t)piece_len > len) abort(); /* more bytes than the input */
    memcpy(back + at, piece, (size_t)piece_len);
    at += (size_t)piece_len;
  }
  if (at != len || memcmp(back, text, len) != 0) abort(); /* not lossless */
  free(text);
  free(ids);
  free(back);
  return 1;
}
