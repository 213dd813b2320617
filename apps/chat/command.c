// Chat command parser: a command word, then at most one argument.
#include "command.h"

const char chat_command_help[] =
    "/exit     back to the model menu\n"
    "/reset    start a new conversation (empties the context)\n"
    "/temp X   sampling temperature, 0 = greedy\n"
    "/topp X   top-p (nucleus) sampling, 0 < X <= 1\n"
    "/seed N   reseed the sampler\n"
    "/cores N  cores used by the engine\n"
    "/len N    longest answer, in tokens\n"
    "/ids      show the prompt and answer token ids\n"
    "/status   board temperature, clock and throttling\n"
    "/logits   the last forward pass's logits (float32 bits, for checks)\n"
    "/help     this list\n";

// The word at *p (up to a space or the end); advances *p past it and the spaces after it.
static int take_word(const char **p, const char *word) {
  const char *s = *p;
  while (*word && *s == *word) s++, word++;
  if (*word || (*s && *s != ' ')) return 0;
  while (*s == ' ') s++;
  *p = s;
  return 1;
}

// A decimal number "12", "0.7", ".5" (no sign, no exponent) that ends the line.
static int parse_decimal(const char *s, float *out) {
  float value = 0.0f, scale = 1.0f;
  int digits = 0, dot = 0;
  for (; *s; s++) {
    if (*s == '.' && !dot) {
      dot = 1;
    } else if (*s >= '0' && *s <= '9') {
      if (dot) {
        scale /= 10.0f;
        value += (float)(*s - '0') * scale;
      } else {
        value = value * 10.0f + (float)(*s - '0');
      }
      digits++;
    } else {
      return 0;
    }
  }
  *out = value;
  return digits > 0;
}

// A whole number that ends the line, at most 19 digits (fits in uint64_t).
static int parse_whole(const char *s, uint64_t *out) {
  uint64_t value = 0;
  int digits = 0;
  for (; *s; s++, digits++) {
    if (*s < '0' || *s > '9' || digits == 19) return 0;
    value = value * 10 + (uint64_t)(*s - '0');
  }
  *out = value;
  return digits > 0;
}

static chat_command error(const char *why) {
  chat_command c = {CMD_ERROR, 0.0f, 0, why};
  return c;
}

chat_command chat_command_parse(const char *line) {
  chat_command c = {CMD_TEXT, 0.0f, 0, 0};
  if (line[0] != '/') return c;
  const char *p = line + 1;
  if (take_word(&p, "exit"))
    c.kind = CMD_EXIT;
  else if (take_word(&p, "reset"))
    c.kind = CMD_RESET;
  else if (take_word(&p, "help"))
    c.kind = CMD_HELP;
  else if (take_word(&p, "ids"))
    c.kind = CMD_IDS;
  else if (take_word(&p, "status"))
    c.kind = CMD_STATUS;
  else if (take_word(&p, "logits"))
    c.kind = CMD_LOGITS;
  else if (take_word(&p, "temp"))
    c.kind = CMD_TEMP;
  else if (take_word(&p, "topp"))
    c.kind = CMD_TOPP;
  else if (take_word(&p, "seed"))
    c.kind = CMD_SEED;
  else if (take_word(&p, "cores"))
    c.kind = CMD_CORES;
  else if (take_word(&p, "len"))
    c.kind = CMD_LEN;
  else
    return error("unknown command (/help lists them)");

  switch (c.kind) {
    case CMD_TEMP:
      if (!parse_decimal(p, &c.value)) return error("/temp needs a number >= 0, e.g. /temp 0.8");
      return c;
    case CMD_TOPP:
      if (!parse_decimal(p, &c.value) || c.value <= 0.0f || c.value > 1.0f)
        return error("/topp needs a number in (0, 1], e.g. /topp 0.9");
      return c;
    case CMD_SEED:
      if (!parse_whole(p, &c.number) || c.number == 0)
        return error("/seed needs a whole number > 0");
      return c;
    case CMD_CORES:
      if (!parse_whole(p, &c.number) || c.number == 0)
        return error("/cores needs a whole number > 0");
      return c;
    case CMD_LEN:
      if (!parse_whole(p, &c.number) || c.number == 0)
        return error("/len needs a whole number > 0");
      return c;
    default:
      if (*p) return error("this command takes no argument");
      return c;
  }
}
