// Engine, tokenizer and sampler bring-up for one model.
#include "loader.h"

#include "board/parallel.h"
#include "board/time.h"
#include "console.h"
#include "engine/registry.h"

// Context caps tried in turn when the model's own context does not fit (0 = the model's own).
static const int kContextCaps[] = {0, 4096, 2048, 1024, 512, 256, 128, 64};

static int fail(const char *name, const char *what, const char *msg, em_status status) {
  con_printf("%s: %s: %s (%s)\n", name, what, msg, em_status_name(status));
  return -1;
}

// Loads the engine with the largest context whose KV cache fits in the arena.
static em_status load_engine(chat_model *m, const model_bytes *bytes, int *cap, const char **msg) {
  em_status st = EM_ERR_NOMEM;
  for (int i = 0; i < (int)(sizeof kContextCaps / sizeof kContextCaps[0]); i++) {
    em_load_options options = {kContextCaps[i], {board_parallel_for, 0}};
    em_arena_reset(&m->arena, 0);
    st = m->engine->load(&m->model, bytes->model, bytes->model_size, &options, &m->arena, msg);
    *cap = kContextCaps[i];
    if (st != EM_ERR_NOMEM) return st;
  }
  return st;
}

int chat_model_load(chat_model *m, const model_entry *e, const model_bytes *bytes, uint8_t *mem,
                    size_t mem_size) {
  m->name = e->name;
  m->template = e->template;
  em_arena_init(&m->arena, mem, mem_size);
  m->engine = em_registry_find(bytes->model, bytes->model_size);
  if (!m->engine) {
    const uint8_t *b = bytes->model;
    con_printf(
        "%s: no engine recognises the model file (first bytes %02x %02x %02x %02x, %u bytes)\n",
        e->name, b[0], b[1], b[2], b[3], (unsigned)bytes->model_size);
    return -1;
  }
  const char *msg;
  int cap;
  em_status st = load_engine(m, bytes, &cap, &msg);
  if (st != EM_OK) return fail(e->name, "model", msg, st);
  m->engine->info(m->model, &m->info);
  if (cap != 0 && m->info.seq_len == cap)
    con_printf("%s: context capped to %d tokens to fit in RAM\n", e->name, cap);

  // A tokenizer file beside the model (tokenizer.bin), or the one the model file carries (a
  // container's tokenizer section, through the engine's tokenizer hook).
  const char *tok_what = bytes->tokenizer ? "tokenizer.bin" : "tokenizer";
  if (bytes->tokenizer) {
    st = em_tokenizer_load(&m->tokenizer, bytes->tokenizer, bytes->tokenizer_size, 0, &m->arena,
                           &msg);
  } else if (m->engine->tokenizer) {
    st = m->engine->tokenizer(m->model, &m->tokenizer, &m->arena, &msg);
  } else {
    st = EM_ERR_UNSUPPORTED;
    msg = "the model file carries no tokenizer and there is no tokenizer.bin";
  }
  if (st != EM_OK) return fail(e->name, tok_what, msg, st);
  if (m->tokenizer.vocab_size != m->info.vocab_size) {
    con_printf("%s: %s has %d tokens but the model's vocabulary has %d: they do not match\n",
               e->name, tok_what, m->tokenizer.vocab_size, m->info.vocab_size);
    return -1;
  }
  // nanochat's chat turns end with <|assistant_end|> (-1: the tokenizer has no such token).
  m->stop_id = em_tokenizer_special(&m->tokenizer, "<|assistant_end|>");
  uint64_t seed = board_time_us() | 1;
  st = em_sampler_init(&m->sampler, m->info.vocab_size, CHAT_DEFAULT_TEMPERATURE, CHAT_DEFAULT_TOPP,
                       seed, &m->arena);
  if (st != EM_OK) return fail(e->name, "sampler", "not enough RAM", st);

  em_memory_report mem_report;
  m->engine->memory(m->model, &mem_report);
  con_printf("%s: engine %s, vocabulary %d, context %d tokens, template %s, KV cache ", e->name,
             m->info.engine, m->info.vocab_size, m->info.seq_len, chat_template_name(m->template));
  con_ratio(mem_report.kv_cache, 1000000);
  con_printf(" MB, %d cores\n", board_parallel_cores());
  return 0;
}
