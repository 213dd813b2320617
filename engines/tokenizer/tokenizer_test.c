/* Tokenizer: loader checks on hand-made files; encode/decode on the llama2 tokenizer
 * (ids checked against sentencepiece); streaming UTF-8 output. */
#include "engine/tokenizer.h"

#include <stdint.h>
#include <time.h>

#include "common/check.h"

static uint8_t g_mem[8 << 20]; /* 100 KB of text needs about 2.4 MB of merge scratch */

/* ---- a small tokenizer.bin written here ---- */

typedef struct builder {
  uint8_t bytes[8192];
  size_t size;
} builder;

static void put_i32(builder *b, int32_t v) {
  memcpy(b->bytes + b->size, &v, 4);
  b->size += 4;
}

static void put_token(builder *b, const char *piece, int len, float score) {
  memcpy(b->bytes + b->size, &score, 4);
  b->size += 4;
  put_i32(b, len);
  memcpy(b->bytes + b->size, piece, (size_t)len);
  b->size += (size_t)len;
}

/* <unk> <s> </s>, the 256 byte tokens (ids 3..258), then a few merges. */
static void build_small(builder *b) {
  b->size = 0;
  put_i32(b, 6);
  put_token(b, "<unk>", 5, 0);
  put_token(b, "<s>", 3, 0);
  put_token(b, "</s>", 4, 0);
  for (int i = 0; i < 256; i++) {
    char piece[8];
    snprintf(piece, sizeof piece, "<0x%02X>", i);
    put_token(b, piece, 6, 0);
  }
  put_token(b, " ", 1, -1.0f);     /* 259 */
  put_token(b, "a", 1, -2.0f);     /* 260 */
  put_token(b, "b", 1, -3.0f);     /* 261 */
  put_token(b, "ab", 2, -0.5f);    /* 262 */
  put_token(b, " a", 2, -0.7f);    /* 263: loses to "ab" in " ab" */
  put_token(b, " ab", 3, -0.1f);   /* 264 */
  put_token(b, "\xc3\xa9", 2, -4); /* 265: é */
}

static em_arena g_arena; /* the tokenizer keeps its load's arena (encode's scratch) */

static int load_small(em_tokenizer *t, const builder *b, size_t size, int vocab, const char **msg) {
  em_arena_init(&g_arena, g_mem, sizeof g_mem);
  return em_tokenizer_load(t, b->bytes, size, vocab, &g_arena, msg);
}

/* Random texts over the small vocabulary's pieces: the heap's ids are the plain loop's; and a
 * 100 KB text encodes (its time printed, not checked). */
static void test_merge_order(void) {
  static builder b;
  static char text[100001];
  static int fast[100004], slow[100004];
  build_small(&b);
  em_tokenizer t;
  const char *msg;
  CHECK(load_small(&t, &b, b.size, 266, &msg) == EM_OK);
  CHECK(t.arena == NULL); /* the loaders leave the heap's scratch to the caller */
  static const char *const kParts[] = {" ", "a", "b", "ab", "\xc3\xa9", "x"};
  uint32_t seed = 7;
  for (int round = 0; round < 20; round++) {
    size_t len = 0, want = 50 + (size_t)round * 150;
    while (len < want) {
      const char *part = kParts[check_next_u32(&seed) % 6];
      for (; *part; part++) text[len++] = *part;
    }
    text[len] = 0;
    int n_fast, n_slow;
    t.arena = &g_arena; /* the heap */
    CHECK(em_tokenizer_encode(&t, text, true, false, fast, (int)len + 3, &n_fast) == EM_OK);
    t.arena = NULL; /* the plain loop */
    CHECK(em_tokenizer_encode(&t, text, true, false, slow, (int)len + 3, &n_slow) == EM_OK);
    CHECKF(n_fast == n_slow && memcmp(fast, slow, (size_t)n_fast * sizeof(int)) == 0,
           "round %d: %d tokens vs %d", round, n_fast, n_slow);
  }
  size_t len = 0;
  while (len + 2 < sizeof text - 1) {
    const char *part = kParts[check_next_u32(&seed) % 6];
    for (; *part; part++) text[len++] = *part;
  }
  text[len] = 0;
  t.arena = &g_arena;
  size_t used = em_arena_used(&g_arena);
  clock_t start = clock();
  int n;
  CHECK(em_tokenizer_encode(&t, text, true, false, fast, (int)len + 3, &n) == EM_OK);
  printf("encode: %zu bytes -> %d tokens in %.1f ms\n", len, n,
         (double)(clock() - start) * 1000.0 / CLOCKS_PER_SEC);
  CHECK(em_arena_used(&g_arena) == used); /* the scratch was given back */
  em_arena tiny;
  static uint8_t tiny_mem[64];
  em_arena_init(&tiny, tiny_mem, sizeof tiny_mem);
  t.arena = &tiny; /* too small for the heap: the plain loop, the same tokens */
  CHECK(em_tokenizer_encode(&t, "ab ab ba", true, false, slow, 16, &n) == EM_OK);
  int fast_n;
  t.arena = &g_arena;
  CHECK(em_tokenizer_encode(&t, "ab ab ba", true, false, fast, 16, &fast_n) == EM_OK);
  CHECK(n == fast_n && memcmp(fast, slow, (size_t)n * sizeof(int)) == 0);
}

static void test_small_tokenizer(void) {
  static builder b;
  build_small(&b);
  em_tokenizer t;
  const char *msg;
  CHECK(load_small(&t, &b, b.size, 0, &msg) == EM_OK && t.vocab_size == 266);
  CHECK(load_small(&t, &b, b.size, 266, &msg) == EM_OK && t.max_token_length == 6);

  int toks[32], n;
  /* " ab": prefix " " + a + b -> "ab" (-0.5) beats " a" (-0.7) -> " " "ab" -> " ab" */
  CHECK(em_tokenizer_encode(&t, "ab", true, true, toks, 32, &n) == EM_OK);
  CHECK(n == 3 && toks[0] == 1 && toks[1] == 264 && toks[2] == 2);
  /* é is a token; ü (c3 bc) is not: byte fallback gives <0xC3> <0xBC> = 3+0xc3, 3+0xbc */
  CHECK(em_tokenizer_encode(&t, "\xc3\xa9\xc3\xbc", false, false, toks, 32, &n) == EM_OK);
  CHECK(n == 4 && toks[0] == 259 && toks[1] == 265 && toks[2] == 3 + 0xc3 && toks[3] == 3 + 0xbc);
  CHECK(em_tokenizer_encode(&t, "", true, false, toks, 32, &n) == EM_OK && n == 1 && toks[0] == 1);
  CHECK(em_tokenizer_encode(&t, "abab", false, false, toks, 3, &n) == EM_ERR_FULL);

  int len;
  const char *p = em_tokenizer_decode(&t, 1, 264, &len); /* after BOS: space dropped */
  CHECK(len == 2 && memcmp(p, "ab", 2) == 0);
  p = em_tokenizer_decode(&t, 260, 264, &len);
  CHECK(len == 3 && memcmp(p, " ab", 3) == 0);
  p = em_tokenizer_decode(&t, 260, 3 + 0xc3, &len); /* byte token -> raw byte */
  CHECK(len == 1 && (uint8_t)p[0] == 0xc3);
  CHECK(em_tokenizer_lookup(&t, "ab", 2) == 262 && em_tokenizer_lookup(&t, "abc", 3) == -1);
  CHECK(em_tokenizer_score(&t, 264) == -0.1f);
}

static void test_loader_errors(void) {
  static builder b;
  build_small(&b);
  em_tokenizer t;
  const char *msg;
  /* Every truncation point fails cleanly (ASan would catch an out-of-bounds read). */
  int bad = 0;
  for (size_t cut = 0; cut < b.size; cut++) {
    em_status s = load_small(&t, &b, cut, 266, &msg);
    if (s != EM_ERR_TRUNCATED) bad++;
  }
  CHECKF(bad == 0, "%d truncation points did not give EM_ERR_TRUNCATED", bad);
  CHECK(load_small(&t, &b, b.size, 267, &msg) == EM_ERR_TRUNCATED); /* more tokens than present */

  builder huge = b; /* a length near INT32_MAX must not wrap the bounds check */
  int32_t big = 0x7ffffff0;
  memcpy(huge.bytes + 4 + 4, &big, 4);
  CHECK(load_small(&t, &huge, huge.size, 266, &msg) == EM_ERR_TRUNCATED);
  int32_t negative = -5;
  memcpy(huge.bytes + 4 + 4, &negative, 4);
  CHECK(load_small(&t, &huge, huge.size, 266, &msg) == EM_ERR_DIMS);
  memcpy(huge.bytes, &negative, 4);
  CHECK(load_small(&t, &huge, huge.size, 266, &msg) == EM_ERR_DIMS);

  em_arena tiny;
  static uint8_t small_mem[100];
  em_arena_init(&tiny, small_mem, sizeof small_mem);
  CHECK(em_tokenizer_load(&t, b.bytes, b.size, 266, &tiny, &msg) == EM_ERR_NOMEM);
  CHECK(em_arena_used(&tiny) == 0); /* nothing kept on failure */
}

/* ---- streaming UTF-8 ---- */

typedef struct sink {
  char text[8192];
  int len;
} sink;

static void sink_putc(void *user, char c) {
  sink *s = (sink *)user;
  if (s->len < (int)sizeof s->text - 1) s->text[s->len++] = c;
  s->text[s->len] = 0;
}

static void test_utf8_stream(void) {
  const char *text = "a\xc3\xa9\xe4\xbd\xa0\xf0\x9f\x8d\x95z"; /* a é 你 🍕 z */
  sink s = {{0}, 0};
  em_utf8_stream u;
  em_utf8_init(&u);
  for (const char *c = text; *c; c++) {
    em_utf8_write(&u, c, 1, sink_putc, &s);
    /* never an incomplete character in the output */
    int l = s.len, i = 0;
    while (i < l) {
      uint8_t b = (uint8_t)s.text[i];
      i += b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    }
    CHECK(i == l);
  }
  CHECK(strcmp(s.text, text) == 0);

  s.len = 0;
  em_utf8_init(&u);
  const char *broken =
      "\xe4\xbd"
      "A"
      "\x80"
      "\xc0\xaf"
      "\xed\xa0\x80"
      "\xf0\x9f";
  em_utf8_write(&u, broken, (int)strlen(broken), sink_putc, &s);
  em_utf8_flush(&u, sink_putc, &s);
  /* 3-byte start cut by 'A'; stray continuation; overlong C0 + its continuation; surrogate
   * ED A0 (bad 2nd byte) + the following continuation; truncated 4-byte at the end */
  const char *expect =
      "\xef\xbf\xbd"
      "A"
      "\xef\xbf\xbd"
      "\xef\xbf\xbd\xef\xbf\xbd"
      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
      "\xef\xbf\xbd";
  CHECKF(strcmp(s.text, expect) == 0, "got %d bytes", s.len);
}

/* ---- the llama2 tokenizer ---- */

static void check_encoding(em_tokenizer *t, const char *text, const int *expect, int n_expect) {
  int toks[64], n;
  CHECK(em_tokenizer_encode(t, text, false, false, toks, 64, &n) == EM_OK);
  CHECKF(n == n_expect && memcmp(toks, expect, sizeof(int) * (size_t)n) == 0, "encoding of \"%s\"",
         text);
}

static void test_llama2_tokenizer(void) {
  char path[1024];
  if (testdata_path("llama2-tokenizer.bin", path, sizeof path) != 0) {
    skip("llama2-tokenizer.bin not found (set METALCHAT_TESTDATA)");
    return;
  }
  size_t size;
  void *bytes = read_file(path, &size);
  CHECK(bytes != NULL);
  if (!bytes) return;
  em_arena a;
  em_arena_init(&a, g_mem, sizeof g_mem);
  em_tokenizer t;
  const char *msg;
  CHECK(em_tokenizer_load(&t, bytes, size, 32000, &a, &msg) == EM_OK);
  CHECK(t.vocab_size == 32000);
  printf("llama2 tokenizer: %d tokens, longest piece %d bytes, %zu arena bytes\n", t.vocab_size,
         t.max_token_length, em_arena_used(&a));

  /* Expected ids from sentencepiece on llama2-tokenizer.model. */
  check_encoding(&t, "Hello, world!", (const int[]){15043, 29892, 3186, 29991}, 4);
  check_encoding(&t, "Once upon a time", (const int[]){9038, 2501, 263, 931}, 4);
  check_encoding(&t, "\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x8c\xe4\xb8\x96\xe7\x95\x8c\xef\xbc\x81",
                 (const int[]){29871, 30919, 31076, 30214, 30793, 30967, 30584}, 7);
  check_encoding(&t, "I love pizza \xf0\x9f\x8d\x95!",
                 (const int[]){306, 5360, 282, 24990, 29871, 243, 162, 144, 152, 29991}, 10);
  check_encoding(&t, "  Two leading spaces.", (const int[]){259, 7803, 8236, 8162, 29889}, 5);
  check_encoding(&t, "na\xc3\xafve caf\xc3\xa9 3.14",
                 (const int[]){1055, 30085, 345, 274, 28059, 29871, 29941, 29889, 29896, 29946},
                 10);

  /* Every corpus line decodes back to itself, token by token through the UTF-8 stream. */
  FILE *f = fopen("engines/tokenizer/testdata/tokenizer_corpus.txt", "r");
  if (!f) {
    skip("engines/tokenizer/testdata/tokenizer_corpus.txt not found (run from the repo root)");
  } else {
    char line[4096];
    static int toks[8192];
    int lines = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
      line[strcspn(line, "\n")] = 0;
      int n;
      if (em_tokenizer_encode(&t, line, true, true, toks, 8192, &n) != EM_OK) {
        bad++;
        continue;
      }
      sink s = {{0}, 0};
      em_utf8_stream u;
      em_utf8_init(&u);
      for (int i = 1; i + 1 < n; i++) { /* skip BOS and EOS */
        int len;
        const char *piece = em_tokenizer_decode(&t, toks[i - 1], toks[i], &len);
        em_utf8_write(&u, piece, len, sink_putc, &s);
      }
      em_utf8_flush(&u, sink_putc, &s);
      if (toks[0] != 1 || toks[n - 1] != 2 || strcmp(s.text, line) != 0) {
        bad++;
        fprintf(stderr, "round trip failed: \"%s\" -> \"%s\"\n", line, s.text);
      }
      lines++;
    }
    fclose(f);
    printf("corpus: %d lines, %d round-trip failures\n", lines, bad);
    CHECK(lines >= 200 && bad == 0);
  }
  free(bytes);
}

/* ---- Hugging Face BPE payloads (kind 3) written here ---- */

static void put_text(builder *b, const char *text, int len) {
  put_i32(b, len);
  memcpy(b->bytes + b->size, text, (size_t)len);
  b->size += (size_t)len;
}

/* Byte-level: the 256 bytes, 256 "ab", 257 "bc", 258 "abc" (no merge makes it), 259 "\n";
 * merges ranked (b, c) before (a, b): the list's order, not the ids', decides. One special. */
static void build_hf(builder *b, uint32_t pretok, uint32_t flags) {
  b->size = 0;
  put_i32(b, (int32_t)pretok);
  put_i32(b, (int32_t)flags);
  put_i32(b, 260);
  for (int i = 0; i < 256; i++) {
    char c = (char)i;
    put_text(b, &c, 1);
  }
  put_text(b, "ab", 2);
  put_text(b, "bc", 2);
  put_text(b, "abc", 3);
  put_i32(b, 0); /* 259: an id that is a special token only */
  put_i32(b, 2);
  int merges[2][3] = {{'b', 'c', 257}, {'a', 'b', 256}};
  for (int m = 0; m < 2; m++)
    for (int k = 0; k < 3; k++) put_i32(b, merges[m][k]);
  put_i32(b, 1);
  put_i32(b, 259);
  put_text(b, "<|end|>", 7);
}

static em_status load_hf(em_tokenizer *t, const builder *b, size_t size, int vocab,
                         const char **msg) {
  em_arena_init(&g_arena, g_mem, sizeof g_mem);
  return em_tokenizer_load_hf(t, b->bytes, size, vocab, &g_arena, msg);
}

static void test_hf_payload(void) {
  builder b;
  em_tokenizer t;
  const char *msg;
  int toks[16], n, len;
  build_hf(&b, EM_PRETOK_GPT2, 0);
  CHECK(load_hf(&t, &b, b.size, 260, &msg) == EM_OK && t.n_merges == 2 && t.max_token_length == 3);
  for (int pass = 0; pass < 2; pass++) { /* the quadratic loop, then the heap */
    t.arena = pass ? &g_arena : NULL;
    CHECK(em_tokenizer_encode(&t, "abc", false, false, toks, 16, &n) == EM_OK);
    CHECK(n == 2 && toks[0] == 'a' && toks[1] == 257); /* (b, c) is the earlier merge */
    CHECK(em_tokenizer_encode(&t, "ab abc", false, false, toks, 16, &n) == EM_OK);
    CHECK(n == 4 && toks[0] == 256 && toks[1] == ' ' && toks[2] == 'a' && toks[3] == 257);
  }
  CHECK(em_tokenizer_special(&t, "<|end|>") == 259);
  CHECK(em_tokenizer_decode(&t, -1, 259, &len) != NULL && len == 0); /* specials print nothing */
  CHECK(em_tokenizer_lookup(&t, "<|end|>", 7) == -1);

  build_hf(&b, EM_PRETOK_LLAMA3, EM_BPE_IGNORE_MERGES); /* a chunk that is a token is that token */
  CHECK(load_hf(&t, &b, b.size, 260, &msg) == EM_OK);
  CHECK(em_tokenizer_encode(&t, "abc", false, false, toks, 16, &n) == EM_OK);
  CHECK(n == 1 && toks[0] == 258);

  build_hf(&b, EM_PRETOK_GPT2, 0);
  int bad = 0;
  for (size_t cut = 0; cut < b.size; cut++)
    bad += load_hf(&t, &b, cut, 260, &msg) != EM_ERR_TRUNCATED;
  CHECKF(bad == 0, "%d truncation points did not give EM_ERR_TRUNCATED", bad);
  b.bytes[0] = 9;
  CHECK(load_hf(&t, &b, b.size, 260, &msg) == EM_ERR_UNSUPPORTED);
  build_hf(&b, EM_PRETOK_GPT2, 4); /* an unknown flag */
  CHECK(load_hf(&t, &b, b.size, 260, &msg) == EM_ERR_UNSUPPORTED);
  build_hf(&b, EM_PRETOK_GPT2, 0);
  size_t merge0 = b.size - 8 - 7 - 4 - 24; /* merge 0's left id */
  b.bytes[merge0 + 1] = 5;                 /* id 'b' + 1280: no such token */
  CHECK(load_hf(&t, &b, b.size, 260, &msg) == EM_ERR_DIMS);
  build_hf(&b, EM_PRETOK_SENTENCEPIECE, 0); /* no <0xXX> tokens: no byte fallback */
  CHECK(load_hf(&t, &b, b.size, 260, &msg) == EM_ERR_DIMS);
  CHECK(em_tokenizer_load_kind(&t, 9, b.bytes, b.size, 260, &g_arena, &msg) == EM_ERR_UNSUPPORTED);
}

/* SentencePiece-style: <unk> <s> </s>, <0x00>..<0xFF> (3..258), " " 259, "a" 260, " a" 261. */
static void test_hf_sentencepiece(void) {
  builder b;
  b.size = 0;
  put_i32(&b, EM_PRETOK_SENTENCEPIECE);
  put_i32(&b, EM_BPE_DUMMY_PREFIX);
  put_i32(&b, 262);
  for (int i = 0; i < 3; i++) put_i32(&b, 0);
  for (int i = 0; i < 256; i++) {
    char piece[8];
    snprintf(piece, sizeof piece, "<0x%02X>", i);
    put_text(&b, piece, 6);
  }
  put_text(&b, " ", 1);
  put_text(&b, "a", 1);
  put_text(&b, " a", 2);
  put_i32(&b, 1);
  put_i32(&b, 259);
  put_i32(&b, 260);
  put_i32(&b, 261);
  put_i32(&b, 1);
  put_i32(&b, 1);
  put_text(&b, "<s>", 3);
  em_tokenizer t;
  const char *msg;
  CHECKF(load_hf(&t, &b, b.size, 262, &msg) == EM_OK, "%s", msg);
  t.bos_id = 1;
  int toks[16], n, len;
  CHECK(em_tokenizer_encode(&t, "a\xc3\xa9", true, false, toks, 16, &n) == EM_OK);
  CHECK(n == 4 && toks[0] == 1 && toks[1] == 261 && toks[2] == 3 + 0xc3 && toks[3] == 3 + 0xa9);
  const char *p = em_tokenizer_decode(&t, 1, 261, &len); /* the dummy prefix's space goes */
  CHECK(len == 1 && p[0] == 'a');
  p = em_tokenizer_decode(&t, 261, 261, &len);
  CHECK(len == 2 && memcmp(p, " a", 2) == 0);
  p = em_tokenizer_decode(&t, 261, 3 + 0xc3, &len);
  CHECK(len == 1 && (uint8_t)p[0] == 0xc3);
  CHECK(em_tokenizer_encode(&t, "", false, false, toks, 16, &n) == EM_OK && n == 0);
}

int main(void) {
  test_small_tokenizer();
  test_hf_payload();
  test_hf_sentencepiece();
  test_loader_errors();
  test_merge_order();
  test_utf8_stream();
  test_llama2_tokenizer();
  return finish();
}
