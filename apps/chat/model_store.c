// Model store: which folders of the card hold models, and reading them into RAM.
#include "model_store.h"

#include "board/time.h"
#include "console.h"

// How a folder holds a model. Adding a layout is one more row here.
typedef struct layout {
  const char *model;
  const char *tokenizer;  // 0: the model file carries its tokenizer
} layout;

static const layout kLayouts[] = {
    {"model.bin", "tokenizer.bin"},  // InferPi / llama2.c
    {"model.mcm", 0},                // metalchat container (docs/CONTAINER.md), tokenizer inside
};

#define LAYOUTS ((int)(sizeof kLayouts / sizeof kLayouts[0]))
#define FOLDERS_MAX 32  // root folders looked at

void model_store_init(model_store *s) { s->count = 0; }

#define LABEL_BYTES 28  // a container's magic .. architecture (docs/CONTAINER.md)

// The menu's engine label from a model file's first LABEL_BYTES bytes (zero past the file's
// end): a container ("MCHC") by its architecture (u32 at 24: 2 = nanochat), else InferPi's
// rule: "NCHT" is the nanochat (GPT) engine, anything else the Llama engine. The registry
// decides at load time.
static const char *engine_label(const uint8_t head[LABEL_BYTES]) {
  if (__builtin_memcmp(head, "MCHC", 4) == 0) return head[24] == 2 ? "nanochat" : "llama";
  return __builtin_memcmp(head, "NCHT", 4) == 0 ? "nanochat" : "llama";
}

void model_store_add_bundle(model_store *s, const bundle_view *b) {
  if (s->count == MODEL_STORE_MAX) return;
  model_entry *e = &s->entries[s->count++];
  __builtin_memset(e, 0, sizeof *e);
  __builtin_memcpy(e->name, b->name, sizeof e->name);
  uint8_t head[LABEL_BYTES] = {0};
  __builtin_memcpy(head, b->model, b->model_size < LABEL_BYTES ? b->model_size : LABEL_BYTES);
  e->engine = engine_label(head);
  e->template = b->template;
  e->template_named = 1;
  e->in_ram = 1;
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
      !em_template_from_name(text + sizeof key - 1, got - (sizeof key - 1), t))
    con_printf("%s/chat.txt: expected template=plain, alpaca or engine; using plain\n", folder);
  return 1;
}

// Adds folder as a model if one of the layouts matches.
static void add_folder(model_store *s, fat_volume *vol, const char *folder) {
  for (int i = 0; i < LAYOUTS; i++) {
    model_entry *e = &s->entries[s->count];
    if (!join(e->model_path, folder, kLayouts[i].model)) return;
    long model_size = file_size(vol, e->model_path);
    if (model_size < 0) continue;
    long tok_size = 0;
    e->tokenizer_path[0] = '\0';
    if (kLayouts[i].tokenizer) {
      if (!join(e->tokenizer_path, folder, kLayouts[i].tokenizer)) return;
      tok_size = file_size(vol, e->tokenizer_path);
      if (tok_size < 0) {
        con_printf("%s: %s without %s, skipped\n", folder, kLayouts[i].model,
                   kLayouts[i].tokenizer);
        return;
      }
    }
    uint8_t head[LABEL_BYTES] = {0};
    fat_file file;
    size_t got;
    if (fat_open(vol, e->model_path, &file) != FAT_OK ||
        fat_read(&file, head, sizeof head, &got) != FAT_OK) {
      con_printf("%s: %s cannot be read, skipped\n", folder, kLayouts[i].model);
      return;
    }
    __builtin_memcpy(e->name, folder, __builtin_strlen(folder) + 1);
    e->engine = engine_label(head);
    e->template_named = read_template(vol, folder, &e->template);
    e->in_ram = 0;
    e->model_size = (uint32_t)model_size;
    e->tokenizer_size = (uint32_t)tok_size;
    e->model = e->tokenizer = 0;
    s->count++;
    return;
  }
}

fat_status model_store_scan(model_store *s, fat_volume *vol) {
  static char folders[FOLDERS_MAX][MODEL_NAME_MAX];
  static fat_dirent entry;
  fat_dir dir;
  int n = 0;
  fat_status st = fat_opendir(vol, "/", &dir);
  while (st == FAT_OK && (st = fat_readdir(&dir, &entry)) == FAT_OK) {
    if (!entry.is_dir) continue;
    size_t len = __builtin_strlen(entry.name);
    if (len >= MODEL_NAME_MAX) {
      con_printf("a folder name longer than %d bytes is skipped\n", MODEL_NAME_MAX - 1);
    } else if (n < FOLDERS_MAX) {
      __builtin_memcpy(folders[n++], entry.name, len + 1);
    }
  }
  if (st != FAT_END) return st;
  for (int i = 0; i < n && s->count < MODEL_STORE_MAX; i++) add_folder(s, vol, folders[i]);
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
    con_printf("%s: cannot be read: %s (re-open the menu if the card changed)\n", path,
               fat_strerror(st));
    return -1;
  }
  return 0;
}

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

long model_store_fetch(const model_store *s, int i, fat_volume *vol, uint8_t *ram, size_t ram_size,
                       model_bytes *out) {
  const model_entry *e = &s->entries[i];
  if (e->in_ram) {
    model_bytes in_place = {e->model, e->model_size, e->tokenizer, e->tokenizer_size};
    *out = in_place;
    return 0;
  }
  size_t tok_at = align64(e->model_size), used = tok_at + e->tokenizer_size;
  if (used > ram_size) {
    con_printf("%s: model and tokenizer need %u MB, the board has %u MB free\n", e->name,
               (unsigned)(used >> 20), (unsigned)(ram_size >> 20));
    return -1;
  }
  uint64_t start = board_time_us();
  if (read_file(vol, e->model_path, e->model_size, ram) != 0) return -1;
  if (e->tokenizer_path[0] && read_file(vol, e->tokenizer_path, e->tokenizer_size, ram + tok_at))
    return -1;
  uint64_t us = board_time_us() - start;
  con_printf("loaded %s: ", e->name);
  con_ratio(used, 1000000);
  con_printf(" MB in %u ms (", (unsigned)(us / 1000));
  con_ratio(used, us);
  con_printf(" MB/s)\n");
  model_bytes read = {ram, e->model_size, e->tokenizer_path[0] ? ram + tok_at : 0,
                      e->tokenizer_size};
  *out = read;
  return (long)used;
}
