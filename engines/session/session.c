/* The session layer (engine/session.h). Sections: templates -> bring-up -> runs. */
#include "engine/session.h"

#include "container/container.h"
#include "engine/registry.h"

/* ---------------------------------------------------------------------------------------
 * Templates */

static const char kAlpacaPreamble[] =
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.";
static const char kAlpacaInstruction[] = "\n\n### Instruction:\n";
static const char kAlpacaResponse[] = "\n\n### Response:";

static const char *const kTemplateNames[] = {"plain", "alpaca", "engine"};
enum { TEMPLATE_COUNT = sizeof kTemplateNames / sizeof kTemplateNames[0] };

static size_t text_length(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

int em_template_from_name(const char *text, size_t len, em_template *out) {
  for (int t = 0; t < TEMPLATE_COUNT; t++) {
    size_t n = text_length(kTemplateNames[t]);
    if (n == len && __builtin_memcmp(text, kTemplateNames[t], n) == 0) {
      *out = (em_template)t;
      return 1;
    }
  }
  return 0;
}

const char *em_template_name(em_template t) {
  return (unsigned)t < TEMPLATE_COUNT ? kTemplateNames[t] : "?";
}

typedef struct writer {
  char *out;
  size_t size, len;
  int overflow;
} writer;

static void put(writer *w, const char *text) {
  for (; *text; text++) {
    if (w->len + 1 >= w->size) {
      w->overflow = 1;
      return;
    }
    w->out[w->len++] = *text;
  }
}

size_t em_template_render(em_template t, bool first_turn, const char *user, char *out,
                          size_t size) {
  writer w = {out, size, 0, 0};
  switch (t) {
    case EM_TEMPLATE_PLAIN:
      put(&w, user);
      break;
    case EM_TEMPLATE_ALPACA:
      /* The first turn's preamble already ends in the instruction header's leading "\n\n". */
      if (first_turn) put(&w, kAlpacaPreamble);
      put(&w, kAlpacaInstruction);
      put(&w, user);
      put(&w, kAlpacaResponse);
      break;
    default:
      return 0;
  }
  if (w.overflow || size == 0) return 0;
  out[w.len] = '\0';
  return w.len;
}

em_status em_session_turn_tokens(em_session *s, em_template t, const char *text, char *scratch,
                                 size_t scratch_size, int *tokens, int capacity, int *n) {
  bool first = s->info.pos == 0;
  *n = 0;
  if (t == EM_TEMPLATE_ENGINE) {
    if (!s->engine->chat_turn) return EM_ERR_UNSUPPORTED;
    return s->engine->chat_turn(&s->tokenizer, text, first, tokens, capacity, n);
  }
  size_t len = em_template_render(t, first, text, scratch, scratch_size);
  if (len == 0) return EM_ERR_FULL;
  return em_tokenizer_encode(&s->tokenizer, scratch, first, false, tokens, capacity, n);
}

/* ---------------------------------------------------------------------------------------
 * Bring-up */

/* Context caps fit_context tries in turn (0 = the model's own). */
static const int kContextCaps[] = {0, 4096, 2048, 1024, 512, 256, 128, 64};
enum { CAP_COUNT = sizeof kContextCaps / sizeof kContextCaps[0] };

static em_status fail(em_session *s, const char *msg, em_status status) {
  s->msg = msg;
  return status;
}

uint64_t em_session_stream_head(const void *first, size_t n, uint64_t file_size, uint64_t ram) {
  if (file_size <= ram / 4 * 3) return 0;
  return mc_head_size(first, n);
}

/* The template a container's manifest names: none -> plain, nanochat -> the engine's turns;
 * llama2 and custom templates are not rendered here yet (plain). A streamed container's
 * manifest is not read (plain). */
static em_template named_template(const void *bytes, size_t size, bool head_only) {
  mc_container c;
  const char *msg;
  if (!mc_probe(bytes, size) ||
      mc_open(&c, bytes, size, head_only ? MC_HEAD_ONLY : MC_SKIP_DATA_CRC, &msg) != EM_OK)
    return EM_TEMPLATE_PLAIN;
  return mc_chat_template(&c) == 3 ? EM_TEMPLATE_ENGINE : EM_TEMPLATE_PLAIN;
}

static void put_uint(writer *w, uint64_t v) {
  char digits[24];
  int n = 0;
  do digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  char text[24];
  for (int i = 0; i < n; i++) text[i] = digits[n - 1 - i];
  text[n] = '\0';
  put(w, text);
}

/* Fills s->why when no engine claims the bytes (em_session.why says what it holds). */
static void explain_unclaimed(em_session *s, const void *bytes, size_t size, em_arena *arena) {
  writer w = {s->why, sizeof s->why, 0, 0};
  const char *msg = 0;
  em_status st;
  if (mc_probe(bytes, size)) {
    mc_container c;
    st = mc_open(&c, bytes, size, 0, &msg);
    if (st == EM_OK) {
      put(&w, "a container of architecture ");
      put_uint(&w, c.architecture);
      put(&w, ", which no engine here runs");
    } else {
      put(&w, st == EM_ERR_CORRUPT     ? "corrupt container: "
              : st == EM_ERR_TRUNCATED ? "truncated container: "
                                       : "bad container: ");
      const char prefix[] = "container: ";
      if (__builtin_memcmp(msg, prefix, sizeof prefix - 1) == 0) msg += sizeof prefix - 1;
      put(&w, msg);
    }
  } else {
    /* An engine whose reader names a cause other than "not this format" (or impossible
     * header numbers, which is what bytes of no format look like). */
    size_t mark = em_arena_mark(arena);
    for (int i = 0; i < em_registry_count() && !msg; i++) {
      void *model;
      em_load_options options = {64, {0, 0}, 1, NULL};
      const char *why = 0;
      st = em_registry_get(i)->load(&model, bytes, size, &options, arena, &why);
      em_arena_reset(arena, mark);
      if (st == EM_ERR_VERSION || st == EM_ERR_TRUNCATED || st == EM_ERR_CORRUPT ||
          st == EM_ERR_UNSUPPORTED)
        msg = why;
    }
    if (msg) put(&w, msg);
  }
  s->why[w.len] = '\0';
}

em_status em_session_load(em_session *s, const void *bytes, size_t size,
                          const em_session_options *o, em_arena *arena) {
  *s = (em_session){0};
  s->arena = arena;
  s->end_of_turn = -1;
  s->msg = "ok";
  s->engine = em_registry_find(bytes, size);
  if (!s->engine) {
    explain_unclaimed(s, bytes, size, arena);
    return fail(s, s->why[0] ? s->why : "no engine recognises the model file", EM_ERR_UNSUPPORTED);
  }
  size_t mark = em_arena_mark(arena);
  em_status st = EM_ERR_NOMEM;
  for (int i = 0; i < (o->fit_context ? CAP_COUNT : 1); i++) {
    int cap = kContextCaps[i];
    if (o->max_seq_len > 0 && (cap == 0 || cap > o->max_seq_len)) cap = o->max_seq_len;
    em_load_options options = {cap, o->parallel, 0, o->source};
    em_arena_reset(arena, mark);
    st = s->engine->load(&s->model, bytes, size, &options, arena, &s->msg);
    s->context_cap = kContextCaps[i];
    if (st != EM_ERR_NOMEM) break;
  }
  if (st != EM_OK) return st;
  s->engine->info(s->model, &s->info);
  s->template = named_template(bytes, size, o->source != NULL);
  if (s->context_cap != 0 && s->info.seq_len != s->context_cap) s->context_cap = 0;
  st = em_sampler_init(&s->sampler, s->info.vocab_size, o->temperature, o->topp, o->seed, arena);
  if (st != EM_OK) return fail(s, "sampler: not enough memory", st);
  return EM_OK;
}

em_status em_session_load_tokenizer(em_session *s, const void *bytes, size_t size) {
  em_status st;
  s->has_tokenizer = false;
  if (bytes) {
    st = em_tokenizer_load(&s->tokenizer, bytes, size, 0, s->arena, &s->msg);
    if (st != EM_OK) return st;
    if (s->tokenizer.vocab_size != s->info.vocab_size)
      return fail(s, "tokenizer.bin and the model have different vocabularies", EM_ERR_DIMS);
  } else if (s->engine->tokenizer) {
    st = s->engine->tokenizer(s->model, &s->tokenizer, s->arena, &s->msg);
    if (st != EM_OK) return st;
  } else {
    return fail(s, "the model file carries no tokenizer", EM_ERR_UNSUPPORTED);
  }
  s->tokenizer.arena = s->arena; /* the merge heap's scratch: the session's arena outlives it */
  s->has_tokenizer = true;
  s->end_of_turn = s->engine->end_of_turn ? s->engine->end_of_turn(&s->tokenizer) : -1;
  return EM_OK;
}

/* ---------------------------------------------------------------------------------------
 * Runs */

static uint64_t now_us(const em_run_hooks *h) {
  return h && h->clock_us ? h->clock_us(h->user) : 0;
}

typedef struct printer {
  const em_run_hooks *hooks;
  const em_tokenizer *tok;
  em_utf8_stream utf8;
} printer;

static void print_token(printer *p, int prev, int token) {
  if (!p->hooks || !p->hooks->putc || !p->tok) return;
  int len;
  const char *piece = em_tokenizer_decode(p->tok, prev, token, &len);
  em_utf8_write(&p->utf8, piece, len, p->hooks->putc, p->hooks->user);
}

static void print_flush(printer *p) {
  if (p->hooks && p->hooks->putc) em_utf8_flush(&p->utf8, p->hooks->putc, p->hooks->user);
}

static bool cancelled(const em_run_hooks *h) { return h && h->cancel && h->cancel(h->user); }

em_status em_session_complete(em_session *s, const char *text, int steps, const em_run_hooks *h,
                              em_run_stats *stats) {
  *stats = (em_run_stats){0, 0, 0, 0, 0, EM_STOP_LENGTH};
  size_t length = text_length(text);
  if (length > (size_t)0x7fffffff - 3) return fail(s, "the prompt is too long", EM_ERR_ARG);
  size_t mark = em_arena_mark(s->arena);
  int capacity = (int)length + 3, n_prompt = 0;
  int *prompt = (int *)em_arena_alloc_array(s->arena, (size_t)capacity, sizeof(int), sizeof(int));
  if (!prompt) return fail(s, "no memory for the prompt's tokens", EM_ERR_NOMEM);
  em_status st = EM_OK;
  if (s->has_tokenizer)
    st = em_tokenizer_encode(&s->tokenizer, text, true, false, prompt, capacity, &n_prompt);
  else if (text[0] == '\0')
    prompt[n_prompt++] = s->info.bos_id; /* no tokenizer: ids from BOS */
  else
    st = fail(s, "a prompt needs a tokenizer", EM_ERR_UNSUPPORTED);
  stats->n_prompt = n_prompt;
  if (st == EM_OK && n_prompt > s->info.seq_len)
    st = fail(s, "the prompt is too long", EM_ERR_FULL);
  if (st != EM_OK) {
    em_arena_reset(s->arena, mark);
    return st;
  }
  s->engine->reset(s->model);
  printer out = {h, s->has_tokenizer ? &s->tokenizer : NULL, {{0}, 0, 0}};
  em_utf8_init(&out.utf8);
  uint64_t start = now_us(h), first_sample = 0;
  int token = prompt[0], pos = 0;
  const float *logits = NULL;
  /* Without a per-step hook the prompt goes in as one prefill (in the engine's blocks), and
   * its text is printed as it would have been position by position. */
  if (!(h && h->on_step) && n_prompt > 1 && n_prompt <= steps) {
    st = s->engine->prefill(s->model, prompt, n_prompt, &logits);
    if (st == EM_OK) {
      stats->n_forward += n_prompt;
      for (int i = 0; i + 1 < n_prompt; i++) print_token(&out, prompt[i], prompt[i + 1]);
      pos = n_prompt - 1;
      token = prompt[pos];
    }
  }
  for (; st == EM_OK && pos < steps; pos++) {
    if (pos + 1 >= n_prompt && cancelled(h)) {
      stats->stop = EM_STOP_CANCEL;
      break;
    }
    if (!logits) {
      st = s->engine->decode(s->model, token, &logits);
      if (st != EM_OK) break;
      stats->n_forward++;
    }
    bool in_prompt = pos + 1 < n_prompt;
    if (!in_prompt && stats->n_generated == 0) first_sample = now_us(h);
    int next = in_prompt ? prompt[pos + 1] : em_sample(&s->sampler, logits);
    if (h && h->on_step) h->on_step(h->user, pos, token, logits, next);
    s->logits = logits;
    logits = NULL;
    if (!in_prompt) {
      if (next == s->info.bos_id) { /* BOS delimits sequences */
        stats->stop = EM_STOP_END;
        break;
      }
      stats->n_generated++;
    }
    print_token(&out, token, next);
    token = next;
  }
  print_flush(&out);
  uint64_t end = now_us(h);
  stats->prefill_us = (first_sample ? first_sample : end) - start;
  stats->decode_us = first_sample ? end - first_sample : 0;
  if (st == EM_ERR_FULL) { /* the context ended the text */
    stats->stop = EM_STOP_CONTEXT;
    st = EM_OK;
  } else if (st != EM_OK) {
    stats->stop = EM_STOP_ERROR;
    s->msg = "the engine failed";
  }
  em_arena_reset(s->arena, mark);
  return st;
}

em_status em_session_answer(em_session *s, const int *tokens, int n, int max_tokens,
                            const em_run_hooks *h, int *ids, em_run_stats *stats) {
  *stats = (em_run_stats){n, 0, n > 0, 0, 0, EM_STOP_LENGTH};
  uint64_t start = now_us(h);
  const float *logits;
  em_status st = s->engine->prefill(s->model, tokens, n, &logits);
  if (st == EM_OK) s->logits = logits;
  uint64_t prefilled = now_us(h);
  stats->prefill_us = prefilled - start;
  printer out = {h, &s->tokenizer, {{0}, 0, 0}};
  em_utf8_init(&out.utf8);
  int prev = n > 0 ? tokens[n - 1] : s->info.bos_id;
  while (st == EM_OK && stats->n_generated < max_tokens) {
    if (cancelled(h)) {
      stats->stop = EM_STOP_CANCEL;
      break;
    }
    int next = em_sample(&s->sampler, logits);
    if (next == s->info.eos_id || next == s->info.bos_id || next == s->end_of_turn) {
      stats->stop = EM_STOP_END;
      break;
    }
    print_token(&out, prev, next);
    if (ids) ids[stats->n_generated] = next;
    stats->n_generated++;
    prev = next;
    /* Fed now, so the context holds everything printed (for the next turn too). */
    st = s->engine->decode(s->model, next, &logits);
    stats->n_forward += st == EM_OK;
    if (st == EM_OK) s->logits = logits;
  }
  print_flush(&out);
  stats->decode_us = now_us(h) - prefilled;
  if (st == EM_ERR_FULL) {
    stats->stop = EM_STOP_CONTEXT;
  } else if (st != EM_OK) {
    stats->stop = EM_STOP_ERROR;
    s->msg = "the engine failed";
  }
  return st;
}
