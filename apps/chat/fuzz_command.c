/* Fuzz target: the chat command parser (command.c). The input, up to its first NUL, is one
 * typed line. Checked: a line not starting with '/' is text; an error has a one-line reason;
 * /temp is a number >= 0 (never NaN), /topp in (0, 1], /seed, /cores and /len > 0.
 * Returns 1 when the line is a valid command. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *line = malloc(size + 1); /* exact size: ASan sees a read past the NUL */
  if (!line) return 0;
  memcpy(line, data, size);
  line[size] = '\0';
  chat_command c = chat_command_parse(line);
  int valid = 0;
  switch (c.kind) {
    case CMD_TEXT:
      if (line[0] == '/') abort();
      break;
    case CMD_ERROR:
      if (!c.error || !c.error[0] || strchr(c.error, '\n')) abort();
      break;
    case CMD_TEMP:
      if (!(c.value >= 0.0f)) abort(); /* NaN fails this too */
      valid = 1;
      break;
    case CMD_TOPP:
      if (!(c.value > 0.0f && c.value <= 1.0f)) abort();
      valid = 1;
      break;
    case CMD_SEED:
    case CMD_CORES:
    case CMD_LEN:
      if (c.number == 0) abort();
      valid = 1;
      break;
    case CMD_EXIT:
    case CMD_RESET:
    case CMD_HELP:
    case CMD_IDS:
    case CMD_STATUS:
      valid = 1;
      break;
    default:
      abort();
  }
  if (c.kind != CMD_TEXT && line[0] != '/') abort();
  free(line);
  return valid;
}
