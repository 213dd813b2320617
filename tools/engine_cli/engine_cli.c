/* Host command line for the engines, in the manner of llama2.c's `run`:
 *   engine_cli model.bin [-z tokenizer.bin] [-n steps] [-t temperature] [-p top_p]
 *              [-s seed] [-i prompt] [--ids] [--dump-logits FILE] [--max-seq N]
 *              [--threads N] [--no-huge-pages]
 * The engine is picked by probing the file (engines/registry). Text goes to stdout, the
 * speed to stderr. The model file is read into memory the engine uses in place
 * (tools/host/host_memory.h: 64-byte aligned, transparent huge pages advised unless
 * --no-huge-pages); --threads runs the engine's parallel-for on a pthread pool.
 * --ids prints token ids instead of text (and then works without a tokenizer when the
 * prompt is empty). --dump-logits writes, for every position, the vocab_size fp32 logits
 * (native byte order) one position after another. A model file that carries its
 * tokenizer (a container) uses it unless -z is given.
 * --prompt-ids 1,2,3 feeds exactly these ids (no BOS added, nothing sampled) and with
 * --dump-logits writes their logits: what the parity checks (tools/verify) compare.
 * --encode FILE prints the ids of FILE's text, one line per NUL-separated document. */
#define _POSIX_C_SOURCE 199309L

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/generate.h"
#include "engine/registry.h"
#include "tools/host/host_memory.h"
#include "tools/host/host_parallel.h"

typedef struct options {
  const char *model_path, *tokenizer_path, *prompt, *logits_path, *prompt_ids, *encode_path;
  int steps, max_seq, print_ids, tokenizer_given, threads, huge_pages;
  float temperature, topp;
  unsigned long long seed;
} options;

static void usage(void) {
  fprintf(stderr,
          "usage: engine_cli model.bin [options]\n"
          "  -z FILE           tokenizer.bin (default: tokenizer.bin)\n"
          "  -n N              positions to run, prompt included (default 256)\n"
          "  -t T              temperature, 0 = greedy (default 1.0)\n"
          "  -p P              top-p (default 0.9)\n"
          "  -s SEED           RNG seed (default: time)\n"
          "  -i TEXT           prompt (default empty: start from BOS)\n"
          "  --ids             print token ids, not text\n"
          "  --dump-logits F   write fp32 logits for every position to F\n"
          "  --max-seq N       cap the context (KV cache) length\n"
          "  --threads N       threads running the engine (default 1; 0: one per CPU)\n"
          "  --no-huge-pages   keep the model in 4 KB pages (default: huge pages)\n"
          "  --prompt-ids L    feed exactly the comma-separated ids L (no sampling)\n"
          "  --encode FILE     print the ids of FILE's NUL-separated documents\n");
  exit(2);
}

static options parse(int argc, char **argv) {
  options o = {NULL, "tokenizer.bin", "", NULL, NULL, NULL, 256, 0, 0, 0, 1, 1, 1.0f, 0.9f, 0};
  if (argc < 2 || argv[1][0] == '-') usage();
  o.model_path = argv[1];
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--ids") == 0) {
      o.print_ids = 1;
      continue;
    }
    if (strcmp(a, "--no-huge-pages") == 0) {
      o.huge_pages = 0;
      continue;
    }
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (strcmp(a, "-z") == 0) {
      o.tokenizer_path = v;
      o.tokenizer_given = 1;
    } else if (strcmp(a, "--prompt-ids") == 0)
      o.prompt_ids = v;
    else if (strcmp(a, "--encode") == 0)
      o.encode_path = v;
    else if (strcmp(a, "-n") == 0)
      o.steps = atoi(v);
    else if (strcmp(a, "-t") == 0)
      o.temperature = strtof(v, NULL);
    else if (strcmp(a, "-p") == 0)
      o.topp = strtof(v, NULL);
    else if (strcmp(a, "-s") == 0)
      o.seed = strtoull(v, NULL, 10);
    else if (strcmp(a, "-i") == 0)
      o.prompt = v;
    else if (strcmp(a, "--dump-logits") == 0)
      o.logits_path = v;
    else if (strcmp(a, "--max-seq") == 0)
      o.max_seq = atoi(v);
    else if (strcmp(a, "--threads") == 0)
      o.threads = atoi(v);
    else
      usage();
  }
  if (o.seed == 0) o.seed = (unsigned long long)time(NULL);
  if (o.temperature < 0.0f || o.steps < 0 || o.threads < 0) usage();
  return o;
}

static uint64_t clock_us(void *user) {
  (void)user;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void stdout_putc(void *user, char c) {
  (void)user;
  putchar(c);
  if (c == '\n') fflush(stdout);
}

typedef struct step_sink {
  FILE *logits;
  int vocab_size;
  int print_ids;
  int failed;
} step_sink;

static void on_step(void *user, int pos, int token, const float *logits, int next) {
  step_sink *s = (step_sink *)user;
  (void)pos;
  (void)token;
  if (s->logits &&
      fwrite(logits, sizeof(float), (size_t)s->vocab_size, s->logits) != (size_t)s->vocab_size)
    s->failed = 1;
  if (s->print_ids) printf("%d\n", next);
}

/* Feeds the comma-separated ids, writing every position's logits to the sink. */
static int run_prompt_ids(const em_engine *engine, void *model, const char *list, step_sink *sink) {
  engine->reset(model);
  int pos = 0;
  for (const char *p = list; *p;) {
    char *end;
    long id = strtol(p, &end, 10);
    if (end == p) {
      fprintf(stderr, "--prompt-ids: not a number at \"%s\"\n", p);
      return 1;
    }
    const float *logits;
    em_status status = engine->decode(model, (int)id, &logits);
    if (status != EM_OK) {
      fprintf(stderr, "decode of id %ld at position %d: %s\n", id, pos, em_status_name(status));
      return 1;
    }
    if (sink->logits && fwrite(logits, sizeof(float), (size_t)sink->vocab_size, sink->logits) !=
                            (size_t)sink->vocab_size)
      return 1;
    pos++;
    p = *end == ',' ? end + 1 : end;
  }
  return 0;
}

/* Prints the ids of each NUL-separated document of the file, one line each. */
static int run_encode(em_tokenizer *tok, const char *path) {
  size_t size;
  char *text = host_read_file(path, &size, false);
  if (!text) {
    fprintf(stderr, "cannot read %s\n", path);
    return 1;
  }
  text[size] = 0;
  int *ids = malloc((size + 3) * sizeof(int));
  for (size_t start = 0; ids && start <= size;) {
    size_t len = strlen(text + start);
    int n;
    em_status s = em_tokenizer_encode(tok, text + start, false, false, ids, (int)len + 3, &n);
    if (s != EM_OK) {
      fprintf(stderr, "encode: %s\n", em_status_name(s));
      return 1;
    }
    for (int i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
    printf("\n");
    start += len + 1;
  }
  free(ids);
  free(text);
  return 0;
}

/* Loads the model, growing the arena until the engine has room. */
static em_status load_model(const em_engine *engine, void **model, const void *bytes, size_t size,
                            const em_load_options *opt, bool huge_pages, em_arena *arena,
                            const char **msg) {
  for (size_t cap = (size_t)16 << 20;; cap *= 2) {
    void *mem = host_alloc(cap, huge_pages);
    if (!mem) {
      *msg = "out of host memory";
      return EM_ERR_NOMEM;
    }
    em_arena_init(arena, mem, cap);
    em_status s = engine->load(model, bytes, size, opt, arena, msg);
    if (s != EM_ERR_NOMEM || cap >= ((size_t)1 << 36)) return s;
    free(mem);
  }
}

int main(int argc, char **argv) {
  options o = parse(argc, argv);
  size_t model_size;
  void *model_bytes = host_read_file(o.model_path, &model_size, o.huge_pages);
  if (!model_bytes) {
    fprintf(stderr, "cannot read %s\n", o.model_path);
    return 1;
  }
  const em_engine *engine = em_registry_find(model_bytes, model_size);
  if (!engine) {
    fprintf(stderr, "%s: no engine recognises this file\n", o.model_path);
    return 1;
  }
  host_pool *pool = o.threads == 1 ? NULL : host_pool_create(o.threads);
  if (o.threads != 1 && !pool) {
    fprintf(stderr, "cannot start %d threads\n", o.threads);
    return 1;
  }
  em_load_options load_opt = {o.max_seq, host_pool_parallel(pool)};
  em_arena arena;
  void *model;
  const char *msg;
  em_status status =
      load_model(engine, &model, model_bytes, model_size, &load_opt, o.huge_pages, &arena, &msg);
  if (status != EM_OK) {
    fprintf(stderr, "%s: %s (%s)\n", o.model_path, msg, em_status_name(status));
    return 1;
  }
  em_model_info info;
  engine->info(model, &info);
  em_memory_report mem;
  engine->memory(model, &mem);
  fprintf(stderr,
          "engine %s: vocab %d, context %d; weights %zu B in place, %zu B copied, "
          "KV cache %zu B, activations %zu B\n",
          info.engine, info.vocab_size, info.seq_len, mem.weights_in_place, mem.weights_copied,
          mem.kv_cache, mem.activations);

  em_sampler sampler;
  if (em_sampler_init(&sampler, info.vocab_size, o.temperature, o.topp, o.seed, &arena) != EM_OK) {
    fprintf(stderr, "sampler: arena too small\n");
    return 1;
  }
  step_sink sink = {NULL, info.vocab_size, o.print_ids, 0};
  if (o.logits_path && !(sink.logits = fopen(o.logits_path, "wb"))) {
    fprintf(stderr, "cannot write %s\n", o.logits_path);
    return 1;
  }

  if (o.prompt_ids) {
    int failed = run_prompt_ids(engine, model, o.prompt_ids, &sink);
    if (sink.logits && fclose(sink.logits) != 0) failed = 1;
    return failed;
  }

  size_t tok_size = 0;
  void *tok_bytes = NULL;
  em_tokenizer tok;
  int embedded = 0;
  if (!o.tokenizer_given && engine->tokenizer) {
    status = engine->tokenizer(model, &tok, &arena, &msg);
    if (status == EM_OK) {
      embedded = 1;
    } else if (status != EM_ERR_UNSUPPORTED) {
      fprintf(stderr, "%s: tokenizer: %s (%s)\n", o.model_path, msg, em_status_name(status));
      return 1;
    }
  }
  if (!embedded) tok_bytes = host_read_file(o.tokenizer_path, &tok_size, false);
  if (o.encode_path) {
    if (!embedded && tok_bytes &&
        (status = em_tokenizer_load(&tok, tok_bytes, tok_size, info.vocab_size, &arena, &msg)) !=
            EM_OK) {
      fprintf(stderr, "%s: %s (%s)\n", o.tokenizer_path, msg, em_status_name(status));
      return 1;
    }
    if (!embedded && !tok_bytes) {
      fprintf(stderr, "cannot read tokenizer %s\n", o.tokenizer_path);
      return 1;
    }
    return run_encode(&tok, o.encode_path);
  }
  em_generate_result result = {0, 0, 0, 0, 0};
  uint64_t start = clock_us(NULL);
  if (embedded || tok_bytes) {
    if (!embedded)
      status = em_tokenizer_load(&tok, tok_bytes, tok_size, info.vocab_size, &arena, &msg);
    if (status != EM_OK) {
      fprintf(stderr, "%s: %s (%s)\n", o.tokenizer_path, msg, em_status_name(status));
      return 1;
    }
    em_host host = {o.print_ids ? NULL : stdout_putc, clock_us, NULL};
    status = em_generate(engine, model, &tok, &sampler, o.prompt, o.steps, &arena, &host, on_step,
                         &sink, &result);
  } else if (o.print_ids && o.prompt[0] == '\0') {
    /* No tokenizer: ids from BOS, the same loop as em_generate. */
    int token = info.bos_id;
    engine->reset(model);
    result.n_prompt = 1;
    for (int pos = 0; pos < o.steps; pos++) {
      const float *logits;
      if ((status = engine->decode(model, token, &logits)) != EM_OK) break;
      result.n_positions++;
      int next = em_sample(&sampler, logits);
      on_step(&sink, pos, token, logits, next);
      if (next == info.bos_id) break;
      result.n_generated++;
      token = next;
    }
    if (status == EM_ERR_FULL) {
      result.context_full = 1;
      status = EM_OK;
    }
    result.elapsed_us = clock_us(NULL) - start;
  } else {
    fprintf(stderr, "cannot read tokenizer %s\n", o.tokenizer_path);
    return 1;
  }
  if (status == EM_ERR_FULL) {
    fprintf(stderr, "the prompt is %d tokens and the context holds %d: shorten it\n",
            result.n_prompt, info.seq_len);
    return 1;
  }
  if (!o.print_ids) printf("\n");
  if (result.context_full)
    fprintf(stderr, "[context full: the text stops at its %d positions]\n", info.seq_len);
  if (sink.logits && fclose(sink.logits) != 0) sink.failed = 1;
  if (status != EM_OK || sink.failed) {
    fprintf(stderr, "generation failed: %s\n",
            sink.failed ? "writing logits" : em_status_name(status));
    return 1;
  }
  int positions = result.n_positions;
  if (result.elapsed_us > 0 && positions > 0)
    fprintf(stderr, "achieved tok/s: %.1f (%d positions in %.3f s)\n",
            positions / (result.elapsed_us / 1e6), positions, result.elapsed_us / 1e6);
  free(tok_bytes);
  free(model_bytes);
  host_pool_destroy(pool);
  return 0;
}
