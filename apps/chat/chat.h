// The conversation with a loaded model: read a line, run a command or a turn, repeat until
// /exit. Multi-turn: the KV cache keeps the conversation, a turn prefills only its own tokens
// (the template's rendering of the user's text), then the answer streams token by token.
//
// An answer ends at EOS or BOS (not printed), after /len tokens (default CHAT_MAX_ANSWER), at
// Ctrl-C (checked between tokens; the context keeps what was printed) or when the context (KV
// cache) is full; then "Prompt: P tokens in X ms (Y tokens/sec)" (the prompt's prefill, in
// blocks: the time to the first token) and "Generation: N tokens in X ms (Y tokens/sec)",
// timed from the first sampled token to the last.
// Limits, each one printed line:
//   - a prompt longer than the whole context is refused (the context is kept);
//   - a prompt that does not fit in what is left of the context is refused: /reset first;
//   - a context that fills during an answer stops the answer: "[context full ...]", and the
//     next prompt asks for /reset.
#ifndef APPS_CHAT_CHAT_H_
#define APPS_CHAT_CHAT_H_

#include "loader.h"

#define CHAT_MAX_ANSWER 256          // tokens one answer may have
#define CHAT_LINE_MAX 1024           // bytes of one typed line
#define CHAT_MAX_TEMPERATURE 100.0f  // /temp above it sets it (at 100 sampling is near uniform)

// Runs the chat until /exit. With `autorun` (not NULL), first answers it as if typed, with
// at most autorun_tokens tokens, then the tokens/s lines, then the interactive chat.
void chat_run(chat_model *m, const char *autorun, int autorun_tokens);

// One line of the board's firmware readings (board/health.h), as /status prints it.
void chat_print_board_health(void);

#endif  // APPS_CHAT_CHAT_H_
