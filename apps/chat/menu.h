// The model menu: lists the models as "N. name [engine]" and reads the choice.
//   N   load model N
//   r   re-read the card (after changing it)
//   q   power off (QEMU ends)
#ifndef APPS_CHAT_MENU_H_
#define APPS_CHAT_MENU_H_

#include "model_store.h"

typedef enum menu_action {
  MENU_LOAD,  // *choice is the model's index
  MENU_RESCAN,
  MENU_POWER_OFF,
} menu_action;

// Prints the list and prompts until the input is a valid choice.
menu_action menu_choose(const model_store *s, int *choice);

#endif  // APPS_CHAT_MENU_H_
