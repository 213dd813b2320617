// The chat loop: commands, turns, streaming, timing.
#include "chat.h"

#include "board/health.h"
#include "board/parallel.h"
#include "board/time.h"
#include "command.h"
#include "console.h"

typedef struct chat_state {
  chat_model *m;
  int show_ids;
  int max_answer;  // /len
  int answer_ids[CHAT_MAX_ANSWER];
} chat_state;

static void stream_putc(void *user, char c) {
  (void)user;
  con_putc(c);
}

// Tokens left in the context.
static int context_left(const chat_model *m, int *pos) {
  em_model_info info;
  m->engine->info(m->model, &info);
  *pos = info.pos;
  return info.seq_len - info.pos;
}

// Streams the answer after the prompt's logits; returns the tokens generated.
static int answer(chat_state *st, const float *logits, int prev, em_status *status) {
  chat_model *m = st->m;
  em_utf8_stream out;
  em_utf8_init(&out);
  int n = 0;
  *status = EM_OK;
  while (n < st->max_answer) {
    int next = em_sample(&m->sampler, logits);
    if (next == m->info.eos_id || next == m->info.bos_id || next == m->stop_id) break;
    int len;
    const char *piece = em_tokenizer_decode(&m->tokenizer, prev, next, &len);
    em_utf8_write(&out, piece, len, stream_putc, 0);
    st->answer_ids[n++] = next;
    prev = next;
    // Feed the token now, so the context holds everything printed (for the next turn too).
    *status = m->engine->decode(m->model, next, &logits);
    board_keepalive();
    if (*status != EM_OK) break;
  }
  em_utf8_flush(&out, stream_putc, 0);
  return n;
}

static void run_turn(chat_state *st, const char *text) {
  static char prompt[CHAT_LINE_MAX + CHAT_TEMPLATE_OVERHEAD];
  chat_model *m = st->m;
  int pos, left = context_left(m, &pos);
  size_t len = chat_template_render(m->template, pos == 0, text, prompt, sizeof prompt);
  size_t mark = em_arena_mark(&m->arena);
  int capacity = (int)len + 3, count = 0;
  int *tokens = (int *)em_arena_alloc_array(&m->arena, (size_t)capacity, sizeof(int), sizeof(int));
  if (len == 0 || !tokens) {
    con_printf("[the prompt does not fit in memory: shorten it]\n");
    em_arena_reset(&m->arena, mark);
    return;
  }
  if (em_tokenizer_encode(&m->tokenizer, prompt, pos == 0, 0, tokens, capacity, &count) != EM_OK) {
    con_printf("[the prompt could not be tokenized]\n");
  } else if (count >= m->info.seq_len) {
    con_printf("[the prompt is %d tokens, the context holds %d: shorten it]\n", count,
               m->info.seq_len);
  } else if (count >= left) {
    con_printf(
        "[the context has %d of %d tokens left, the prompt needs %d: /reset to start over]\n", left,
        m->info.seq_len, count + 1);
  } else {
    const float *logits;
    em_status status = m->engine->prefill(m->model, tokens, count, &logits);
    uint64_t start = board_time_us();
    int n = status == EM_OK ? answer(st, logits, tokens[count - 1], &status) : 0;
    uint64_t us = board_time_us() - start;
    con_printf("\n");
    if (status == EM_ERR_FULL)
      con_printf("[context full (%d tokens): /reset to start a new conversation]\n",
                 m->info.seq_len);
    else if (status != EM_OK)
      con_printf("[the engine stopped: %s]\n", em_status_name(status));
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
  em_sampler *s = &st->m->sampler;
  switch (c->kind) {
    case CMD_EXIT:
      return 1;
    case CMD_RESET:
      st->m->engine->reset(st->m->model);
      con_printf("[conversation cleared]\n");
      break;
    case CMD_HELP:
      con_printf("%s", chat_command_help);
      break;
    case CMD_TEMP:
      s->temperature = c->value;
      con_printf("[temperature ");
      con_hundredths((uint64_t)(c->value * 100.0f + 0.5f));
      con_printf("]\n");
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
      con_printf("[answers of at most %d tokens]\n", st->max_answer);
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

void chat_run(chat_model *m) {
  static chat_state st;
  static char line[CHAT_LINE_MAX];
  st.m = m;
  st.show_ids = 0;
  st.max_answer = CHAT_MAX_ANSWER;
  con_printf("Chat with %s: type a message, /help for commands, /exit for the menu.\n", m->name);
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
