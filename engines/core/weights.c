/* The blocking read over a weight source (engine/weights.h). */
#include "engine/weights.h"

em_status em_weights_read(const em_weight_source *src, uint64_t offset, void *dst, size_t size) {
  if (!src || !src->start || !src->wait) return EM_ERR_ARG;
  em_read r = {offset, dst, size};
  em_status st = src->start(src->user, &r, 1);
  em_status done = src->wait(src->user);
  return st != EM_OK ? st : done;
}
