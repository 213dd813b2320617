/* Registry: each engine found by name, and files routed to the engine that claims them. */
#include "engine/registry.h"

#include <stdint.h>

#include "common/check.h"
#include "llama/llama.h"

int main(void) {
  CHECK(em_registry_count() >= 1);
  for (int i = 0; i < em_registry_count(); i++) {
    const em_engine *e = em_registry_get(i);
    CHECK(e && e->name && e->probe && e->load && e->info && e->prefill && e->decode && e->reset &&
          e->memory);
    CHECK(em_registry_by_name(e->name) == e);
  }
  CHECK(em_registry_get(-1) == NULL && em_registry_get(em_registry_count()) == NULL);
  CHECK(em_registry_by_name("llama") == &llama_engine);
  CHECK(em_registry_by_name("no-such-engine") == NULL);

  /* An "ak42" v1 header is the llama engine's (its probe also wants the bytes to be there). */
  static uint32_t v1[1024];
  int32_t header[9] = {0x616b3432, 1, 8, 8, 1, 2, 2, 4, 4}; /* magic, version, 7 dims */
  memcpy(v1, header, sizeof header);
  CHECK(em_registry_find(v1, sizeof v1) == &llama_engine);
  CHECK(em_registry_find(v1, 100) == NULL);       /* truncated: nobody takes it */
  CHECK(em_registry_find("NCHT0000", 8) == NULL); /* nanochat: not registered yet */
  CHECK(em_registry_find(NULL, 0) == NULL);

  char path[1024];
  size_t size;
  void *bytes;
  if (testdata_path("stories260K.bin", path, sizeof path) == 0 &&
      (bytes = read_file(path, &size))) {
    CHECK(em_registry_find(bytes, size) == &llama_engine);
    free(bytes);
  } else {
    skip("stories260K.bin not found (set METALCHAT_TESTDATA)");
  }
  return finish();
}
