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

static int is_key(const char *line, char key) {
  return (line[0] == key || line[0] == key - 'a' + 'A') && line[1] == '\0';
}

static void print_page(const model_store *s, int page) {
  int first = page * MENU_PAGE, last = first + MENU_PAGE < s->count ? first + MENU_PAGE : s->count;
  for (int i = first; i < last; i++) {
    const model_entry *e = &s->entries[i];
    con_printf("%d. ", i + 1);
    con_text(e->name);
    con_printf(" [%s]", e->engine);
    if (e->in_ram) con_printf(" (in memory)");
    if (e->mark) con_printf(" (%s)", e->mark);
    con_printf("\n");
  }
  if (s->count > MENU_PAGE)
    con_printf("(models %d-%d of %d, page %d of %d)\n", first + 1, last, s->count, page + 1,
               (s->count + MENU_PAGE - 1) / MENU_PAGE);
}

menu_action menu_choose(const model_store *s, int *choice) {
  char line[16];
  int page = 0, pages = (s->count + MENU_PAGE - 1) / MENU_PAGE;
  print_page(s, page);
  for (;;) {
    if (s->count > MENU_PAGE)
      con_printf(
          "Choose a model (1-%d), n/p for the next/previous page, r to re-read the card, "
          "q to power off: ",
          s->count);
    else if (s->count > 0)
      con_printf("Choose a model (1-%d), r to re-read the card, q to power off: ", s->count);
    else
      con_printf("r to re-read the card, q to power off: ");
    con_read_line(line, sizeof line);
    if (is_key(line, 'q')) return MENU_POWER_OFF;
    if (is_key(line, 'r')) return MENU_RESCAN;
    if (pages > 1 && (is_key(line, 'n') || is_key(line, 'p'))) {
      page = (page + (is_key(line, 'n') ? 1 : pages - 1)) % pages;
      print_page(s, page);
      continue;
    }
    int n = parse_choice(line, s->count);
    if (n > 0) {
      *choice = n - 1;
      return MENU_LOAD;
    }
  }
}
