/* Host command line for the engines, in the manner of llama2.c's `run`:
 *   engine_cli model.bin [-z tokenizer.bin] [-n steps] [-t temperature] [-p top_p]
 *              [-s seed] [-i prompt] [--ids] [--dump-logits FILE] [--max-seq N]
 *              [--threads N] [--no-huge-pages] [--copy] [--ram-cap BYTES] [--stream]
 * The session layer (engine/session.h) picks the engine by probing the file and runs it. Text goes
 * to stdout, the speed to stderr. The model file is mapped (as llama2.c's run does: nothing is
 * copied at start-up), or with --copy read into memory (platforms/host/public/host/memory.h:
 * 64-byte aligned); transparent huge pages are advised unless --no-huge-pages; --threads runs
 * the engine's parallel-for on a pthread pool.
 * --ids prints token ids instead of text (and then works without a tokenizer when the
 * prompt is empty). --dump-logits writes, for every position, the vocab_size fp32 logits
 * (native byte order) one position after another. A model file that carries its
 * tokenizer (a container) uses it unless -z is given.
 * --ram-cap BYTES gives the model exactly that much memory, as a board's RAM would: the file
 * read in whole when it takes at most three quarters of it, else streamed (the session's
 * em_session_stream_head: the head in memory, the layers read through platforms/host's weight
 * source, one layer ahead on a thread); --stream streams whatever the size. A model given as
 * shards (`model.mcm.000`, `.001`, ...) is named by its unsharded path and always streamed.
 * Both print to stderr the peak memory used (head or file, plus the arena's peak) and the
 * weight bytes read.
 * --prompt-ids 1,2,3 feeds exactly these ids (no BOS added, nothing sampled) and with
 * --dump-logits writes their logits: what the parity checks (tools/verify) compare.
 * A bad option value gets one line ("engine_cli: -n needs ...") and exit status 2; --threads
 * above the machine's CPUs runs one per CPU and says so. The text reaches stdout with control
 * bytes escaped (common/term.h). Ctrl-C (SIGINT) stops the text after the current token; the
 * speed line is still printed.
 */
#define _POSIX_C_SOURCE 199309L

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/term.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "host/memory.h"
#include "host/parallel.h"
#include "host/weights.h"

typedef struct options {
  const char *model_path, *tokenizer_path, *prompt, *logits_path, *prompt_ids;
  int steps, max_seq, print_ids, tokenizer_given, threads, huge_pages, copy, stream;
  unsigned long long ram_cap;
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
          "  --copy            read the model into memory (default: map the file)\n"
          "  --prompt-ids L    feed exactly the comma-separated ids L (no sampling)\n"
          "  --ram-cap BYTES   give the model only this memory (streams what does not fit)\n"
          "  --stream          stream the weights layer by layer whatever their size\n");
  exit(2);
}

/* One line naming the option and what it takes, then exit status 2. */
static void bad_value(const char *option, const char *value, const char *wants) {
  fprintf(stderr, "engine_cli: %s needs %s, not \"%s\"\n", option, wants, value);
  exit(2);
}

/* A whole decimal number in [lo, hi] that is all of v. */
static long long whole(const char *option, const char *v, long long lo, long long hi,
                       const char *wants) {
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (end == v || *end || errno == ERANGE || n < lo || n > hi) bad_value(option, v, wants);
  return n;
}

/* A finite decimal number in [lo, hi] that is all of v. */
static float real(const char *option, const char *v, float lo, float hi, const char *wants) {
  char *end;
  float x = strtof(v, &end);
  if (end == v || *end || !isfinite(x) || x < lo || x > hi) bad_value(option, v, wants);
  return x;
}

static options parse(int argc, char **argv) {
  options o = {NULL, "tokenizer.bin", "", NULL, NULL, 256, 0, 0, 0, 1, 1, 0, 0, 0, 1.0f, 0.9f, 0};
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
    if (strcmp(a, "--copy") == 0) {
      o.copy = 1;
      continue;
    }
    if (strcmp(a, "--stream") == 0) {
      o.stream = 1;
      continue;
    }
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (strcmp(a, "-z") == 0) {
      o.tokenizer_path = v;
      o.tokenizer_given = 1;
    } else if (strcmp(a, "--prompt-ids") == 0)
      o.prompt_ids = v;
    else if (strcmp(a, "-n") == 0)
      o.steps = (int)whole(a, v, 0, INT32_MAX, "a whole number >= 0");
    else if (strcmp(a, "-t") == 0)
      o.temperature = real(a, v, 0.0f, 1e6f, "a number >= 0 (0 = greedy)");
    else if (strcmp(a, "-p") == 0)
      o.topp = real(a, v, 0.0f, 1.0f, "a number from 0 to 1");
    else if (strcmp(a, "-s") == 0)
      o.seed = (unsigned long long)whole(a, v, 0, INT64_MAX, "a whole number >= 0");
    else if (strcmp(a, "-i") == 0)
      o.prompt = v;
    else if (strcmp(a, "--dump-logits") == 0)
      o.logits_path = v;
    else if (strcmp(a, "--max-seq") == 0)
      o.max_seq = (int)whole(a, v, 0, INT32_MAX, "a whole number >= 0 (0 = the model's)");
    else if (strcmp(a, "--ram-cap") == 0)
      o.ram_cap = (unsigned long long)whole(a, v, 4096, INT64_MAX, "a number of bytes >= 4096");
    else if (strcmp(a, "--threads") == 0)
      o.threads = (int)whole(a, v, 0, INT32_MAX, "a whole number >= 0 (0 = one per CPU)");
    else
      usage();
  }
  if (o.seed == 0) o.seed = (unsigned long long)time(NULL);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1) cpus = 1;
  if (o.threads == 0) o.threads = (int)cpus;
  if (o.threads > cpus) {
    fprintf(stderr, "engine_cli: --threads %d: this machine has %ld CPUs, using %ld\n", o.threads,
            cpus, cpus);
    o.threads = (int)cpus;
  }
  return o;
}

/* Ctrl-C: the run stops before its next token (the session's cancel hook). */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

static bool cancel_on_sigint(void *user) {
  (void)user;
  return interrupted != 0;
}

static uint64_t clock_us(void *user) {
  (void)user;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void put_stdout(char c) {
  putchar(c);
  if (c == '\n') fflush(stdout);
}

static term_stream text_out; /* the text, control bytes escaped */

static void stdout_putc(void *user, char c) {
  (void)user;
  term_putc(&text_out, c);
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
    errno = 0;
    long id = strtol(p, &end, 10);
    if (end == p || errno == ERANGE || id < 0 || id >= sink->vocab_size || (*end && *end != ',')) {
      fprintf(stderr,
              "engine_cli: --prompt-ids needs ids from 0 to %d separated by commas, at \"%s\"\n",
              sink->vocab_size - 1, p);
      return 2;
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

/* Brings the model up, growing the arena until the engine has room. */
static em_status load_session(em_session *s, const void *bytes, size_t size,
                              const em_session_options *opt, bool huge_pages, em_arena *arena) {
  for (size_t cap = (size_t)16 << 20;; cap *= 2) {
    void *mem = host_alloc(cap, huge_pages);
    if (!mem) {
      s->msg = "out of host memory";
      return EM_ERR_NOMEM;
    }
    em_arena_init(arena, mem, cap);
    em_status st = em_session_load(s, bytes, size, opt, arena);
    /* At most 64 GB, and no doubling past size_t on a 32-bit host (the Pi Zero's ARM1176). */
    if (st != EM_ERR_NOMEM || (uint64_t)cap >= (UINT64_C(1) << 36) || cap > SIZE_MAX / 2) {
      return st;
    }
    free(mem);
  }
}

/* A model under --ram-cap / --stream: the memory, the weight source and what went where. */
typedef struct capped {
  host_weights weights;
  uint8_t *mem;
  size_t cap, held; /* held: the head (streamed) or the whole file (resident) */
  bool streamed;
} capped;

/* Brings the model up in exactly o->ram_cap bytes (or, with only --stream, in memory grown
 * as the uncapped path does): the head or the whole file at the start, the arena after it. */
static int load_capped(capped *c, const options *o, em_session *s, em_session_options *opt,
                       em_arena *arena) {
  if (host_weights_open(&c->weights, o->model_path) != 0) {
    fprintf(stderr, "cannot read %s (nor shards %s.000, ...)\n", o->model_path, o->model_path);
    return 1;
  }
  uint64_t file_size = c->weights.source.file_size;
  uint8_t first[256] = {0};
  size_t n_first = file_size < sizeof first ? (size_t)file_size : sizeof first;
  if (host_weights_read(&c->weights, 0, first, n_first) != 0) {
    fprintf(stderr, "cannot read %s\n", o->model_path);
    return 1;
  }
  uint64_t cap = o->ram_cap ? o->ram_cap : file_size + ((uint64_t)1 << 30);
  bool sharded = c->weights.shards > 1;
  uint64_t head = em_session_stream_head(first, n_first, file_size, o->stream || sharded ? 0 : cap);
  c->streamed = head != 0;
  if (!c->streamed && (o->stream || sharded)) {
    fprintf(stderr, "%s: only a container can be streamed\n", o->model_path);
    return 1;
  }
  c->held = (size_t)(c->streamed ? head : file_size);
  if (c->held > cap) {
    fprintf(stderr, "%s: %s of %zu bytes does not fit in --ram-cap %llu\n", o->model_path,
            c->streamed ? "the head" : "the file", c->held, (unsigned long long)cap);
    return 1;
  }
  c->cap = (size_t)cap;
  c->mem = (uint8_t *)host_alloc(c->cap, o->huge_pages);
  if (!c->mem || host_weights_read(&c->weights, 0, c->mem, c->held) != 0) {
    fprintf(stderr, "%s: cannot hold or read %zu bytes\n", o->model_path, c->held);
    return 1;
  }
  size_t arena_at = (c->held + 63) & ~(size_t)63;
  em_arena_init(arena, c->mem + arena_at, c->cap - arena_at);
  opt->fit_context = true;
  opt->source = c->streamed ? &c->weights.source : NULL;
  em_status status = em_session_load(s, c->mem, c->held, opt, arena);
  if (status != EM_OK && !s->engine) {
    fprintf(stderr, "%s: %s\n", o->model_path,
            s->why[0] ? s->why : "no engine recognises this file");
    return 1;
  }
  if (status != EM_OK) {
    fprintf(stderr, "%s: %s (%s)\n", o->model_path, s->msg, em_status_name(status));
    return 1;
  }
  return 0;
}

/* The memory line of a capped run (after it, so the arena's peak includes the run). */
static void report_capped(const capped *c, const em_session *s, const em_arena *arena) {
  em_memory_report mem;
  s->engine->memory(s->model, &mem);
  size_t peak = ((c->held + 63) & ~(size_t)63) + em_arena_peak(arena);
  fprintf(stderr,
          "ram cap %zu B: %s; peak %zu B (%s %zu B + arena peak %zu B), %s; "
          "stream buffers %zu B, weights read %llu B in %llu batches (%llu B per token)\n",
          c->cap, c->streamed ? "streamed" : "resident", peak, c->streamed ? "head" : "file",
          c->held, em_arena_peak(arena), peak <= c->cap ? "under the cap" : "OVER the cap",
          mem.stream_buffers, (unsigned long long)c->weights.bytes_read,
          (unsigned long long)c->weights.reads, (unsigned long long)mem.streamed_per_token);
}

int main(int argc, char **argv) {
  options o = parse(argc, argv);
  host_pool *pool = o.threads == 1 ? NULL : host_pool_create(o.threads);
  if (o.threads != 1 && !pool) {
    fprintf(stderr, "cannot start %d threads\n", o.threads);
    return 1;
  }
  em_session_options opt = {
      host_pool_parallel(pool), o.max_seq, false, o.temperature, o.topp, o.seed, NULL};
  em_arena arena;
  em_session s;
  capped cap = {0};
  size_t model_size = 0;
  const void *mapped = NULL;
  void *read = NULL;
  if (o.ram_cap || o.stream) {
    if (load_capped(&cap, &o, &s, &opt, &arena) != 0) return 1;
  } else {
    /* Mapped, as llama2.c's run does (no copy at start-up); read when it cannot be mapped. */
    mapped = o.copy ? NULL : host_map_file(o.model_path, &model_size, o.huge_pages);
    read = mapped ? NULL : host_read_file(o.model_path, &model_size, o.huge_pages);
    const void *model_bytes = mapped ? mapped : read;
    if (!model_bytes) {
      fprintf(stderr, "cannot read %s\n", o.model_path);
      return 1;
    }
    em_status status = load_session(&s, model_bytes, model_size, &opt, o.huge_pages, &arena);
    if (status != EM_OK && !s.engine) {
      fprintf(stderr, "%s: %s\n", o.model_path,
              s.why[0] ? s.why : "no engine recognises this file");
      return 1;
    }
    if (status != EM_OK) {
      fprintf(stderr, "%s: %s (%s)\n", o.model_path, s.msg, em_status_name(status));
      return 1;
    }
  }
  em_status status;
  em_memory_report mem;
  s.engine->memory(s.model, &mem);
  fprintf(stderr,
          "engine %s: vocab %d, context %d; weights %zu B in place, %zu B copied, "
          "KV cache %zu B, activations %zu B\n",
          s.info.engine, s.info.vocab_size, s.info.seq_len, mem.weights_in_place,
          mem.weights_copied, mem.kv_cache, mem.activations);

  step_sink sink = {NULL, s.info.vocab_size, o.print_ids, 0};
  if (o.logits_path && !(sink.logits = fopen(o.logits_path, "wb"))) {
    fprintf(stderr, "cannot write %s\n", o.logits_path);
    return 1;
  }
  if (o.prompt_ids) {
    int failed = run_prompt_ids(s.engine, s.model, o.prompt_ids, &sink);
    if (sink.logits && fclose(sink.logits) != 0) failed = 1;
    if (cap.mem) report_capped(&cap, &s, &arena);
    return failed;
  }

  /* The tokenizer: -z's file, else the one the model file carries, else tokenizer.bin. */
  size_t tok_size = 0;
  void *tok_bytes = NULL;
  status = EM_ERR_UNSUPPORTED;
  if (!o.tokenizer_given) {
    status = em_session_load_tokenizer(&s, NULL, 0);
    if (status != EM_OK && status != EM_ERR_UNSUPPORTED) {
      fprintf(stderr, "%s: tokenizer: %s (%s)\n", o.model_path, s.msg, em_status_name(status));
      return 1;
    }
  }
  if (status != EM_OK && (tok_bytes = host_read_file(o.tokenizer_path, &tok_size, false))) {
    status = em_session_load_tokenizer(&s, tok_bytes, tok_size);
    if (status != EM_OK) {
      fprintf(stderr, "%s: %s (%s)\n", o.tokenizer_path, s.msg, em_status_name(status));
      return 1;
    }
  }
  if (!s.has_tokenizer && (!o.print_ids || o.prompt[0] != '\0')) {
    fprintf(stderr, "cannot read tokenizer %s\n", o.tokenizer_path);
    return 1;
  }

  struct sigaction on_ctrl_c;
  memset(&on_ctrl_c, 0, sizeof on_ctrl_c);
  on_ctrl_c.sa_handler = on_sigint;
  sigaction(SIGINT, &on_ctrl_c, NULL);
  bool per_step = o.print_ids || sink.logits; /* ids or logits of every position */
  em_run_hooks hooks = {o.print_ids ? NULL : stdout_putc, per_step ? on_step : NULL,
                        cancel_on_sigint, clock_us, &sink};
  em_run_stats result;
  term_init(&text_out, put_stdout);
  status = em_session_complete(&s, o.prompt, o.steps, &hooks, &result);
  term_flush(&text_out);
  if (status == EM_ERR_FULL) {
    fprintf(stderr, "the prompt is %d tokens and the context holds %d: shorten it\n",
            result.n_prompt, s.info.seq_len);
    return 1;
  }
  if (!o.print_ids) printf("\n");
  if (result.stop == EM_STOP_CONTEXT)
    fprintf(stderr, "[context full: the text stops at its %d positions]\n", s.info.seq_len);
  if (result.stop == EM_STOP_CANCEL) fprintf(stderr, "[stopped (Ctrl-C)]\n");
  if (sink.logits && fclose(sink.logits) != 0) sink.failed = 1;
  if (status != EM_OK || sink.failed) {
    fprintf(stderr, "generation failed: %s\n",
            sink.failed ? "writing logits" : em_status_name(status));
    return 1;
  }
  int positions = result.n_forward;
  uint64_t elapsed_us = result.prefill_us + result.decode_us;
  if (result.prefill_us > 0 && result.decode_us > 0)
    fprintf(
        stderr,
        "prompt: %d tokens in %.3f s (%.1f tok/s); generated: %d tokens in %.3f s (%.1f tok/s)\n",
        result.n_prompt, result.prefill_us / 1e6, result.n_prompt / (result.prefill_us / 1e6),
        result.n_generated, result.decode_us / 1e6, result.n_generated / (result.decode_us / 1e6));
  if (elapsed_us > 0 && positions > 0)
    fprintf(stderr, "achieved tok/s: %.1f (%d positions in %.3f s)\n",
            positions / (elapsed_us / 1e6), positions, elapsed_us / 1e6);
  if (cap.mem) report_capped(&cap, &s, &arena);
  free(tok_bytes);
  free(read);
  free(cap.mem);
  host_weights_close(&cap.weights);
  host_unmap_file(mapped, model_size);
  host_pool_destroy(pool);
  return 0;
}
