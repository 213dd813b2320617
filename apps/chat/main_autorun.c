// Board entry in autorun mode (//apps/chat:chat_autorun): a story on boot, then the chat.
#include "app.h"

#ifndef CHAT_AUTORUN_PROMPT
#define CHAT_AUTORUN_PROMPT "In the beginning"  // the demo models continue the KJV
#endif
#ifndef CHAT_AUTORUN_TOKENS
#define CHAT_AUTORUN_TOKENS 128
#endif

int main(void) { return chat_main_autorun(CHAT_AUTORUN_PROMPT, CHAT_AUTORUN_TOKENS); }
