// The chat application, board-independent: banner, boot bundle, model menu, chat. The board's
// start code reaches it through main.c; the host build through images/chat_host_main.c.
#ifndef APPS_CHAT_APP_H_
#define APPS_CHAT_APP_H_

// Runs until the user powers off from the menu (board_exit(0)); returns only when the board
// reports no usable RAM (1).
int chat_main(void);

// The same, in autorun mode (like Pico LLaMA): the first model loaded (the only one of a
// model region boots straight into it) answers `prompt` with up to `tokens` tokens at once,
// printing the tokens/s lines, before the interactive chat.
int chat_main_autorun(const char *prompt, int tokens);

#endif  // APPS_CHAT_APP_H_
