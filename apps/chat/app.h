// The chat application, board-independent: banner, boot bundle, model menu, chat. The board's
// start code reaches it through main.c; the host build through images/chat_host_main.c.
#ifndef APPS_CHAT_APP_H_
#define APPS_CHAT_APP_H_

// Runs until the user powers off from the menu (board_exit(0)); returns only when the board
// reports no usable RAM (1).
int chat_main(void);

#endif  // APPS_CHAT_APP_H_
