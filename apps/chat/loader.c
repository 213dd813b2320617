// Model bring-up for the chat, through the session layer.
#include "loader.h"

#include "board/parallel.h"
#include "board/time.h"
#include "console.h"

// "name: " with the name's control bytes escaped (it is the card's folder name).
static void named(const char *name) {
  con_text(name);
  con_printf(": ");
}

static int fail(const char *name, const char *what, const char *msg, em_status status) {
  named(name);
  con_printf("%s: %s (%s)\n", what, msg, em_status_name(status));
  return -1;
}

int chat_model_load(chat_model *m, const model_entry *e, const model_bytes *bytes, uint8_t *mem,
                    size_t mem_size) {
  m->name = e->name;
  em_arena_init(&m->arena, mem, mem_size);
  em_session *s = &m->session;
  em_session_options options = {{board_parallel_for, 0},
                                0,
                                true,
                                CHAT_DEFAULT_TEMPERATURE,
                                CHAT_DEFAULT_TOPP,
                                board_time_us() | 1,
                                bytes->source};
  m->source = bytes->source;
  em_status st = em_session_load(s, bytes->model, bytes->model_size, &options, &m->arena);
  if (st != EM_OK && !s->engine) {
    const uint8_t *b = bytes->model;
    named(e->name);
    if (s->why[0])
      con_printf("%s\n", s->why);
    else
      con_printf(
          "no engine recognises the model file (first bytes %02x %02x %02x %02x, %u bytes)\n", b[0],
          b[1], b[2], b[3], (unsigned)bytes->model_size);
    return -1;
  }
  if (st != EM_OK) return fail(e->name, s->model ? "sampler" : "model", s->msg, st);
  m->template = e->template_named ? e->template : s->template;
  if (s->context_cap != 0) {
    named(e->name);
    con_printf("context capped to %d tokens to fit in RAM\n", s->context_cap);
  }

  // A tokenizer file beside the model (tokenizer.bin), or the one the model file carries (a
  // container's tokenizer section, through the engine's tokenizer hook).
  const char *tok_what = bytes->tokenizer ? "tokenizer.bin" : "tokenizer";
  st = em_session_load_tokenizer(s, bytes->tokenizer, bytes->tokenizer_size);
  if (st == EM_ERR_DIMS && bytes->tokenizer && s->tokenizer.vocab_size != s->info.vocab_size) {
    named(e->name);
    con_printf("%s has %d tokens but the model's vocabulary has %d: they do not match\n", tok_what,
               s->tokenizer.vocab_size, s->info.vocab_size);
    return -1;
  }
  if (st != EM_OK) return fail(e->name, tok_what, s->msg, st);

  em_memory_report mem_report;
  s->engine->memory(s->model, &mem_report);
  named(e->name);
  con_printf("engine %s, vocabulary %d, context %d tokens, template %s, KV cache ", s->info.engine,
             s->info.vocab_size, s->info.seq_len, em_template_name(m->template));
  con_ratio(mem_report.kv_cache, 1000000);
  con_printf(" MB, %d cores\n", board_parallel_cores());
  if (m->source) {
    named(e->name);
    con_printf("streamed: two layer buffers of ");
    con_ratio(mem_report.stream_buffers / 2, 1000000);
    con_printf(" MB, ");
    con_ratio(mem_report.streamed_per_token, 1000000);
    con_printf(" MB read per forward pass (blocking reads: one layer after another)\n");
  }
  return 0;
}

size_t chat_model_peak(const chat_model *m) { return m->held + em_arena_peak(&m->arena); }
