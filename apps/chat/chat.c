// The chat loop: commands, turns, streaming, timing.
#include "chat.h"

#include "board/health.h"
#include "board/parallel.h"
#include "board/time.h"
#include "command.h"
#include "common/term.h"
#include "console.h"

typedef struct chat_state {
  chat_model *m;
  int show_ids;
  int max_answer;  // /len
  int answer_ids[CHAT_MAX_ANSWER];
} chat_state;

// The answer's text reaches the console with control bytes escaped (common/term.h).
static term_stream answer_text;

static void stream_putc(void *user, char c) {
  (void)user;
  term_putc(&answer_text, c);
}

// Between tokens: the board's firmware keepalive, and Ctrl-C typed meanwhile ends the answer.
static bool between_tokens(void *user) {
  (void)user;
  board_keepalive();
  return con_ctrl_c();
}

static uint64_t clock_us(void *user) {
  (void)user;
  return board_time_us();
}

static void run_turn(chat_state *st, const char *text) {
  static char prompt[CHAT_LINE_MAX + EM_TEMPLATE_OVERHEAD];
  chat_model *m = st->m;
  em_session *s = &m->session;
  s->engine->info(s->model, &s->info);
  int left = s->info.seq_len - s->info.pos;
  size_t mark = em_arena_mark(&m->arena);
  int capacity = CHAT_LINE_MAX + EM_TEMPLATE_OVERHEAD + 3, count = 0;
  int *tokens = (int *)em_arena_alloc_array(&m->arena, (size_t)capacity, sizeof(int), sizeof(int));
  em_status status = tokens ? em_session_turn_tokens(s, m->template, text, prompt, sizeof prompt,
                                                     tokens, capacity, &count)
                            : EM_ERR_NOMEM;
  if (status == EM_ERR_NOMEM || status == EM_ERR_FULL) {
    con_printf("[the prompt does not fit in memory: shorten it]\n");
  } else if (status != EM_OK) {
    con_printf("[the prompt could not be tokenized]\n");
  } else if (count >= s->info.seq_len) {
    con_printf("[the prompt is %d tokens, the context holds %d: shorten it]\n", count,
               s->info.seq_len);
  } else if (count >= left) {
    con_printf(
        "[the context has %d of %d tokens left, the prompt needs %d: /reset to start over]\n", left,
        s->info.seq_len, count + 1);
  } else {
    em_run_hooks hooks = {stream_putc, NULL, between_tokens, clock_us, 0};
    em_run_stats stats;
    term_init(&answer_text, con_putc);
    status = em_session_answer(s, tokens, count, st->max_answer, &hooks, st->answer_ids, &stats);
    term_flush(&answer_text);
    int n = stats.n_generated;
    uint64_t us = stats.decode_us;
    con_printf("\n");
    if (stats.stop == EM_STOP_CANCEL)
      con_printf("[stopped (Ctrl-C): the context keeps the answer so far]\n");
    else if (stats.stop == EM_STOP_CONTEXT)
      con_printf("[context full (%d tokens): /reset to start a new conversation]\n",
                 s->info.seq_len);
    else if (status != EM_OK)
      con_printf("[the engine stopped: %s]\n", em_status_name(status));
    con_printf("Prompt: %d tokens in %u ms (", count, (unsigned)(stats.prefill_us / 1000));
    con_ratio((uint64_t)count * 1000000, stats.prefill_us);
    con_printf(" tokens/sec)\n");
    con_printf("Generation: %d tokens in %u ms (", n, (unsigned)(us / 1000));
    con_ratio((uint64_t)n * 1000000, us);
    con_printf(" tokens/sec)\n");
    if (st->show_ids) {
      con_printf("prompt ids:");
      for (int i = 0; i < count; i++) con_printf(" %d", tokens[i]);
      con_printf("\nids:");
      for (int i = 0; i < n; i++) con_printf(" %d", st->answer_ids[i]);
      con_printf("\n");
    }
  }
  em_arena_reset(&m->arena, mark);
}

void chat_print_board_health(void) {
  const board_health *h = board_health_now();
  if (h->polls == 0) {
    con_printf("board: no firmware readings\n");
    return;
  }
  con_printf("board: ");
  con_hundredths(h->temp_mc > 0 ? (uint64_t)h->temp_mc / 10 : 0);
  con_printf(" C, ARM %u of %u MHz, %s, firmware polls: %u\n", (unsigned)(h->arm_hz / 1000000),
             (unsigned)(h->arm_max_hz / 1000000), h->problem[0] ? h->problem : "not throttled",
             (unsigned)h->polls);
}

// Runs one command; returns 1 for /exit.
static int run_command(chat_state *st, const chat_command *c) {
  em_sampler *s = &st->m->session.sampler;
  switch (c->kind) {
    case CMD_EXIT:
      return 1;
    case CMD_RESET:
      st->m->session.engine->reset(st->m->session.model);
      con_printf("[conversation cleared]\n");
      break;
    case CMD_HELP:
      con_printf("%s", chat_command_help);
      break;
    case CMD_TEMP:
      // Clamped (a typed 1e45 is infinity as a float), so the value printed is the one set.
      s->temperature = c->value < CHAT_MAX_TEMPERATURE ? c->value : CHAT_MAX_TEMPERATURE;
      con_printf("[temperature ");
      con_hundredths((uint64_t)(s->temperature * 100.0f + 0.5f));
      con_printf("%s]\n", c->value > CHAT_MAX_TEMPERATURE ? ", the highest" : "");
      break;
    case CMD_TOPP:
      s->topp = c->value;
      con_printf("[top-p ");
      con_hundredths((uint64_t)(c->value * 100.0f + 0.5f));
      con_printf("]\n");
      break;
    case CMD_SEED:
      s->rng_state = c->number;
      con_printf("[seed %llu]\n", (unsigned long long)c->number);
      break;
    case CMD_CORES:
      con_printf("[%d cores]\n", board_parallel_set_cores((int)c->number));
      break;
    case CMD_LEN:
      st->max_answer = c->number < CHAT_MAX_ANSWER ? (int)c->number : CHAT_MAX_ANSWER;
      con_printf("[answers of at most %d tokens%s]\n", st->max_answer,
                 c->number > CHAT_MAX_ANSWER ? ", the most" : "");
      break;
    case CMD_STATUS:
      chat_print_board_health();
      break;
    case CMD_IDS:
      st->show_ids = !st->show_ids;
      con_printf("[token ids %s]\n", st->show_ids ? "on" : "off");
      break;
    case CMD_ERROR:
      con_printf("[%s]\n", c->error);
      break;
    case CMD_TEXT:
      break;
  }
  return 0;
}

void chat_run(chat_model *m, const char *autorun, int autorun_tokens) {
  static chat_state st;
  static char line[CHAT_LINE_MAX];
  st.m = m;
  st.show_ids = 0;
  st.max_answer = CHAT_MAX_ANSWER;
  con_printf("Chat with ");
  con_text(m->name);
  con_printf(": type a message, /help for commands, /exit for the menu.\n");
  if (autorun) {
    con_printf("> ");
    con_text(autorun);
    con_printf("\n");
    st.max_answer = autorun_tokens < CHAT_MAX_ANSWER ? autorun_tokens : CHAT_MAX_ANSWER;
    run_turn(&st, autorun);
    st.max_answer = CHAT_MAX_ANSWER;
  }
  for (;;) {
    con_printf("> ");
    if (con_read_line(line, sizeof line) == 0) continue;
    chat_command c = chat_command_parse(line);
    if (c.kind == CMD_TEXT) {
      run_turn(&st, line);
    } else if (run_command(&st, &c)) {
      return;
    }
  }
}
