// The models the menu offers: folders on the card's FAT32 volume that hold a model, plus the
// boot bundle when the boot loader left one in RAM (bundle.h).
//
// Card layouts (one row each in model_store.c's kLayouts; the first that matches wins):
//   <folder>/model.bin + <folder>/tokenizer.bin   InferPi's layout: a llama2.c model file and
//                                                 its tokenizer.bin
//   <folder>/model.mcm                            a metalchat container (docs/CONTAINER.md),
//                                                 the tokenizer inside (the engine's
//                                                 `tokenizer` hook loads it)
// An optional <folder>/chat.txt line `template=alpaca` (or `template=plain`, the default)
// picks the prompt template (template.h).
// The scan looks at every root folder: a folder with a model file but not the rest of its
// layout, or with a name too long, gets one line saying so; the folders with no model file are
// counted in one line. Up to MODEL_STORE_MAX models are kept (a line says how many more).
#ifndef APPS_CHAT_MODEL_STORE_H_
#define APPS_CHAT_MODEL_STORE_H_

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "drivers/fat32.h"
#include "engine/session.h"

// Models kept at most (the menu shows them a page at a time). The boards with no card and
// little RAM (the Cortex-M33 ones) keep fewer: apps/chat/BUILD.bazel sets it.
#ifndef MODEL_STORE_MAX
#define MODEL_STORE_MAX 1024
#endif
#define MODEL_NAME_MAX 64  // bytes of a folder name, NUL included
#define MODEL_PATH_MAX 96  // "/<folder>/<file>"

// The card layouts in words, for the line of a card with no models.
extern const char model_store_layouts[];

typedef struct model_entry {
  char name[MODEL_NAME_MAX];
  const char *engine;  // engine named by the model file's first bytes (the menu's label)
  em_template template;
  int template_named;  // 1: chat.txt or the bundle chose it; 0: the model file's own (session)
  int in_ram;          // 1: a bundle of the board's model region (model/tokenizer below: in
                       // RAM or in flash); 0: files on the card
  int copy_to_ram;     // a bundle the build's planner placed in RAM: copied there at load
  int layout;          // files on the card: which layout (model_store.c's kLayouts)
  int card;            // files on a card: which of the board's cards (board_storage_cards)
  const char *mark;    // the menu's mark of where it lies ("usb", "sd"), or NULL for none
  uint32_t model_size, tokenizer_size;
  const uint8_t *model, *tokenizer;  // tokenizer_size 0: the model file carries it
} model_entry;

typedef struct model_store {
  model_entry entries[MODEL_STORE_MAX];
  int count;
  int not_kept;  // models found after the store was full
} model_store;

// Where a model's bytes are once fetched.
typedef struct model_bytes {
  const uint8_t *model;
  size_t model_size;
  const uint8_t *tokenizer;  // 0: the model file carries its tokenizer (a container)
  size_t tokenizer_size;
} model_bytes;

void model_store_init(model_store *s);
void model_store_add_bundle(model_store *s, const bundle_view *b);

// Adds every folder in the root of vol (the board's card number `card`) that holds a model;
// prints one line for each folder that looks like a model but cannot be used. Returns FAT_OK,
// or the error reading the root.
fat_status model_store_scan(model_store *s, fat_volume *vol, int card);

// Makes entry i's bytes available: the bundle's in place (or copied into ram when its placement
// flag says so, printing where), a card model's read into
// ram[0..ram_size) (ram 64-byte aligned; the tokenizer after the model), printing the size,
// time and MB/s. Returns the bytes of ram used, or -1 after printing one line.
long model_store_fetch(const model_store *s, int i, fat_volume *vol, uint8_t *ram, size_t ram_size,
                       model_bytes *out);

#endif  // APPS_CHAT_MODEL_STORE_H_
