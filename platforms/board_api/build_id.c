// board_build_id() for every board: the linker script keeps .note.gnu.build-id in
// a loaded section between __build_id_start and __build_id_end (lld --build-id=sha1).
#include "board/board.h"

extern const uint8_t __build_id_start[], __build_id_end[];

const uint8_t *board_build_id(size_t *len) {
  // ELF note: namesz, descsz, type (4 bytes each), name padded to 4, then desc.
  const uint32_t *note = (const uint32_t *)__build_id_start;
  size_t size = (size_t)(__build_id_end - __build_id_start);
  if (size < 12) {
    *len = 0;
    return NULL;
  }
  size_t name = (note[0] + 3u) & ~3u;
  if (12 + name + note[1] > size) {
    *len = 0;
    return NULL;
  }
  *len = note[1];
  return __build_id_start + 12 + name;
}
