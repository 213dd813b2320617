// The chat application, board-independent: banner, boot bundle, model menu, chat. The board's
// start code reaches it through main.c; the host build through host/host_main.c.
#ifndef IMAGES_CHAT_APP_H_
#define IMAGES_CHAT_APP_H_

// Runs until the user powers off from the menu (board_exit(0)); returns only when the board
// reports no usable RAM (1).
int chat_main(void);

#endif  // IMAGES_CHAT_APP_H_
