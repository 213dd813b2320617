/* The session layer on the test models (argv: a nanochat container, a llama container, a
 * llama2.c v0 file): bring-up from the registry, the template the manifest names, the
 * tokenizer the file carries or a tokenizer.bin that must match, nanochat's own turn format
 * and end-of-turn token, answers that keep every printed token in the context, completions,
 * the cancel hook, and the one-line failures. */
#include "engine/session.h"

#include <stdlib.h>
#include <string.h>

#include "common/check.h"

enum { ARENA = 64 << 20 };

static em_session_options greedy(void) {
  em_session_options o = {{NULL, NULL}, 0, true, 0.0f, 0.9f, 1, NULL};
  return o;
}

static int g_printed;
static void count_putc(void *user, char c) {
  (void)user;
  (void)c;
  g_printed++;
}

static int g_cancel_after;
static bool cancel_after(void *user) {
  (void)user;
  return g_cancel_after-- <= 0;
}

static void test_nanochat(const char *path, em_arena *arena) {
  size_t size;
  void *bytes = read_file(path, &size);
  CHECKF(bytes != NULL, "cannot read %s", path);
  if (!bytes) return;
  em_session s;
  em_session_options o = greedy();
  CHECK(em_session_load(&s, bytes, size, &o, arena) == EM_OK);
  CHECK(strcmp(s.info.engine, "nanochat") == 0);
  CHECK(s.template == EM_TEMPLATE_ENGINE); /* the manifest names nanochat's template */
  CHECK(em_session_load_tokenizer(&s, NULL, 0) == EM_OK);
  int end = em_tokenizer_special(&s.tokenizer, "<|assistant_end|>");
  CHECK(end >= 0 && s.end_of_turn == end);

  char scratch[256];
  int tokens[64], n;
  CHECK(em_session_turn_tokens(&s, EM_TEMPLATE_ENGINE, "hi there", scratch, sizeof scratch, tokens,
                               64, &n) == EM_OK);
  CHECK(n >= 4 && tokens[0] == em_tokenizer_special(&s.tokenizer, "<|bos|>"));
  CHECK(tokens[1] == em_tokenizer_special(&s.tokenizer, "<|user_start|>"));
  CHECK(tokens[n - 1] == em_tokenizer_special(&s.tokenizer, "<|assistant_start|>"));
  CHECK(em_session_turn_tokens(&s, EM_TEMPLATE_ENGINE, "hi there", scratch, sizeof scratch, tokens,
                               2, &n) == EM_ERR_FULL);

  int ids[8];
  em_run_hooks hooks = {count_putc, NULL, NULL, NULL, NULL};
  em_run_stats stats;
  CHECK(em_session_turn_tokens(&s, EM_TEMPLATE_ENGINE, "hi there", scratch, sizeof scratch, tokens,
                               64, &n) == EM_OK);
  CHECK(em_session_answer(&s, tokens, n, 8, &hooks, ids, &stats) == EM_OK);
  CHECK(stats.n_prompt == n && stats.n_generated <= 8);
  CHECK(stats.stop == (stats.n_generated == 8 ? EM_STOP_LENGTH : EM_STOP_END));
  s.engine->info(s.model, &s.info);
  CHECKF(s.info.pos == n + stats.n_generated, "context %d after %d + %d", s.info.pos, n,
         stats.n_generated);
  for (int i = 0; i < stats.n_generated; i++) CHECK(ids[i] != end && ids[i] != s.info.eos_id);

  /* A later turn starts without BOS and continues the context. */
  CHECK(em_session_turn_tokens(&s, EM_TEMPLATE_ENGINE, "more", scratch, sizeof scratch, tokens, 64,
                               &n) == EM_OK);
  CHECK(tokens[0] == em_tokenizer_special(&s.tokenizer, "<|user_start|>"));

  /* The cancel hook stops an answer between tokens. */
  g_cancel_after = 2;
  em_run_hooks cancelling = {NULL, NULL, cancel_after, NULL, NULL};
  CHECK(em_session_answer(&s, tokens, n, 8, &cancelling, NULL, &stats) == EM_OK);
  CHECK(stats.stop == EM_STOP_CANCEL || stats.stop == EM_STOP_END);
  CHECK(stats.n_generated <= 2);
  free(bytes);
}

static void test_llama(const char *container, const char *v0, em_arena *arena) {
  size_t size, v0_size;
  void *bytes = read_file(container, &size);
  void *v0_bytes = read_file(v0, &v0_size);
  CHECK(bytes && v0_bytes);
  if (!bytes || !v0_bytes) return;
  em_session s;
  em_session_options o = greedy();
  CHECK(em_session_load(&s, bytes, size, &o, arena) == EM_OK);
  CHECK(s.template == EM_TEMPLATE_PLAIN && s.context_cap == 0);
  CHECK(em_session_load_tokenizer(&s, NULL, 0) == EM_OK);
  CHECK(s.end_of_turn == -1);
  em_run_hooks hooks = {count_putc, NULL, NULL, NULL, NULL};
  em_run_stats stats;
  g_printed = 0;
  CHECK(em_session_complete(&s, "ab", 12, &hooks, &stats) == EM_OK);
  CHECK(stats.n_prompt >= 2 && stats.n_forward <= 12 && stats.n_forward >= stats.n_prompt - 1);
  CHECK(stats.stop == EM_STOP_LENGTH || stats.stop == EM_STOP_END);
  CHECK(g_printed > 0);
  /* The same completion again gives the same text (greedy, the context reset first). */
  int first = g_printed;
  g_printed = 0;
  CHECK(em_session_complete(&s, "ab", 12, &hooks, &stats) == EM_OK);
  CHECK(g_printed == first);
  /* Longer than the context: nothing runs. */
  char *long_text = malloc(4096);
  memset(long_text, 'x', 4095);
  long_text[4095] = 0;
  CHECK(em_session_complete(&s, long_text, 12, &hooks, &stats) == EM_ERR_FULL);
  free(long_text);

  /* A llama2.c file carries no tokenizer; a tokenizer.bin of another vocabulary is refused. */
  em_session v;
  CHECK(em_session_load(&v, v0_bytes, v0_size, &o, arena) == EM_OK);
  CHECK(em_session_load_tokenizer(&v, NULL, 0) == EM_ERR_UNSUPPORTED);
  const uint8_t *tok = s.tokenizer.data;
  CHECK(s.tokenizer.vocab_size != v.info.vocab_size); /* 333 and 259 */
  CHECK(em_session_load_tokenizer(&v, tok, s.tokenizer.size) == EM_ERR_DIMS);
  free(bytes);
  free(v0_bytes);
}

/* A weight source over a file in memory that fails every read from the fail_at-th on. */
typedef struct test_source {
  const uint8_t *bytes;
  size_t size;
  int reads, fail_at;
  em_status status;
} test_source;

static em_status test_start(void *user, const em_read *reads, int n) {
  test_source *t = (test_source *)user;
  t->status = EM_OK;
  for (int k = 0; k < n; k++) {
    if (++t->reads >= t->fail_at) t->status = EM_ERR_IO;
    if (t->status == EM_OK) memcpy(reads[k].dst, t->bytes + reads[k].offset, reads[k].size);
  }
  return EM_OK;
}

static em_status test_wait(void *user) { return ((test_source *)user)->status; }

/* Streamed (the head in memory, the rest through a source): the same logits as resident; a
 * failed read is EM_ERR_IO and the context does not move; a llama2.c file cannot stream. */
static void test_streamed(const char *container, const char *v0, em_arena *arena) {
  size_t size, v0_size;
  uint8_t *bytes = read_file(container, &size);
  void *v0_bytes = read_file(v0, &v0_size);
  CHECK(bytes && v0_bytes);
  if (!bytes || !v0_bytes) return;
  uint64_t head = em_session_stream_head(bytes, size, size, 0);
  CHECK(head > 256 && head < size);
  CHECK(em_session_stream_head(bytes, size, size, (uint64_t)size * 2) == 0); /* fits: resident */
  CHECK(em_session_stream_head(v0_bytes, v0_size, v0_size, 0) == 0);         /* not a container */
  em_session whole, s;
  em_session_options o = greedy();
  CHECK(em_session_load(&whole, bytes, size, &o, arena) == EM_OK);
  test_source src = {bytes, size, 0, 1 << 30, EM_OK};
  em_weight_source source = {size, test_start, test_wait, &src};
  em_session_options so = o;
  so.source = &source;
  CHECK(em_session_load(&s, bytes, (size_t)head, &so, arena) == EM_OK);
  em_memory_report mem;
  s.engine->memory(s.model, &mem);
  CHECK(mem.weights_in_place == 0 && mem.stream_buffers > 0 && mem.streamed_per_token > 0);
  const float *a, *b;
  int vocab = whole.info.vocab_size;
  for (int pos = 0; pos < 3; pos++) {
    CHECK(whole.engine->decode(whole.model, 1 + pos, &a) == EM_OK);
    CHECK(s.engine->decode(s.model, 1 + pos, &b) == EM_OK);
    CHECK(memcmp(a, b, (size_t)vocab * sizeof(float)) == 0);
  }
  src.fail_at = src.reads + 3; /* a read in the middle of the next pass fails */
  CHECK(s.engine->decode(s.model, 5, &b) == EM_ERR_IO);
  s.engine->info(s.model, &s.info);
  CHECK(s.info.pos == 3);
  src.fail_at = 1 << 30; /* the storage is back: the pass runs again */
  CHECK(s.engine->decode(s.model, 5, &b) == EM_OK);
  em_session v;
  CHECK(em_session_load(&v, v0_bytes, v0_size, &so, arena) == EM_ERR_UNSUPPORTED);
  free(bytes);
  free(v0_bytes);
}

static void test_failures(em_arena *arena) {
  em_session s;
  em_session_options o = greedy();
  static const uint8_t junk[64] = {1, 2, 3, 4};
  CHECK(em_session_load(&s, junk, sizeof junk, &o, arena) == EM_ERR_UNSUPPORTED);
  CHECK(s.engine == NULL && s.msg && s.msg[0]);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: session_test NANOCHAT.mcm LLAMA.mcm LLAMA_V0.bin\n");
    return 2;
  }
  em_arena arena;
  em_arena_init(&arena, malloc(ARENA), ARENA);
  test_nanochat(argv[1], &arena);
  em_arena_reset(&arena, 0);
  test_llama(argv[2], argv[3], &arena);
  em_arena_reset(&arena, 0);
  test_streamed(argv[2], argv[3], &arena);
  em_arena_reset(&arena, 0);
  test_failures(&arena);
  return finish();
}
