/* The host's weight source (host/weights.h): pread on a thread per batch. */
#define _XOPEN_SOURCE 700

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/weights.h"

int host_weights_read(host_weights *w, uint64_t offset, void *dst, size_t n) {
  uint8_t *out = (uint8_t *)dst;
  while (n > 0) {
    int i = 0;
    while (i < w->shards && offset >= w->start[i + 1]) i++;
    if (i == w->shards) return -1; /* past the end of the file */
    uint64_t room = w->start[i + 1] - offset;
    size_t part = n < room ? n : (size_t)room;
    ssize_t got = pread(w->fd[i], out, part, (off_t)(offset - w->start[i]));
    if (got <= 0) return -1;
    out += got;
    offset += (uint64_t)got;
    n -= (size_t)got;
    w->bytes_read += (uint64_t)got;
  }
  return 0;
}

static void *run_batch(void *arg) {
  host_weights *w = (host_weights *)arg;
  w->status = EM_OK;
  for (int k = 0; k < w->batch_n && w->status == EM_OK; k++) {
    const em_read *r = &w->batch[k];
    if (r->offset > w->source.file_size || r->size > w->source.file_size - r->offset)
      w->status = EM_ERR_TRUNCATED;
    else if (host_weights_read(w, r->offset, r->dst, r->size) != 0)
      w->status = EM_ERR_IO;
  }
  return NULL;
}

static em_status start(void *user, const em_read *reads, int n) {
  host_weights *w = (host_weights *)user;
  if (w->busy) return EM_ERR_ARG;
  w->batch = reads;
  w->batch_n = n;
  w->reads++;
  pthread_t t;
  if (pthread_create(&t, NULL, run_batch, w) != 0) {
    run_batch(w); /* no thread: read right here */
    return EM_OK;
  }
  w->thread = t;
  w->busy = 1;
  return EM_OK;
}

static em_status wait_batch(void *user) {
  host_weights *w = (host_weights *)user;
  if (w->busy) {
    pthread_join(w->thread, NULL);
    w->busy = 0;
  }
  return (em_status)w->status;
}

static int open_one(host_weights *w, const char *path) {
  if (w->shards == HOST_SHARDS_MAX) return -1;
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= 0) {
    close(fd);
    return -1;
  }
  w->fd[w->shards] = fd;
  w->start[w->shards + 1] = w->start[w->shards] + (uint64_t)st.st_size;
  w->shards++;
  return 0;
}

int host_weights_open(host_weights *w, const char *path) {
  memset(w, 0, sizeof *w);
  if (open_one(w, path) != 0) {
    char name[4096];
    for (int i = 0; i < HOST_SHARDS_MAX; i++) {
      snprintf(name, sizeof name, "%s.%03d", path, i);
      if (access(name, F_OK) != 0) break;
      if (open_one(w, name) != 0) {
        host_weights_close(w);
        return -1;
      }
    }
    if (w->shards == 0) return -1;
  }
  w->source.file_size = w->start[w->shards];
  w->source.start = start;
  w->source.wait = wait_batch;
  w->source.user = w;
  return 0;
}

void host_weights_close(host_weights *w) {
  if (w->busy) wait_batch(w);
  for (int i = 0; i < w->shards; i++) close(w->fd[i]);
  w->shards = 0;
}
