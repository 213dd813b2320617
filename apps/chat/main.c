// Board entry: the start code runs board_init(), then main().
#include "app.h"

int main(void) { return chat_main(); }
