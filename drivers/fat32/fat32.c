// FAT32 on-disk layout from Microsoft's "FAT: General Overview of On-Disk Format" (v1.03) and
// the MBR partition table layout; long names as in the VFAT LFN scheme described there.
#include "drivers/fat32.h"

enum {
  DIR_ENTRY_SIZE = 32,
  ENTRIES_PER_SECTOR = BLOCK_SIZE / DIR_ENTRY_SIZE,
  MAX_DIR_ENTRIES = 65536,  // the FAT specification's limit on one directory
  LFN_UNITS = 13,           // UCS-2 characters per LFN entry
  LFN_MAX_ORDINAL = 20,     // 20 * 13 >= 255
  ATTR_READ_ONLY = 0x01,
  ATTR_HIDDEN = 0x02,
  ATTR_SYSTEM = 0x04,
  ATTR_VOLUME_ID = 0x08,
  ATTR_DIRECTORY = 0x10,
  ATTR_LFN = ATTR_READ_ONLY | ATTR_HIDDEN | ATTR_SYSTEM | ATTR_VOLUME_ID,
  LFN_LAST = 0x40,
  NT_LOWER_BASE = 0x08,  // DIR_NTRes: 8.3 base name shown in lower case
  NT_LOWER_EXT = 0x10,   // DIR_NTRes: extension shown in lower case
};

#define FAT_ENTRY_MASK 0x0fffffffu
#define FAT_BAD 0x0ffffff7u
#define FAT_EOC_MIN 0x0ffffff8u
#define FAT32_MAX_CLUSTERS 0x0ffffff5u  // cluster numbers must stay below the bad/EOC markers
#define NO_SECTOR UINT64_MAX

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

// ---- status strings ----------------------------------------------------------------------

static const struct {
  const char *name, *text;
} status_table[] = {
    [FAT_OK] = {"FAT_OK", "ok"},
    [FAT_END] = {"FAT_END", "end of directory"},
    [FAT_ERR_IO] = {"FAT_ERR_IO", "block device read failed"},
    [FAT_ERR_NO_FILESYSTEM] = {"FAT_ERR_NO_FILESYSTEM",
                               "no partition table or FAT boot sector (blank or unformatted)"},
    [FAT_ERR_NO_PARTITION] = {"FAT_ERR_NO_PARTITION",
                              "no FAT32 partition (type 0x0b/0x0c) in the partition table"},
    [FAT_ERR_NOT_FAT32] = {"FAT_ERR_NOT_FAT32", "the volume is FAT12/FAT16, not FAT32"},
    [FAT_ERR_BAD_MBR] = {"FAT_ERR_BAD_MBR", "malformed partition table entry"},
    [FAT_ERR_BAD_BPB] = {"FAT_ERR_BAD_BPB", "inconsistent FAT32 boot sector parameters"},
    [FAT_ERR_SECTOR_SIZE] = {"FAT_ERR_SECTOR_SIZE", "bytes per sector is not 512"},
    [FAT_ERR_TRUNCATED] = {"FAT_ERR_TRUNCATED", "volume reaches past the end of the device"},
    [FAT_ERR_BAD_CLUSTER] = {"FAT_ERR_BAD_CLUSTER",
                             "cluster chain holds a free, bad or out-of-range cluster"},
    [FAT_ERR_CHAIN_LOOP] = {"FAT_ERR_CHAIN_LOOP", "cluster chain loops"},
    [FAT_ERR_CHAIN_SHORT] = {"FAT_ERR_CHAIN_SHORT", "cluster chain ends before the file does"},
    [FAT_ERR_BAD_DIR_ENTRY] = {"FAT_ERR_BAD_DIR_ENTRY",
                               "directory entry has an impossible start cluster or size"},
    [FAT_ERR_DIR_TOO_LONG] = {"FAT_ERR_DIR_TOO_LONG", "directory exceeds 65536 entries"},
    [FAT_ERR_NOT_FOUND] = {"FAT_ERR_NOT_FOUND", "no such file or directory"},
    [FAT_ERR_NOT_DIR] = {"FAT_ERR_NOT_DIR", "not a directory"},
    [FAT_ERR_IS_DIR] = {"FAT_ERR_IS_DIR", "is a directory"},
    [FAT_ERR_BAD_PATH] = {"FAT_ERR_BAD_PATH", "bad path (name too long, or '..')"},
    [FAT_ERR_INVALID] = {"FAT_ERR_INVALID", "invalid argument or volume not mounted"},
};

const char *fat_strerror(int status) {
  if (status < 0 || status > FAT_ERR_INVALID) return "unknown FAT error";
  return status_table[status].text;
}

const char *fat_status_name(int status) {
  if (status < 0 || status > FAT_ERR_INVALID) return "FAT_ERR_UNKNOWN";
  return status_table[status].name;
}

// ---- sectors -----------------------------------------------------------------------------

static fat_status io_status(fat_volume *vol, int block_status) {
  vol->block_status = block_status;
  return block_status == BLOCK_ERR_RANGE ? FAT_ERR_TRUNCATED : FAT_ERR_IO;
}

static fat_status read_sectors(fat_volume *vol, uint64_t lba, uint64_t count, void *buf) {
  int st = block_read(vol->dev, lba, count, buf);
  return st == BLOCK_OK ? FAT_OK : io_status(vol, st);
}

// One sector through the volume's sector cache; *out points into the cache.
static fat_status read_sector(fat_volume *vol, uint64_t lba, const uint8_t **out) {
  if (vol->sector_cache_lba != lba) {
    vol->sector_cache_lba = NO_SECTOR;
    fat_status st = read_sectors(vol, lba, 1, vol->sector_cache);
    if (st != FAT_OK) return st;
    vol->sector_cache_lba = lba;
  }
  *out = vol->sector_cache;
  return FAT_OK;
}

static uint64_t cluster_lba(const fat_volume *vol, uint32_t cluster) {
  return vol->data_lba + (uint64_t)(cluster - 2) * vol->sectors_per_cluster;
}

static int cluster_valid(const fat_volume *vol, uint32_t c) {
  return c >= 2 && c - 2 < vol->cluster_count;
}

// ---- cluster chains ----------------------------------------------------------------------

// The FAT entry of cluster c (which must be valid), through the FAT cache.
static fat_status fat_entry(fat_volume *vol, uint32_t c, uint32_t *value) {
  uint32_t sector = c / (BLOCK_SIZE / 4);  // < fat_sectors: checked at mount
  uint32_t first = sector & ~(uint32_t)(FAT_FAT_CACHE_SECTORS - 1);
  uint64_t lba = vol->fat_lba + first;
  if (vol->fat_cache_lba != lba) {
    uint32_t count = vol->fat_sectors - first;
    if (count > FAT_FAT_CACHE_SECTORS) count = FAT_FAT_CACHE_SECTORS;
    vol->fat_cache_lba = NO_SECTOR;
    fat_status st = read_sectors(vol, lba, count, vol->fat_cache);
    if (st != FAT_OK) return st;
    vol->fat_cache_lba = lba;
    vol->fat_cache_count = count;
  }
  *value = le32(vol->fat_cache + (size_t)(c - first * (BLOCK_SIZE / 4)) * 4) & FAT_ENTRY_MASK;
  return FAT_OK;
}

static void guard_init(fat_chain_guard *g, uint32_t start) {
  g->tortoise = start;
  g->power = 1;
  g->lam = 0;
  g->steps = 0;
}

// Brent's cycle detection: the tortoise jumps to the hare at every power of two.
static int guard_step(fat_chain_guard *g, uint32_t cluster_count, uint32_t next) {
  if (next == g->tortoise) return 1;
  if (++g->steps > cluster_count) return 1;  // more links than clusters: must repeat one
  if (++g->lam == g->power) {
    g->tortoise = next;
    g->power <<= 1;
    g->lam = 0;
  }
  return 0;
}

// Follows the chain from cluster c (valid). *next is the following cluster, or 0 at the end
// of the chain. guard may be NULL when the walk is bounded otherwise.
static fat_status chain_next(fat_volume *vol, fat_chain_guard *guard, uint32_t c, uint32_t *next) {
  uint32_t v;
  fat_status st = fat_entry(vol, c, &v);
  if (st != FAT_OK) return st;
  if (v >= FAT_EOC_MIN) {
    *next = 0;
    return FAT_OK;
  }
  if (v == FAT_BAD || !cluster_valid(vol, v)) return FAT_ERR_BAD_CLUSTER;
  if (guard != NULL && guard_step(guard, vol->cluster_count, v)) return FAT_ERR_CHAIN_LOOP;
  *next = v;
  return FAT_OK;
}

// ---- mount -------------------------------------------------------------------------------

static int is_power_of_two(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

static int all_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0) return 0;
  }
  return 1;
}

// A FAT boot sector of any FAT type: jump instruction and plausible BPB basics.
static int looks_like_boot_sector(const uint8_t *s) {
  int jump = (s[0] == 0xeb && s[2] == 0x90) || s[0] == 0xe9;
  uint16_t bps = le16(s + 11);
  return jump && bps >= 512 && bps <= 4096 && is_power_of_two(bps) && is_power_of_two(s[13]) &&
         le16(s + 14) != 0 && s[16] != 0;
}

// Reads and checks the boot sector at lba; limit is the partition's size (0: to the device end).
static fat_status mount_volume(fat_volume *vol, uint64_t lba, uint64_t limit) {
  const uint8_t *b;
  fat_status st = read_sector(vol, lba, &b);
  if (st != FAT_OK) return st;
  if (all_zero(b, BLOCK_SIZE)) return FAT_ERR_NO_FILESYSTEM;
  if (b[510] != 0x55 || b[511] != 0xaa || !looks_like_boot_sector(b)) return FAT_ERR_BAD_BPB;
  if (le16(b + 11) != BLOCK_SIZE) return FAT_ERR_SECTOR_SIZE;
  uint32_t spc = b[13];
  uint32_t reserved = le16(b + 14);
  uint32_t fats = b[16];
  uint32_t root_entries = le16(b + 17);
  uint32_t fat16_size = le16(b + 22);
  if (root_entries != 0 || fat16_size != 0) return FAT_ERR_NOT_FAT32;
  uint64_t total = le16(b + 19) != 0 ? le16(b + 19) : le32(b + 32);
  uint32_t fat_size = le32(b + 36);
  uint32_t ext_flags = le16(b + 40);
  uint32_t root = le32(b + 44);
  if (fats > 2 || total == 0 || fat_size == 0 || le16(b + 42) != 0) return FAT_ERR_BAD_BPB;
  uint64_t meta = reserved + (uint64_t)fats * fat_size;
  if (meta >= total) return FAT_ERR_BAD_BPB;
  if (limit != 0 && total > limit) return FAT_ERR_BAD_BPB;  // larger than its partition
  uint64_t device = vol->dev->num_blocks;
  if (device != 0 && (lba >= device || total > device - lba)) return FAT_ERR_TRUNCATED;
  uint64_t clusters = (total - meta) / spc;
  if (clusters == 0 || clusters > FAT32_MAX_CLUSTERS) return FAT_ERR_BAD_BPB;
  if ((uint64_t)fat_size * (BLOCK_SIZE / 4) < clusters + 2) return FAT_ERR_BAD_BPB;
  uint32_t active = 0;
  if (ext_flags & 0x80) {  // mirroring off: only one FAT is current
    active = ext_flags & 0x0f;
    if (active >= fats) return FAT_ERR_BAD_BPB;
  }
  vol->volume_lba = lba;
  vol->volume_sectors = total;
  vol->fat_lba = lba + reserved + (uint64_t)active * fat_size;
  vol->fat_sectors = fat_size;
  vol->data_lba = lba + meta;
  vol->cluster_count = (uint32_t)clusters;
  vol->sectors_per_cluster = spc;
  vol->cluster_shift = 9;
  while ((1u << (vol->cluster_shift - 9)) < spc) vol->cluster_shift++;
  if (!cluster_valid(vol, root)) return FAT_ERR_BAD_BPB;
  vol->root_cluster = root;
  vol->label[0] = '\0';
  if (b[66] == 0x29) {  // extended boot signature: serial, label and type follow
    int n = 11;
    while (n > 0 && (b[71 + n - 1] == ' ' || b[71 + n - 1] == 0)) n--;
    for (int i = 0; i < n; i++)
      vol->label[i] = (b[71 + i] >= 0x20 && b[71 + i] < 0x7f) ? b[71 + i] : '?';
    vol->label[n] = '\0';
  }
  return FAT_OK;
}

fat_status fat_mount(fat_volume *vol, block_device *dev) {
  if (vol == NULL || dev == NULL || dev->read == NULL) return FAT_ERR_INVALID;
  vol->dev = dev;
  vol->block_status = BLOCK_OK;
  vol->fat_cache_lba = NO_SECTOR;
  vol->fat_cache_count = 0;
  vol->sector_cache_lba = NO_SECTOR;
  vol->cluster_count = 0;  // not mounted until the end
  const uint8_t *s;
  fat_status st = read_sector(vol, 0, &s);
  if (st != FAT_OK) return st;
  if (looks_like_boot_sector(s) && s[510] == 0x55 && s[511] == 0xaa) {
    vol->partition = 0;  // superfloppy: the whole device is the volume
    st = mount_volume(vol, 0, 0);
    if (st != FAT_OK) vol->cluster_count = 0;
    return st;
  }
  if (s[510] != 0x55 || s[511] != 0xaa) return FAT_ERR_NO_FILESYSTEM;
  int found = 0, other_fat = 0;
  uint64_t start = 0, size = 0;
  for (int i = 0; i < 4; i++) {
    const uint8_t *e = s + 446 + 16 * i;
    uint8_t type = e[4];
    if (e[0] != 0x00 && e[0] != 0x80) return FAT_ERR_BAD_MBR;
    if (type == 0) continue;
    if ((type == 0x0b || type == 0x0c) && !found) {
      start = le32(e + 8);
      size = le32(e + 12);
      if (start == 0 || size == 0) return FAT_ERR_BAD_MBR;
      found = i + 1;
    } else if (type == 0x01 || type == 0x04 || type == 0x06 || type == 0x0e) {
      other_fat = 1;
    }
  }
  if (!found) {
    return other_fat ? FAT_ERR_NOT_FAT32 : FAT_ERR_NO_PARTITION;
  }
  if (dev->num_blocks != 0 && (start >= dev->num_blocks || size > dev->num_blocks - start)) {
    return FAT_ERR_TRUNCATED;
  }
  vol->partition = found;
  st = mount_volume(vol, start, size);
  if (st != FAT_OK) vol->cluster_count = 0;
  return st;
}

// ---- names -------------------------------------------------------------------------------

static uint8_t short_name_checksum(const uint8_t *name11) {
  uint8_t sum = 0;
  for (int i = 0; i < 11; i++) sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + name11[i]);
  return sum;
}

static char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

// "NAME.EXT" from the 11-byte 8.3 field; OEM bytes >= 0x80 become '?'.
static void short_name_string(const uint8_t *e, char out[13]) {
  int n = 0;
  uint8_t nt = e[12];
  for (int i = 0; i < 8 && e[i] != ' '; i++) {
    uint8_t c = (i == 0 && e[0] == 0x05) ? 0xe5 : e[i];
    char ch = c < 0x80 ? (char)c : '?';
    out[n++] = (nt & NT_LOWER_BASE) ? ascii_lower(ch) : ch;
  }
  if (e[8] != ' ') {
    out[n++] = '.';
    for (int i = 8; i < 11 && e[i] != ' '; i++) {
      char ch = e[i] < 0x80 ? (char)e[i] : '?';
      out[n++] = (nt & NT_LOWER_EXT) ? ascii_lower(ch) : ch;
    }
  }
  out[n] = '\0';
}

// UCS-2 (with UTF-16 surrogate pairs) to UTF-8; lone surrogates become U+FFFD.
static void utf16_to_utf8(const uint16_t *in, int units, char *out) {
  size_t n = 0;
  for (int i = 0; i < units; i++) {
    uint32_t cp = in[i];
    if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < units && in[i + 1] >= 0xdc00 && in[i + 1] < 0xe000) {
      cp = 0x10000 + ((cp - 0xd800) << 10) + (in[i + 1] - 0xdc00);
      i++;
    } else if (cp >= 0xd800 && cp < 0xe000) {
      cp = 0xfffd;
    }
    if (cp < 0x80) {
      out[n++] = (char)cp;
    } else if (cp < 0x800) {
      out[n++] = (char)(0xc0 | cp >> 6);
      out[n++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out[n++] = (char)(0xe0 | cp >> 12);
      out[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
      out[n++] = (char)(0x80 | (cp & 0x3f));
    } else {
      out[n++] = (char)(0xf0 | cp >> 18);
      out[n++] = (char)(0x80 | ((cp >> 12) & 0x3f));
      out[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
      out[n++] = (char)(0x80 | (cp & 0x3f));
    }
  }
  out[n] = '\0';  // at most 3 bytes per unit (4 per pair): 255 units fit FAT_NAME_MAX
}

// ---- directories -------------------------------------------------------------------------

static void lfn_reset(fat_dir *d, int discarded) {
  if (d->lfn_next != 0 || d->lfn_total != 0) d->lfn_broken |= (uint8_t)discarded;
  d->lfn_next = 0;
  d->lfn_total = 0;
}

static void lfn_take(fat_dir *d, const uint8_t *e) {
  uint8_t ord = e[0] & 0x1f;
  int valid_entry = ord >= 1 && ord <= LFN_MAX_ORDINAL && e[12] == 0 && le16(e + 26) == 0;
  if (e[0] & LFN_LAST) {
    lfn_reset(d, 1);  // a new name starts: a pending one was never finished
    if (!valid_entry) {
      d->lfn_broken = 1;
      return;
    }
    d->lfn_total = ord;
    d->lfn_checksum = e[13];
  } else if (!valid_entry || d->lfn_next == 0 || ord != d->lfn_next || e[13] != d->lfn_checksum) {
    d->lfn_broken = 1;
    lfn_reset(d, 1);
    return;
  }
  static const uint8_t offsets[LFN_UNITS] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
  for (int i = 0; i < LFN_UNITS; i++) d->lfn[(ord - 1) * LFN_UNITS + i] = le16(e + offsets[i]);
  d->lfn_next = (uint8_t)(ord - 1);  // 0 after part 1: the 8.3 entry comes next
}

static fat_status dir_start(fat_volume *vol, uint32_t first_cluster, fat_dir *dir) {
  if (!cluster_valid(vol, first_cluster)) return FAT_ERR_BAD_DIR_ENTRY;
  dir->vol = vol;
  dir->first_cluster = first_cluster;
  dir->cluster = first_cluster;
  dir->entry = 0;
  dir->done = 0;
  dir->lfn_next = 0;
  dir->lfn_total = 0;
  dir->lfn_broken = 0;
  guard_init(&dir->guard, first_cluster);
  return FAT_OK;
}

fat_status fat_readdir(fat_dir *dir, fat_dirent *out) {
  if (dir == NULL || out == NULL || dir->vol == NULL) return FAT_ERR_INVALID;
  fat_volume *vol = dir->vol;
  uint32_t per_cluster = vol->sectors_per_cluster * ENTRIES_PER_SECTOR;
  while (!dir->done) {
    if (dir->entry >= MAX_DIR_ENTRIES) return FAT_ERR_DIR_TOO_LONG;
    uint32_t in_cluster = dir->entry % per_cluster;
    if (in_cluster == 0 && dir->entry != 0) {
      uint32_t next;
      fat_status st = chain_next(vol, &dir->guard, dir->cluster, &next);
      if (st != FAT_OK) return st;
      if (next == 0) {
        dir->done = 1;
        break;
      }
      dir->cluster = next;
    }
    const uint8_t *sector;
    fat_status st =
        read_sector(vol, cluster_lba(vol, dir->cluster) + in_cluster / ENTRIES_PER_SECTOR, &sector);
    if (st != FAT_OK) return st;
    const uint8_t *e = sector + (in_cluster % ENTRIES_PER_SECTOR) * DIR_ENTRY_SIZE;
    dir->entry++;
    if (e[0] == 0x00) {  // end marker: nothing follows
      dir->done = 1;
      break;
    }
    if (e[0] == 0xe5) {  // deleted
      lfn_reset(dir, 1);
      continue;
    }
    uint8_t attr = e[11];
    if ((attr & 0x3f) == ATTR_LFN) {
      lfn_take(dir, e);
      continue;
    }
    int dot = e[0] == '.' && (e[1] == ' ' || (e[1] == '.' && e[2] == ' '));
    if ((attr & ATTR_VOLUME_ID) || dot) {
      lfn_reset(dir, 1);
      dir->lfn_broken = 0;
      continue;
    }
    // An 8.3 entry: it takes the pending long name only if complete and its checksum matches.
    int use_lfn =
        dir->lfn_total != 0 && dir->lfn_next == 0 && dir->lfn_checksum == short_name_checksum(e);
    short_name_string(e, out->short_name);
    out->lfn_discarded = (uint8_t)(dir->lfn_broken || (dir->lfn_total != 0 && !use_lfn));
    if (use_lfn) {
      int units = 0;
      int max = dir->lfn_total * LFN_UNITS;
      while (units < max && dir->lfn[units] != 0x0000) units++;
      if (units > 255) units = 255;
      utf16_to_utf8(dir->lfn, units, out->name);
    }
    if (!use_lfn || out->name[0] == '\0') {
      for (int i = 0; i < 13; i++) out->name[i] = out->short_name[i];
    }
    dir->lfn_total = 0;
    dir->lfn_next = 0;
    dir->lfn_broken = 0;
    out->attributes = attr;
    out->is_dir = (attr & ATTR_DIRECTORY) != 0;
    out->first_cluster = ((uint32_t)le16(e + 20) << 16 | le16(e + 26)) & FAT_ENTRY_MASK;
    out->size = out->is_dir ? 0 : le32(e + 28);
    return FAT_OK;
  }
  return FAT_END;
}

// ---- paths -------------------------------------------------------------------------------

static int name_equal(const char *a, size_t alen, const char *b) {
  size_t i = 0;
  for (; i < alen; i++) {
    if (b[i] == '\0' || ascii_lower(a[i]) != ascii_lower(b[i])) return 0;
  }
  return b[i] == '\0';
}

// Looks path up; *out is its entry. The root has no entry: *is_root is set instead.
static fat_status lookup(fat_volume *vol, const char *path, fat_dirent *out, int *is_root,
                         fat_dir *scratch) {
  if (vol == NULL || path == NULL || out == NULL) return FAT_ERR_INVALID;
  if (vol->cluster_count == 0) return FAT_ERR_INVALID;
  uint32_t dir_cluster = vol->root_cluster;
  *is_root = 1;
  const char *p = path;
  for (;;) {
    while (*p == '/') p++;
    if (*p == '\0') return FAT_OK;
    const char *name = p;
    while (*p != '\0' && *p != '/') p++;
    size_t len = (size_t)(p - name);
    if (len == 1 && name[0] == '.') continue;
    if (len >= FAT_NAME_MAX || (len == 2 && name[0] == '.' && name[1] == '.')) {
      return FAT_ERR_BAD_PATH;
    }
    if (!*is_root && !out->is_dir) return FAT_ERR_NOT_DIR;
    fat_status st = dir_start(vol, dir_cluster, scratch);
    if (st != FAT_OK) return st;
    for (;;) {
      st = fat_readdir(scratch, out);
      if (st == FAT_END) return FAT_ERR_NOT_FOUND;
      if (st != FAT_OK) return st;
      if (name_equal(name, len, out->name) || name_equal(name, len, out->short_name)) break;
    }
    *is_root = 0;
    dir_cluster = out->first_cluster;
  }
}

fat_status fat_opendir(fat_volume *vol, const char *path, fat_dir *dir) {
  if (dir == NULL) return FAT_ERR_INVALID;
  fat_dirent entry;
  int is_root;
  fat_status st = lookup(vol, path, &entry, &is_root, dir);
  if (st != FAT_OK) return st;
  if (is_root) return dir_start(vol, vol->root_cluster, dir);
  if (!entry.is_dir) return FAT_ERR_NOT_DIR;
  return dir_start(vol, entry.first_cluster, dir);
}

fat_status fat_stat(fat_volume *vol, const char *path, fat_dirent *entry) {
  fat_dir scratch;
  int is_root;
  fat_status st = lookup(vol, path, entry, &is_root, &scratch);
  if (st != FAT_OK) return st;
  return is_root ? FAT_ERR_IS_DIR : FAT_OK;
}

// ---- files -------------------------------------------------------------------------------

fat_status fat_open(fat_volume *vol, const char *path, fat_file *file) {
  if (file == NULL) return FAT_ERR_INVALID;
  fat_dirent entry;
  fat_dir scratch;
  int is_root;
  fat_status st = lookup(vol, path, &entry, &is_root, &scratch);
  if (st != FAT_OK) return st;
  if (is_root || entry.is_dir) return FAT_ERR_IS_DIR;
  file->vol = vol;
  file->size = entry.size;
  file->pos = 0;
  file->cluster = 0;
  file->index = 0;
  file->first_cluster = entry.first_cluster;
  if (entry.size == 0) return FAT_OK;  // no clusters (whatever the entry says)
  uint32_t cluster_bytes = 1u << vol->cluster_shift;
  uint32_t needed = (uint32_t)(((uint64_t)entry.size + cluster_bytes - 1) >> vol->cluster_shift);
  if (!cluster_valid(vol, entry.first_cluster) || needed > vol->cluster_count) {
    return FAT_ERR_BAD_DIR_ENTRY;
  }
  // The whole chain now: every cluster in range, no loop, at least `needed` long. A longer
  // chain that ends properly is tolerated (fsck would trim it); reads stop at the size.
  fat_chain_guard guard;
  guard_init(&guard, entry.first_cluster);
  uint32_t c = entry.first_cluster;
  for (uint32_t i = 1;; i++) {
    uint32_t next;
    st = chain_next(vol, &guard, c, &next);
    if (st != FAT_OK) return st;
    if (next == 0) return i < needed ? FAT_ERR_CHAIN_SHORT : FAT_OK;
    c = next;
  }
}

fat_status fat_seek(fat_file *file, uint32_t pos) {
  if (file == NULL || file->vol == NULL) return FAT_ERR_INVALID;
  file->pos = pos < file->size ? pos : file->size;
  return FAT_OK;
}

// Positions file->cluster on chain index `index` (walking forward, or again from the start).
static fat_status seek_cluster(fat_file *f, uint32_t index) {
  if (f->cluster == 0 || index < f->index) {
    f->cluster = f->first_cluster;
    f->index = 0;
  }
  while (f->index < index) {
    uint32_t next;
    fat_status st = chain_next(f->vol, NULL, f->cluster, &next);
    if (st != FAT_OK) return st;
    if (next == 0) return FAT_ERR_CHAIN_SHORT;
    f->cluster = next;
    f->index++;
  }
  return FAT_OK;
}

fat_status fat_read(fat_file *f, void *buf, size_t len, size_t *got) {
  if (got != NULL) *got = 0;
  if (f == NULL || f->vol == NULL || (buf == NULL && len != 0)) return FAT_ERR_INVALID;
  fat_volume *vol = f->vol;
  uint8_t *out = buf;
  uint64_t left = f->size - f->pos;
  if (left > len) left = len;
  uint32_t cluster_mask = (1u << vol->cluster_shift) - 1;
  while (left > 0) {
    fat_status st = seek_cluster(f, f->pos >> vol->cluster_shift);
    if (st != FAT_OK) return st;
    uint32_t offset = f->pos & cluster_mask;
    uint32_t sector = offset / BLOCK_SIZE;
    uint64_t lba = cluster_lba(vol, f->cluster) + sector;
    uint32_t n;
    if (offset % BLOCK_SIZE != 0 || left < BLOCK_SIZE) {
      // A partial sector through the cache.
      const uint8_t *s;
      st = read_sector(vol, lba, &s);
      if (st != FAT_OK) return st;
      uint32_t at = offset % BLOCK_SIZE;
      n = BLOCK_SIZE - at;
      if (n > left) n = (uint32_t)left;
      __builtin_memcpy(out, s + at, n);
    } else {
      // Whole sectors straight into the caller's buffer, across every following cluster
      // that is physically next on disk: one multi-sector read per contiguous run.
      uint64_t wanted = left / BLOCK_SIZE;
      uint64_t run = vol->sectors_per_cluster - sector;
      uint32_t c = f->cluster, index = f->index;
      while (run < wanted) {
        uint32_t next;
        st = chain_next(vol, NULL, c, &next);
        if (st != FAT_OK) return st;
        if (next != c + 1) break;
        c = next;
        index++;
        run += vol->sectors_per_cluster;
      }
      uint64_t sectors = run < wanted ? run : wanted;
      st = read_sectors(vol, lba, sectors, out);
      if (st != FAT_OK) return st;
      f->cluster = c;
      f->index = index;
      n = (uint32_t)(sectors * BLOCK_SIZE);
    }
    out += n;
    f->pos += n;
    left -= n;
    if (got != NULL) *got += n;
  }
  return FAT_OK;
}
