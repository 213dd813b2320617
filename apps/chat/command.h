// The chat commands: a line typed in the chat that starts with '/' is a command, anything
// else is text for the model. Pure parsing, no I/O (unit-tested on the host).
//
//   /exit          back to the model menu
//   /reset         forget the conversation (empty the KV cache)
//   /help          list the commands
//   /temp X        sampling temperature, X >= 0 (0 = greedy)
//   /topp X        top-p, 0 < X <= 1 (1 = sample from every token)
//   /seed N        reseed the sampler's RNG (N > 0)
//   /cores N       cores the engine's parallel-for uses (1..cores online)
//   /len N         longest answer, in tokens (1..CHAT_MAX_ANSWER of chat.h)
//   /status        the board's firmware readings (temperature, clock, throttling)
//   /ids           toggle printing the prompt's and the answer's token ids (for tests)
//   /logits        print the last forward pass's logits as float32 bit patterns (for checks
//                  against a reference: tools/bench's rpi0_7b)
#ifndef APPS_CHAT_COMMAND_H_
#define APPS_CHAT_COMMAND_H_

#include <stdint.h>

typedef enum chat_command_kind {
  CMD_TEXT,  // not a command: the line is a prompt
  CMD_EXIT,
  CMD_RESET,
  CMD_HELP,
  CMD_TEMP,
  CMD_TOPP,
  CMD_SEED,
  CMD_CORES,
  CMD_LEN,
  CMD_IDS,
  CMD_STATUS,
  CMD_LOGITS,
  CMD_ERROR,  // a '/' line that is not a valid command; `error` says why
} chat_command_kind;

typedef struct chat_command {
  chat_command_kind kind;
  float value;        // CMD_TEMP, CMD_TOPP
  uint64_t number;    // CMD_SEED, CMD_CORES, CMD_LEN
  const char *error;  // CMD_ERROR: one line, e.g. "/temp needs a number >= 0"
} chat_command;

// Parses one input line (already trimmed).
chat_command chat_command_parse(const char *line);

// The /help text, one command per line ('\n' separated).
extern const char chat_command_help[];

#endif  // APPS_CHAT_COMMAND_H_
