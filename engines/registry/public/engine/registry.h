/* The table of engines, and the question "which engine takes this file?". */
#ifndef ENGINE_REGISTRY_H_
#define ENGINE_REGISTRY_H_

#include <stddef.h>

#include "engine/engine.h"

/* Number of registered engines. */
int em_registry_count(void);

/* The i-th registered engine (0 <= i < em_registry_count()). */
const em_engine *em_registry_get(int i);

/* The engine whose probe scores the bytes highest, or NULL when none claims them. */
const em_engine *em_registry_find(const void *bytes, size_t size);

/* The engine with this name, or NULL. */
const em_engine *em_registry_by_name(const char *name);

#endif /* ENGINE_REGISTRY_H_ */
