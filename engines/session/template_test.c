/* Prompt templates: the exact Alpaca text, plain completion, names, buffer limits. */
#include "common/check.h"
#include "engine/session.h"

int main(void) {
  char out[512];
  size_t n = em_template_render(EM_TEMPLATE_PLAIN, 1, "Once upon a time", out, sizeof out);
  CHECK(n == 16 && strcmp(out, "Once upon a time") == 0);

  n = em_template_render(EM_TEMPLATE_ALPACA, 1, "Name a colour.", out, sizeof out);
  const char *first =
      "Below is an instruction that describes a task. Write a response that appropriately "
      "completes the request.\n\n### Instruction:\nName a colour.\n\n### Response:";
  CHECKF(n == strlen(first) && strcmp(out, first) == 0, "got %s", out);
  n = em_template_render(EM_TEMPLATE_ALPACA, 0, "And another?", out, sizeof out);
  CHECKF(strcmp(out, "\n\n### Instruction:\nAnd another?\n\n### Response:") == 0, "got %s", out);
  CHECK(n == strlen(out));
  CHECK(n < EM_TEMPLATE_OVERHEAD);

  CHECK(em_template_render(EM_TEMPLATE_ALPACA, 1, "x", out, 40) == 0); /* does not fit */
  CHECK(em_template_render(EM_TEMPLATE_PLAIN, 1, "abc", out, 3) == 0); /* no room for NUL */
  CHECK(em_template_render(EM_TEMPLATE_PLAIN, 1, "abc", out, 4) == 3);
  CHECK(em_template_render((em_template)7, 1, "abc", out, sizeof out) == 0);

  em_template t = EM_TEMPLATE_PLAIN;
  CHECK(em_template_from_name("alpaca", 6, &t) && t == EM_TEMPLATE_ALPACA);
  CHECK(em_template_from_name("plain", 5, &t) && t == EM_TEMPLATE_PLAIN);
  CHECK(!em_template_from_name("alpac", 5, &t));
  CHECK(!em_template_from_name("chatml", 6, &t));
  CHECK(em_template_from_name("engine", 6, &t) && t == EM_TEMPLATE_ENGINE);
  CHECK(strcmp(em_template_name(EM_TEMPLATE_ALPACA), "alpaca") == 0);
  return finish();
}
