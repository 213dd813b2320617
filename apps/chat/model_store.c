// Model store: which folders of the card hold models, and reading them into RAM.
#include "model_store.h"

#include "board/time.h"
#include "card_weights.h"
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
    {"model.mcm.000", 0},            // the same in shards .000, .001, ... (SHARDED below)
};
enum { SHARDED = 2 };

const char model_store_layouts[] =
    "a model is a folder with model.bin and tokenizer.bin, or with model.mcm (or its shards "
    "model.mcm.000, .001, ...)";

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

// The decimal number that is all of text[0..n), or 0.
static uint64_t parse_bytes(const char *text, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (text[i] < '0' || text[i] > '9' || v > (UINT64_MAX - 9) / 10) return 0;
    v = v * 10 + (uint64_t)(text[i] - '0');
  }
  return n > 0 ? v : 0;
}

static int has_key(const char *line, size_t n, const char *key) {
  size_t k = __builtin_strlen(key);
  return n >= k && __builtin_memcmp(line, key, k) == 0;
}

// The folder's chat.txt: lines "template=NAME" and "ram_cap=BYTES" into e; returns 1 when it
// names a template. A line that is neither gets one line on the console.
static int read_chat_txt(fat_volume *vol, const char *folder, model_entry *e) {
  char path[MODEL_PATH_MAX], text[256];
  fat_file file;
  size_t got = 0;
  e->template = EM_TEMPLATE_PLAIN;
  e->ram_cap = 0;
  if (!join(path, folder, "chat.txt") || fat_open(vol, path, &file) != FAT_OK ||
      fat_read(&file, text, sizeof text - 1, &got) != FAT_OK)
    return 0;
  int named_template = 0;
  for (size_t at = 0; at < got;) {
    size_t end = at;
    while (end < got && text[end] != '\n') end++;
    size_t n = end - at;
    while (n > 0 && (text[at + n - 1] == '\r' || text[at + n - 1] == ' ')) n--;
    const char *line = text + at;
    at = end + 1;
    if (n == 0) continue;
    if (has_key(line, n, "template=")) {
      named_template = 1;
      if (!em_template_from_name(line + 9, n - 9, &e->template)) {
        con_text(folder);
        con_printf("/chat.txt: expected template=plain, alpaca or engine; using plain\n");
        e->template = EM_TEMPLATE_PLAIN;
      }
    } else if (has_key(line, n, "ram_cap=") &&
               (e->ram_cap = parse_bytes(line + 8, n - 8)) >= 65536) {
      continue;
    } else {
      e->ram_cap = 0;
      con_text(folder);
      con_printf("/chat.txt: a line is not template=NAME or ram_cap=BYTES (>= 65536), ignored\n");
    }
  }
  return named_template;
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
    long first_size = file_size(vol, model_path);
    if (first_size < 0) continue;
    uint64_t model_size = (uint64_t)first_size;
    int shards = 0;
    if (i == SHARDED) {  // model.mcm.001, .002, ... after .000, while they are there
      size_t len = __builtin_strlen(model_path);
      for (shards = 1; shards < CARD_SHARDS; shards++) {
        model_path[len - 2] = (char)('0' + shards / 10);
        model_path[len - 1] = (char)('0' + shards % 10);
        long size = file_size(vol, model_path);
        if (size < 0) break;
        model_size += (uint64_t)size;
      }
      model_path[len - 2] = model_path[len - 1] = '0';
    }
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
    e->template_named = read_chat_txt(vol, folder, e);
    e->in_ram = 0;
    e->layout = i;
    e->card = card;
    e->mark = 0;
    e->model_size = model_size;
    e->shards = shards;
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
static int read_file(fat_volume *vol, const char *path, uint64_t expected_size, uint8_t *dst) {
  fat_file file;
  size_t got = 0;
  fat_status st = fat_open(vol, path, &file);
  if (st == FAT_OK && fat_file_size(&file) != expected_size) st = FAT_ERR_NOT_FOUND;
  if (st == FAT_OK) st = fat_read(&file, dst, (size_t)expected_size, &got);
  if (st == FAT_OK && got != expected_size) st = FAT_ERR_CHAIN_SHORT;
  if (st != FAT_OK) {
    con_text(path);
    con_printf(": cannot be read: %s (re-open the menu if the card changed)\n", fat_strerror(st));
    return -1;
  }
  return 0;
}

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

// A container too big for ram_size: its head read into ram and the card's weight source for
// the rest. Returns the head's bytes, 0 when the model is to be read whole, -1 after a line.
static long fetch_streamed(const model_entry *e, fat_volume *vol, const char *path, uint8_t *ram,
                           size_t ram_size, model_bytes *out) {
  static card_weights weights;
  static char shard_paths[CARD_SHARDS][MODEL_PATH_MAX];
  const char *paths[CARD_SHARDS];
  int n = e->shards ? e->shards : 1;
  size_t len = __builtin_strlen(path);
  for (int i = 0; i < n; i++) {
    __builtin_memcpy(shard_paths[i], path, len + 1);
    if (e->shards) {
      shard_paths[i][len - 2] = (char)('0' + i / 10);
      shard_paths[i][len - 1] = (char)('0' + i % 10);
    }
    paths[i] = shard_paths[i];
  }
  uint8_t first[MC_HEADER_SIZE] = {0};
  fat_file file;
  size_t got = 0;
  if (fat_open(vol, path, &file) != FAT_OK ||
      fat_read(&file, first, sizeof first, &got) != FAT_OK) {
    if (!e->shards) return 0;  // read_file says why
    named(e->name);
    con_printf("model.mcm.000 cannot be read\n");
    return -1;
  }
  // One file: streamed when too big for the RAM; shards: always (the file is over 4 GiB).
  uint64_t head = em_session_stream_head(first, got, e->model_size, e->shards ? 0 : ram_size);
  if (head == 0 && e->shards) {
    named(e->name);
    con_printf("model.mcm.000 is not a container: only containers can be streamed\n");
    return -1;
  }
  if (head == 0) return 0;
  if (head > ram_size / 2) {
    named(e->name);
    con_printf("its head (%u KB) does not fit in the RAM it has (%u KB)\n", (unsigned)(head >> 10),
               (unsigned)(ram_size >> 10));
    return -1;
  }
  fat_status st = card_weights_open(&weights, vol, paths, n);
  if (st != FAT_OK) {
    con_text(path);
    con_printf(": cannot be read: %s\n", fat_strerror(st));
    return -1;
  }
  if (em_weights_read(&weights.source, 0, ram, (size_t)head) != EM_OK) {
    con_text(path);
    con_printf(": cannot be read (re-open the menu if the card changed)\n");
    return -1;
  }
  named(e->name);
  con_ratio(e->model_size, 1000000);
  if (e->shards)
    con_printf(" MB in %d shards, more than 3/4 of the ", e->shards);
  else
    con_printf(" MB, more than 3/4 of the ");
  con_ratio(ram_size, 1000000);
  con_printf(" MB of RAM it has: streamed from the card layer by layer (head ");
  con_ratio(head, 1000);
  con_printf(" KB)\n");
  out->model = ram;
  out->model_size = (size_t)head;
  out->source = &weights.source;
  return (long)head;
}

long model_store_fetch(const model_store *s, int i, fat_volume *vol, uint8_t *ram, size_t ram_size,
                       model_bytes *out) {
  const model_entry *e = &s->entries[i];
  if (e->in_ram && !e->copy_to_ram) {
    model_bytes in_place = {e->model, (size_t)e->model_size, e->tokenizer, e->tokenizer_size,
                            0,        e->model_size};
    *out = in_place;
    named(e->name);
    con_printf("weights used in place at %p\n", (const void *)e->model);
    return 0;
  }
  if (e->in_ram) {
    size_t tok_at = align64((size_t)e->model_size), used = tok_at + e->tokenizer_size;
    if (used > ram_size) {
      named(e->name);
      con_printf("%u KB to copy to RAM, %u KB free: used in place instead\n",
                 (unsigned)(used >> 10), (unsigned)(ram_size >> 10));
      model_bytes in_place = {e->model, (size_t)e->model_size, e->tokenizer, e->tokenizer_size,
                              0,        e->model_size};
      *out = in_place;
      return 0;
    }
    uint64_t start = board_time_us();
    __builtin_memcpy(ram, e->model, (size_t)e->model_size);
    if (e->tokenizer_size) __builtin_memcpy(ram + tok_at, e->tokenizer, e->tokenizer_size);
    uint64_t us = board_time_us() - start;
    named(e->name);
    con_printf("weights copied to RAM at %p: %u KB in %u ms\n", (void *)ram, (unsigned)(used >> 10),
               (unsigned)(us / 1000));
    model_bytes copied = {
        ram, (size_t)e->model_size, e->tokenizer_size ? ram + tok_at : 0, e->tokenizer_size,
        0,   e->model_size};
    *out = copied;
    return (long)used;
  }
  char model_path[MODEL_PATH_MAX], tokenizer_path[MODEL_PATH_MAX];
  entry_paths(e->name, e->layout, model_path, tokenizer_path);  // they fitted at the scan
  model_bytes none = {0, 0, 0, 0, 0, e->model_size};
  *out = none;
  if (!tokenizer_path[0]) {  // a container: resident or streamed (engine/session.h)
    long head = fetch_streamed(e, vol, model_path, ram, ram_size, out);
    if (head != 0) return head;
  }
  if (e->model_size > ram_size) {
    named(e->name);
    con_printf("the model needs %u MB, the board has %u MB free\n", (unsigned)(e->model_size >> 20),
               (unsigned)(ram_size >> 20));
    return -1;
  }
  size_t tok_at = align64((size_t)e->model_size), used = tok_at + e->tokenizer_size;
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
  model_bytes read = {
      ram, (size_t)e->model_size, tokenizer_path[0] ? ram + tok_at : 0, e->tokenizer_size,
      0,   e->model_size};
  *out = read;
  return (long)used;
}
