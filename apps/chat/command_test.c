/* Chat command parser: every command, its argument checks, and text that is not a command. */
#include "command.h"

#include "common/check.h"

static chat_command parse(const char *line) { return chat_command_parse(line); }

int main(void) {
  CHECK(parse("Once upon a time").kind == CMD_TEXT);
  CHECK(parse("").kind == CMD_TEXT);
  CHECK(parse("/exit").kind == CMD_EXIT);
  CHECK(parse("/reset").kind == CMD_RESET);
  CHECK(parse("/help").kind == CMD_HELP);
  CHECK(parse("/logits").kind == CMD_LOGITS);
  CHECK(parse("/logits 3").kind == CMD_ERROR);
  CHECK(parse("/ids").kind == CMD_IDS);
  CHECK(parse("/status").kind == CMD_STATUS);
  CHECK(parse("/status now").kind == CMD_ERROR);
  CHECK(parse("/exit now").kind == CMD_ERROR);
  CHECK(parse("/exits").kind == CMD_ERROR);
  CHECK(parse("/bogus").kind == CMD_ERROR);
  CHECK(parse("/").kind == CMD_ERROR);

  chat_command c = parse("/temp 0.75");
  CHECK(c.kind == CMD_TEMP && c.value > 0.7499f && c.value < 0.7501f);
  c = parse("/temp 0");
  CHECK(c.kind == CMD_TEMP && c.value == 0.0f);
  c = parse("/temp   2");
  CHECK(c.kind == CMD_TEMP && c.value == 2.0f);
  c = parse("/temp .5");
  CHECK(c.kind == CMD_TEMP && c.value == 0.5f);
  CHECK(parse("/temp").kind == CMD_ERROR);
  CHECK(parse("/temp -1").kind == CMD_ERROR);
  CHECK(parse("/temp 1.2.3").kind == CMD_ERROR);
  CHECK(parse("/temp x").kind == CMD_ERROR);
  CHECK(parse("/temp .").kind == CMD_ERROR);

  c = parse("/topp 0.9");
  CHECK(c.kind == CMD_TOPP && c.value > 0.8999f && c.value < 0.9001f);
  CHECK(parse("/topp 1").kind == CMD_TOPP);
  CHECK(parse("/topp 0").kind == CMD_ERROR);
  CHECK(parse("/topp 1.5").kind == CMD_ERROR);

  c = parse("/seed 42");
  CHECK(c.kind == CMD_SEED && c.number == 42);
  c = parse("/seed 18446744073709551");
  CHECK(c.kind == CMD_SEED && c.number == 18446744073709551ull);
  CHECK(parse("/seed 0").kind == CMD_ERROR);
  CHECK(parse("/seed 12345678901234567890").kind == CMD_ERROR);
  CHECK(parse("/seed 4x").kind == CMD_ERROR);

  c = parse("/cores 4");
  CHECK(c.kind == CMD_CORES && c.number == 4);
  CHECK(parse("/cores 0").kind == CMD_ERROR);
  CHECK(parse("/cores").kind == CMD_ERROR);
  c = parse("/len 16");
  CHECK(c.kind == CMD_LEN && c.number == 16);
  CHECK(parse("/len 0").kind == CMD_ERROR);

  c = parse("/temp");
  CHECK(c.error && strstr(c.error, "/temp") != NULL);
  CHECK(strstr(chat_command_help, "/exit") && strstr(chat_command_help, "/cores"));
  return finish();
}
