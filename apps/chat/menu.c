// The model menu.
#include "menu.h"

#include "console.h"

// A whole number 1..count that is all of text, else 0.
static int parse_choice(const char *text, int count) {
  int value = 0;
  if (!*text) return 0;
  for (; *text; text++) {
    if (*text < '0' || *text > '9' || value > count) return 0;
    value = value * 10 + (*text - '0');
  }
  return value <= count ? value : 0;
}

menu_action menu_choose(const model_store *s, int *choice) {
  char line[16];
  for (int i = 0; i < s->count; i++) {
    const model_entry *e = &s->entries[i];
    con_printf("%d. %s [%s]%s\n", i + 1, e->name, e->engine, e->in_ram ? " (in RAM)" : "");
  }
  for (;;) {
    if (s->count > 0)
      con_printf("Choose a model (1-%d), r to re-read the card, q to power off: ", s->count);
    else
      con_printf("r to re-read the card, q to power off: ");
    con_read_line(line, sizeof line);
    if ((line[0] == 'q' || line[0] == 'Q') && line[1] == '\0') return MENU_POWER_OFF;
    if ((line[0] == 'r' || line[0] == 'R') && line[1] == '\0') return MENU_RESCAN;
    int n = parse_choice(line, s->count);
    if (n > 0) {
      *choice = n - 1;
      return MENU_LOAD;
    }
  }
}
