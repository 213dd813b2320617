/* Prompt templates: the exact Alpaca text, plain completion, names, buffer limits. */
#include "template.h"

#include "engines/common/testing/check.h"

int main(void) {
  char out[512];
  size_t n = chat_template_render(CHAT_TEMPLATE_PLAIN, 1, "Once upon a time", out, sizeof out);
  CHECK(n == 16 && strcmp(out, "Once upon a time") == 0);

  n = chat_template_render(CHAT_TEMPLATE_ALPACA, 1, "Name a colour.", out, sizeof out);
  const char *first =
      "Below is an instruction that describes a task. Write a response that appropriately "
      "completes the request.\n\n### Instruction:\nName a colour.\n\n### Response:";
  CHECKF(n == strlen(first) && strcmp(out, first) == 0, "got %s", out);
  n = chat_template_render(CHAT_TEMPLATE_ALPACA, 0, "And another?", out, sizeof out);
  CHECKF(strcmp(out, "\n\n### Instruction:\nAnd another?\n\n### Response:") == 0, "got %s", out);
  CHECK(n == strlen(out));
  CHECK(n < CHAT_TEMPLATE_OVERHEAD);

  CHECK(chat_template_render(CHAT_TEMPLATE_ALPACA, 1, "x", out, 40) == 0); /* does not fit */
  CHECK(chat_template_render(CHAT_TEMPLATE_PLAIN, 1, "abc", out, 3) == 0); /* no room for NUL */
  CHECK(chat_template_render(CHAT_TEMPLATE_PLAIN, 1, "abc", out, 4) == 3);
  CHECK(chat_template_render((chat_template)7, 1, "abc", out, sizeof out) == 0);

  chat_template t = CHAT_TEMPLATE_PLAIN;
  CHECK(chat_template_from_name("alpaca", 6, &t) && t == CHAT_TEMPLATE_ALPACA);
  CHECK(chat_template_from_name("plain", 5, &t) && t == CHAT_TEMPLATE_PLAIN);
  CHECK(!chat_template_from_name("alpac", 5, &t));
  CHECK(!chat_template_from_name("chatml", 6, &t));
  CHECK(strcmp(chat_template_name(CHAT_TEMPLATE_ALPACA), "alpaca") == 0);
  return finish();
}
