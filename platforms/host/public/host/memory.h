/* Memory for model weights in host programs (tools/bench, tools/engine_cli). Engines read
 * weights in place, so where a file lands decides how its tensors stream: every buffer here
 * is 64-byte aligned (a container's 64-byte aligned tensors stay aligned in memory), and with
 * huge_pages a buffer of 2 MB or more is 2 MB aligned and advised for transparent huge pages
 * (Linux madvise; elsewhere, or when refused, ordinary pages): weights streamed from DRAM
 * then cost one TLB entry per 2 MB instead of per 4 KB. Release with free(). */
#ifndef HOST_MEMORY_H_
#define HOST_MEMORY_H_

#include <stdbool.h>
#include <stddef.h>

/* Size from which huge pages are advised (one x86-64 / aarch64 4K-granule huge page). */
#define HOST_HUGE_PAGE_BYTES ((size_t)2 << 20)

/* An aligned buffer of at least `size` bytes (see above), or NULL when out of memory. */
void *host_alloc(size_t size, bool huge_pages);

/* The whole file in a host_alloc buffer with a NUL byte after its end (so text files are C
 * strings); *size gets the file's length. NULL when it cannot be opened, read or held. */
void *host_read_file(const char *path, size_t *size, bool huge_pages);

/* The whole file mapped read-only (Linux mmap; page aligned, so 64-byte aligned), advised for
 * huge pages when huge_pages (file pages get them where the kernel maps read-only file THP)
 * and read ahead: nothing is copied, so start-up costs page faults instead of a copy of the
 * file. *size gets the file's length. NULL when it cannot be opened or mapped (or is empty).
 * Release with host_unmap_file. */
const void *host_map_file(const char *path, size_t *size, bool huge_pages);
void host_unmap_file(const void *bytes, size_t size);

#endif /* HOST_MEMORY_H_ */
