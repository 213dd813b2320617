// The model menu: lists the models as "N. name [engine]" (names with control bytes escaped),
// MENU_PAGE at a time, and reads the choice.
//   N    load model N (on any page)
//   n p  next / previous page (when there is more than one)
//   r    re-read the card (after changing it)
//   q    power off (QEMU ends)
// Ctrl-C clears what was typed (common/line_edit.h): "1" Ctrl-C Enter loads nothing.
#ifndef APPS_CHAT_MENU_H_
#define APPS_CHAT_MENU_H_

#include "model_store.h"

#define MENU_PAGE 16  // models listed at once

typedef enum menu_action {
  MENU_LOAD,  // *choice is the model's index
  MENU_RESCAN,
  MENU_POWER_OFF,
} menu_action;

// Prints the list and prompts until the input is a valid choice.
menu_action menu_choose(const model_store *s, int *choice);

#endif  // APPS_CHAT_MENU_H_
