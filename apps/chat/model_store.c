// Model store: which folders of the card hold models, and reading them into RAM.
#include "model_store.h"

#include "board/time.h"
#include "console.h"
#include "container/container.h"

// How a folder holds a model. Adding a layout is one more row here.
typedef struct layout {
  const char *model;
  const char *tokenizer;  // 0: the model file carries its tokenizer
} layout;

static const layout kLayouts[] = {
    {"model.bin", "tokenizer.bin"},  // InferPi / llama2.c
    {"model.mcm", 0},                // metalchat container (docs/CONTAINER.md), tokenizer inside
};

const char model_store_layouts[] =
    "a model is a folder with model.bin and tokenizer.bin, or with model.mcm";

#define LAYOUTS ((int)(sizeof kLayouts / sizeof kLayouts[0]))

void model_store_init(model_store *s) {
  s->count = 0;
  s->not_kept = 0;
}

#define LABEL_BYTES 28  // a container's magic .. architecture (docs/CONTAINER.md)

static uint32_t u32_le(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

// The menu's engine label from a model file's first LABEL_BYTES bytes (zero past the file's
// end): a container (MC_MAGIC) by its architecture (u32 at 24: 2 = nanochat); InferPi's
// nanochat model.bin (MC_INFERPI_NANOCHAT_MAGIC, read in container.h's byte order), which no
// engine reads; anything else the Llama engine. The registry decides at load time.
static const char *engine_label(const uint8_t head[LABEL_BYTES]) {
  if (u32_le(head) == MC_MAGIC) return u32_le(head + 24) == MC_ARCH_NANOCHAT ? "nanochat" : "llama";
  return u32_le(head) == MC_INFERPI_NANOCHAT_MAGIC ? "InferPi nanochat" : "llama";
}

void model_store_add_bundle(model_store *s, const bundle_view *b) {
  if (s->count == MODEL_STORE_MAX) {
    s->not_kept++;
    return;
  }
  model_entry *e = &s->entries[s->count++];
  __builtin_memset(e, 0, sizeof *e);
  __builtin_memcpy(e->name, b->name, sizeof e->name);
  uint8_t head[LABEL_BYTES] = {0};
  __builtin_memcpy(head, b->model, b->model_size < LABEL_BYTES ? b->model_size : LABEL_BYTES);
  e->engine = engine_label(head);
  e->template = b->template;
  e->template_named = b->template != EM_TEMPLATE_ENGINE;
  e->in_ram = 1;
  e->copy_to_ram = b->copy_to_ram;
  e->layout = -1;
  e->model = b->model;
  e->model_size = (uint32_t)b->model_size;
  e->tokenizer = b->tokenizer;
  e->tokenizer_size = (uint32_t)b->tokenizer_size;
}

// out = "/" folder "/" file; 0 if it does not fit.
static int join(char *out, const char *folder, const char *file) {
  size_t a = __builtin_strlen(folder), b = __builtin_strlen(file);
  if (a + b + 3 > MODEL_PATH_MAX) return 0;
  out[0] = '/';
  __builtin_memcpy(out + 1, folder, a);
  out[1 + a] = '/';
  __builtin_memcpy(out + 2 + a, file, b + 1);
  return 1;
}

// Size of a regular file, or -1 when it is missing (or a directory).
static long file_size(fat_volume *vol, const char *path) {
  fat_dirent entry;
  if (fat_stat(vol, path, &entry) != FAT_OK || entry.is_dir) return -1;
  return (long)entry.size;
}

// "<folder>: " with the folder name's control bytes escaped.
static void named(const char *folder) {
  con_text(folder);
  con_printf(": ");
}

// The template named by the folder's chat.txt ("template=NAME"): 1 and *t when there is one.
static int read_template(fat_volume *vol, const char *folder, em_template *t) {
  char path[MODEL_PATH_MAX], text[64];
  fat_file file;
  size_t got = 0;
  if (!join(path, folder, "chat.txt") || fat_open(vol, path, &file) != FAT_OK ||
      fat_read(&file, text, sizeof text - 1, &got) != FAT_OK)
    return 0;
  while (got > 0 && (text[got - 1] == '\n' || text[got - 1] == '\r' || text[got - 1] == ' ')) got--;
  const char key[] = "template=";
  *t = EM_TEMPLATE_PLAIN;
  if (got < sizeof key - 1 || __builtin_memcmp(text, key, sizeof key - 1) != 0 ||
      !em_template_from_name(text + sizeof key - 1, got - (sizeof key - 1), t)) {
    con_text(folder);
    con_printf("/chat.txt: expected template=plain, alpaca or engine; using plain\n");
  }
  return 1;
}

// A card model's file paths (tokenizer "" when the model file carries it); 0 if too long.
static int entry_paths(const char *folder, int layout, char *model, char *tokenizer) {
  tokenizer[0] = '\0';
  return join(model, folder, kLayouts[layout].model) &&
         (!kLayouts[layout].tokenizer || join(tokenizer, folder, kLayouts[layout].tokenizer));
}

typedef enum folder_kind { FOLDER_MODEL, FOLDER_NO_MODEL, FOLDER_SKIPPED } folder_kind;

// Adds folder as a model if one of the layouts matches; a folder with a model file that cannot
// be used gets one line saying why.
static folder_kind add_folder(model_store *s, fat_volume *vol, int card, const char *folder) {
  static model_entry spare;  // where a model past MODEL_STORE_MAX is looked at, then dropped
  char model_path[MODEL_PATH_MAX], tokenizer_path[MODEL_PATH_MAX];
  for (int i = 0; i < LAYOUTS; i++) {
    model_entry *e = s->count < MODEL_STORE_MAX ? &s->entries[s->count] : &spare;
    if (!entry_paths(folder, i, model_path, tokenizer_path)) {
      named(folder);
      con_printf("the path of its %s is too long, skipped\n", kLayouts[i].model);
      return FOLDER_SKIPPED;
    }
    long model_size = file_size(vol, model_path);
    if (model_size < 0) continue;
    long tok_size = 0;
    if (kLayouts[i].tokenizer) {
      tok_size = file_size(vol, tokenizer_path);
      if (tok_size < 0) {
        named(folder);
        con_printf("%s without %s, skipped\n", kLayouts[i].model, kLayouts[i].tokenizer);
        return FOLDER_SKIPPED;
      }
    }
    uint8_t head[LABEL_BYTES] = {0};
    fat_file file;
    size_t got;
    if (fat_open(vol, model_path, &file) != FAT_OK ||
        fat_read(&file, head, sizeof head, &got) != FAT_OK) {
      named(folder);
      con_printf("%s cannot be read, skipped\n", kLayouts[i].model);
      return FOLDER_SKIPPED;
    }
    if (e == &spare) {
      s->not_kept++;
      return FOLDER_MODEL;
    }
    __builtin_memcpy(e->name, folder, __builtin_strlen(folder) + 1);
    e->engine = engine_label(head);
    e->template_named = read_template(vol, folder, &e->template);
    e->in_ram = 0;
    e->layout = i;
    e->card = card;
    e->mark = 0;
    e->model_size = (uint32_t)model_size;
    e->tokenizer_size = (uint32_t)tok_size;
    e->model = e->tokenizer = 0;
    s->count++;
    return FOLDER_MODEL;
  }
  return FOLDER_NO_MODEL;
}

fat_status model_store_scan(model_store *s, fat_volume *vol, int card) {
  static fat_dirent entry;
  fat_dir dir;
  int no_model = 0;
  // fat_readdir keeps its place in dir, not in the volume's caches: the folder can be looked
  // into (fat_stat, fat_open) between two entries.
  fat_status st = fat_opendir(vol, "/", &dir);
  while (st == FAT_OK && (st = fat_readdir(&dir, &entry)) == FAT_OK) {
    if (!entry.is_dir) continue;
    size_t len = __builtin_strlen(entry.name);
    if (len >= MODEL_NAME_MAX) {
      entry.name[MODEL_NAME_MAX - 1] = '\0';
      con_text(entry.name);
      con_printf("...: a folder name longer than %d bytes, skipped\n", MODEL_NAME_MAX - 1);
    } else if (add_folder(s, vol, card, entry.name) == FOLDER_NO_MODEL) {
      no_model++;
    }
  }
  if (st != FAT_END) return st;
  if (no_model > 0)
    con_printf("card: %d folder%s without a model (%s)\n", no_model, no_model == 1 ? "" : "s",
               model_store_layouts);
  if (s->not_kept > 0)
    con_printf("card: %d more models not listed: the menu holds %d\n", s->not_kept,
               MODEL_STORE_MAX);
  return FAT_OK;
}

// Reads the whole file at path (expected_size bytes) into dst; prints one line on error.
static int read_file(fat_volume *vol, const char *path, uint32_t expected_size, uint8_t *dst) {
  fat_file file;
  size_t got = 0;
  fat_status st = fat_open(vol, path, &file);
  if (st == FAT_OK && fat_file_size(&file) != expected_size) st = FAT_ERR_NOT_FOUND;
  if (st == FAT_OK) st = fat_read(&file, dst, expected_size, &got);
  if (st == FAT_OK && got != expected_size) st = FAT_ERR_CHAIN_SHORT;
  if (st != FAT_OK) {
    con_text(path);
    con_printf(": cannot be read: %s (re-open the menu if the card changed)\n", fat_strerror(st));
    return -1;
  }
  return 0;
}

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

long model_store_fetch(const model_store *s, int i, fat_volume *vol, uint8_t *ram, size_t ram_size,
                       model_bytes *out) {
  const model_entry *e = &s->entries[i];
  if (e->in_ram && !e->copy_to_ram) {
    model_bytes in_place = {e->model, e->model_size, e->tokenizer, e->tokenizer_size};
    *out = in_place;
    named(e->name);
    con_printf("weights used in place at %p\n", (const void *)e->model);
    return 0;
  }
  if (e->in_ram) {
    size_t tok_at = align64(e->model_size), used = tok_at + e->tokenizer_size;
    if (used > ram_size) {
      named(e->name);
      con_printf("%u KB to copy to RAM, %u KB free: used in place instead\n",
                 (unsigned)(used >> 10), (unsigned)(ram_size >> 10));
      model_bytes in_place = {e->model, e->model_size, e->tokenizer, e->tokenizer_size};
      *out = in_place;
      return 0;
    }
    uint64_t start = board_time_us();
    __builtin_memcpy(ram, e->model, e->model_size);
    if (e->tokenizer_size) __builtin_memcpy(ram + tok_at, e->tokenizer, e->tokenizer_size);
    uint64_t us = board_time_us() - start;
    named(e->name);
    con_printf("weights copied to RAM at %p: %u KB in %u ms\n", (void *)ram, (unsigned)(used >> 10),
               (unsigned)(us / 1000));
    model_bytes copied = {ram, e->model_size, e->tokenizer_size ? ram + tok_at : 0,
                          e->tokenizer_size};
    *out = copied;
    return (long)used;
  }
  char model_path[MODEL_PATH_MAX], tokenizer_path[MODEL_PATH_MAX];
  entry_paths(e->name, e->layout, model_path, tokenizer_path);  // they fitted at the scan
  size_t tok_at = align64(e->model_size), used = tok_at + e->tokenizer_size;
  if (used > ram_size) {
    named(e->name);
    con_printf("model and tokenizer need %u MB, the board has %u MB free\n", (unsigned)(used >> 20),
               (unsigned)(ram_size >> 20));
    return -1;
  }
  uint64_t start = board_time_us();
  if (read_file(vol, model_path, e->model_size, ram) != 0) return -1;
  if (tokenizer_path[0] && read_file(vol, tokenizer_path, e->tokenizer_size, ram + tok_at))
    return -1;
  uint64_t us = board_time_us() - start;
  con_printf("loaded ");
  con_text(e->name);
  con_printf(": ");
  con_ratio(used, 1000000);
  con_printf(" MB in %u ms (", (unsigned)(us / 1000));
  con_ratio(used, us);
  con_printf(" MB/s)\n");
  model_bytes read = {ram, e->model_size, tokenizer_path[0] ? ram + tok_at : 0, e->tokenizer_size};
  *out = read;
  return (long)used;
}
