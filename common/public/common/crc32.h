// CRC-32 (IEEE 802.3, reflected, polynomial 0xedb88320): the zlib/PNG/gzip checksum, so a
// value printed by an image can be checked with Python's zlib.crc32.
#ifndef COMMON_CRC32_H_
#define COMMON_CRC32_H_

#include <stddef.h>
#include <stdint.h>

// Continues crc (0 to start) over n bytes: crc32_update(crc32_update(0, a, n), b, m) is the
// CRC of a followed by b.
uint32_t crc32_update(uint32_t crc, const void *data, size_t n);

#endif  // COMMON_CRC32_H_
