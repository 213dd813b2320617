// The chat application: banner, boot bundle, then menu -> load -> chat, forever.
//
//   metalchat: board=rpi4 cpu=cortex-a72 el=2 cores=4 build=1a2b3c4d5e6f7a8b
//   board: 45.25 C, ARM 1500 of 1500 MHz, not throttled, firmware polls: 1
//   ram: 941.62 MB free at 0x200000
//   card on EMMC: FAT32 volume "METALCHAT"
//   1. tiny-stories [llama]
//   Choose a model (1-1), r to re-read the card, q to power off:
#include "app.h"

#include "board/board.h"
#include "board/memory.h"
#include "board/storage.h"
#include "bundle.h"
#include "chat.h"
#include "console.h"
#include "loader.h"
#include "menu.h"
#include "model_store.h"

enum { BUILD_ID_PRINTED = 8 };  // bytes of the build id in the banner

typedef struct ram_region {
  uint8_t *base;
  size_t size;
} ram_region;

static void print_banner(void) {
  size_t len;
  const uint8_t *id = board_build_id(&len);
  con_printf("metalchat: board=%s cpu=%s %s cores=%d build=", board_name(), board_cpu(),
             board_privilege(), board_cores_online());
  if (len < BUILD_ID_PRINTED) con_printf("none");
  for (int i = 0; len >= BUILD_ID_PRINTED && i < BUILD_ID_PRINTED; i++) con_printf("%02x", id[i]);
  con_printf("\n");
  chat_print_board_health();
}

static uintptr_t align_up(uintptr_t v, uintptr_t a) { return (v + a - 1) & ~(a - 1); }

// The bundles of the board's model region (one the boot loader left in RAM, or several linked
// into flash); when the region lies in the app's RAM, the RAM then starts above it. Returns
// how many were found.
static int find_bundles(bundle_view *bundles, ram_region *ram) {
  size_t room;
  const uint8_t *at = (const uint8_t *)board_model_region(&room);
  const uint8_t *start = at;
  int count = 0;
  while (at && count < BUNDLE_REGION_MAX && room >= BUNDLE_HEADER_SIZE) {
    const char *why;
    bundle_view *b = &bundles[count];
    bundle_status st = bundle_parse(at, room, b, &why);
    if (st == BUNDLE_BAD) con_printf("boot bundle at %p ignored: %s\n", (const void *)at, why);
    if (st != BUNDLE_OK) break;
    con_printf("boot bundle at %p: ", (const void *)at);
    con_text(b->name);
    con_printf(", ");
    con_ratio(b->total_size, 1000000);
    con_printf(" MB%s\n", b->copy_to_ram ? ", to be copied to RAM" : "");
    count++;
    size_t next = bundle_next(b);
    if (next >= room) break;
    at += next;
    room -= next;
  }
  if (count == 0) return 0;
  uintptr_t base = (uintptr_t)ram->base, end = base + ram->size;
  uintptr_t bundle_end = align_up((uintptr_t)at + bundles[count - 1].total_size, 4096);
  if (bundle_end > base && (uintptr_t)start < end) {
    ram->base = (uint8_t *)(bundle_end < end ? bundle_end : end);
    ram->size = end - (uintptr_t)ram->base;
  }
  return count;
}

// Mounts a card's FAT32 volume into *volume; prints one line either way.
static fat_volume *open_card(const board_card *card, fat_volume *volume) {
  if (!card->dev) {
    con_printf("card: %s\n", card->error);
    return 0;
  }
  fat_status st = fat_mount(volume, card->dev);
  if (st != FAT_OK) {
    con_printf("card on %s: %s (%s)\n", card->where, fat_strerror(st), fat_status_name(st));
    return 0;
  }
  con_printf("card on %s: FAT32 volume \"", card->where);
  con_text(volume->label);
  con_printf("\"\n");
  return volume;
}

// Brings up every card of the board and adds their models to the store, each marked with its
// card's kind when the board has more than one; vols[i]: card i's volume or NULL.
static void scan_cards(model_store *store, fat_volume *vols[BOARD_CARDS_MAX]) {
  static fat_volume volumes[BOARD_CARDS_MAX];
  board_card cards[BOARD_CARDS_MAX];
  int n = board_storage_cards(cards);
  for (int i = 0; i < BOARD_CARDS_MAX; i++) vols[i] = 0;
  for (int i = 0; i < n && i < BOARD_CARDS_MAX; i++) {
    vols[i] = open_card(&cards[i], &volumes[i]);
    if (!vols[i]) continue;
    int before = store->count;
    fat_status st = model_store_scan(store, vols[i], i);
    if (st != FAT_OK)
      con_printf("card: reading the root folder: %s\n", fat_strerror(st));
    else if (store->count == before)
      con_printf("card: no models (%s)\n", model_store_layouts);
    for (int m = before; n > 1 && m < store->count; m++) store->entries[m].mark = cards[i].kind;
  }
}

// The autorun prompt (chat_main_autorun), answered once by the first model loaded.
static const char *autorun_prompt;
static int autorun_tokens;

// Fetches model i into RAM (from vol, for a model on a card), loads it and chats until /exit.
static void run_model(const model_store *store, int i, fat_volume *vol, ram_region ram) {
  static chat_model model;
  model_bytes bytes;
  long used = model_store_fetch(store, i, vol, ram.base, ram.size, &bytes);
  if (used < 0) return;
  size_t arena_at = align_up((uintptr_t)used, 64);
  if (chat_model_load(&model, &store->entries[i], &bytes, ram.base + arena_at,
                      ram.size - arena_at) != 0)
    return;
  const char *autorun = autorun_prompt;
  autorun_prompt = 0;
  chat_run(&model, autorun, autorun_tokens);
}

int chat_main_autorun(const char *prompt, int tokens) {
  autorun_prompt = prompt;
  autorun_tokens = tokens;
  return chat_main();
}

int chat_main(void) {
  static model_store store;
  static bundle_view bundles[BUNDLE_REGION_MAX];
  print_banner();
  uintptr_t base;
  size_t size;
  if (board_ram(&base, &size) != 0) {
    con_printf("ram: the board does not say how much RAM is free: no model can be loaded\n");
    return 1;
  }
  ram_region ram = {(uint8_t *)align_up(base, 64), size - (align_up(base, 64) - base)};
  int have_bundle = find_bundles(bundles, &ram);
  con_printf("ram: ");
  con_ratio(ram.size, 1000000);
  con_printf(" MB free at %p\n", (void *)ram.base);
  int autoload = have_bundle == 1;  // a single bundle skips the menu once
  for (;;) {
    model_store_init(&store);
    for (int i = 0; i < have_bundle; i++) model_store_add_bundle(&store, &bundles[i]);
    fat_volume *vols[BOARD_CARDS_MAX];
    scan_cards(&store, vols);
    int choice = 0;
    menu_action action = autoload ? MENU_LOAD : menu_choose(&store, &choice);
    autoload = 0;
    if (action == MENU_POWER_OFF) {
      con_printf("power off\n");
      board_exit(0);
    }
    if (action == MENU_LOAD) {
      const model_entry *e = &store.entries[choice];
      run_model(&store, choice, e->in_ram ? 0 : vols[e->card], ram);
    }
  }
}
