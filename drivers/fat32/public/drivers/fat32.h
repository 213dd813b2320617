// Read-only FAT32 over a block device (drivers/block.h): MBR or superfloppy, long file names,
// open by path, sequential reads that turn contiguous cluster runs into one multi-sector read.
// Portable C, no board code, no heap: the caller owns the fat_volume, fat_dir and fat_file.
// Everything read from the disk is untrusted: a corrupt volume gives a fat_status error, never
// an out-of-bounds access or an endless loop (cluster chains are checked for range and cycles).
#ifndef DRIVERS_FAT32_H_
#define DRIVERS_FAT32_H_

#include <stddef.h>
#include <stdint.h>

#include "drivers/block.h"

#define FAT_NAME_MAX 766         // bytes of a UTF-8 name: 255 UCS-2 units of up to 3 bytes, + NUL
#define FAT_FAT_CACHE_SECTORS 8  // FAT sectors read at once while walking cluster chains

typedef enum fat_status {
  FAT_OK = 0,
  FAT_END = 1,                 // fat_readdir: no more entries (not an error)
  FAT_ERR_IO = 2,              // the block device failed; fat_volume.block_status says how
  FAT_ERR_NO_FILESYSTEM = 3,   // sector 0 is neither an MBR nor a FAT boot sector (blank card)
  FAT_ERR_NO_PARTITION = 4,    // an MBR without a FAT32 partition (type 0x0B/0x0C), or GPT
  FAT_ERR_NOT_FAT32 = 5,       // a FAT12/FAT16 volume
  FAT_ERR_BAD_MBR = 6,         // a partition table entry is malformed
  FAT_ERR_BAD_BPB = 7,         // the boot sector's parameters are missing or inconsistent
  FAT_ERR_SECTOR_SIZE = 8,     // bytes per sector other than 512
  FAT_ERR_TRUNCATED = 9,       // the partition or volume reaches past the end of the device
  FAT_ERR_BAD_CLUSTER = 10,    // a chain holds a free, reserved, bad or out-of-range cluster
  FAT_ERR_CHAIN_LOOP = 11,     // a cluster chain runs into itself
  FAT_ERR_CHAIN_SHORT = 12,    // a file's cluster chain ends before its size does
  FAT_ERR_BAD_DIR_ENTRY = 13,  // a directory entry's start cluster or size is impossible
  FAT_ERR_DIR_TOO_LONG = 14,   // a directory of more than 65536 entries
  FAT_ERR_NOT_FOUND = 15,      // no such file or directory
  FAT_ERR_NOT_DIR = 16,        // a path component is a file
  FAT_ERR_IS_DIR = 17,         // fat_open of a directory
  FAT_ERR_BAD_PATH = 18,       // empty component over 255 characters, or ".."
  FAT_ERR_INVALID = 19,        // NULL argument or a volume that is not mounted
} fat_status;

// A short English description, e.g. "cluster chain loops".
const char *fat_strerror(int status);
// The enumerator's name, e.g. "FAT_ERR_CHAIN_LOOP" (for logs and tests).
const char *fat_status_name(int status);

typedef struct fat_volume {
  block_device *dev;
  int block_status;         // the block device's status behind the last FAT_ERR_IO
  int partition;            // MBR partition 1..4, or 0 for a superfloppy (no MBR)
  uint64_t volume_lba;      // first sector of the volume (its boot sector)
  uint64_t volume_sectors;  // sectors the volume spans
  uint64_t fat_lba;         // first sector of the active FAT
  uint32_t fat_sectors;     // sectors per FAT
  uint64_t data_lba;        // first sector of cluster 2
  uint32_t cluster_count;   // data clusters: valid cluster numbers are 2..cluster_count+1
  uint32_t root_cluster;    // first cluster of the root directory
  uint32_t sectors_per_cluster;
  uint32_t cluster_shift;  // log2(bytes per cluster)
  char label[12];          // volume label from the boot sector, trailing spaces removed
  uint64_t fat_cache_lba;  // sectors held in fat_cache (UINT64_MAX: none)
  uint32_t fat_cache_count;
  uint64_t sector_cache_lba;  // sector held in sector_cache (UINT64_MAX: none)
  _Alignas(8) uint8_t fat_cache[FAT_FAT_CACHE_SECTORS * BLOCK_SIZE];
  _Alignas(8) uint8_t sector_cache[BLOCK_SIZE];
} fat_volume;

// Cycle detector (Brent) carried along a chain walk.
typedef struct fat_chain_guard {
  uint32_t tortoise, power, lam, steps;
} fat_chain_guard;

typedef struct fat_dir {
  fat_volume *vol;
  uint32_t first_cluster;
  uint32_t cluster;  // cluster holding entry `entry`
  uint32_t entry;    // index of the next entry to look at
  int done;
  fat_chain_guard guard;
  // Long name being collected from LFN entries (they come last part first).
  uint16_t lfn[20 * 13];
  uint8_t lfn_next;      // ordinal expected next (1..20), 0 when none is pending
  uint8_t lfn_total;     // ordinals in the pending name
  uint8_t lfn_checksum;  // checksum of the 8.3 name the pending entries belong to
  uint8_t lfn_broken;    // LFN entries were seen and discarded
} fat_dir;

typedef struct fat_dirent {
  char name[FAT_NAME_MAX];  // the long name in UTF-8, else the 8.3 name
  char short_name[13];      // the 8.3 name, "NAME.EXT" (lower case where the entry says so)
  uint32_t size;            // bytes (0 for directories)
  uint32_t first_cluster;
  uint8_t attributes;  // FAT attribute bits (0x10 directory, 0x01 read-only, ...)
  uint8_t is_dir;
  uint8_t lfn_discarded;  // LFN entries were present but invalid (checksum, sequence): 8.3 used
} fat_dirent;

typedef struct fat_file {
  fat_volume *vol;
  uint32_t first_cluster;
  uint32_t size;
  uint32_t pos;
  uint32_t cluster;  // cluster number of chain position `index` (0: not positioned yet)
  uint32_t index;
} fat_file;

// Finds the volume (first FAT32 partition of the MBR, else a FAT32 boot sector at sector 0)
// and checks its parameters against the device.
fat_status fat_mount(fat_volume *vol, block_device *dev);

// Directories: path "/" or "" is the root; components are matched case-insensitively against
// the long and the 8.3 names. fat_readdir returns FAT_OK with one entry ("." and "..", volume
// labels and deleted entries skipped), FAT_END after the last, or an error.
fat_status fat_opendir(fat_volume *vol, const char *path, fat_dir *dir);
fat_status fat_readdir(fat_dir *dir, fat_dirent *entry);
// The entry of path (not for "/").
fat_status fat_stat(fat_volume *vol, const char *path, fat_dirent *entry);

// Files: fat_open checks the whole cluster chain against the size before returning.
fat_status fat_open(fat_volume *vol, const char *path, fat_file *file);
// Reads up to len bytes at the file position; *got is len unless the end of file came first.
fat_status fat_read(fat_file *file, void *buf, size_t len, size_t *got);
// Moves the file position (clamped to the size); the next read walks the chain from there.
fat_status fat_seek(fat_file *file, uint32_t pos);
static inline uint32_t fat_file_size(const fat_file *file) { return file->size; }

#endif  // DRIVERS_FAT32_H_
