/* The merge loop both tokenizer kinds share: "merge the best pair (highest priority, the
 * leftmost on ties) until none is left". With scratch (tok->arena) in O(n log n): tokens sit
 * in a linked list and every adjacent pair that forms a token waits in a binary heap in that
 * order, so each merge costs a few heap updates instead of a scan of the whole text. Without,
 * the plain quadratic loop; both give the same tokens (tokenizer_test compares them). */
#include "engines/tokenizer/tokenizer_internal.h"

typedef struct merger {
  int *next, *prev, *merged, *heap, *pos; /* per node; pos -1: not in the heap */
  float *priority;
  int count; /* nodes in the heap */
} merger;

/* Whether node a's pair goes before node b's. */
static bool before(const merger *m, int a, int b) {
  return m->priority[a] > m->priority[b] || (m->priority[a] == m->priority[b] && a < b);
}

static void place(merger *m, int at, int node) {
  m->heap[at] = node;
  m->pos[node] = at;
}

static void sift_up(merger *m, int at) {
  int node = m->heap[at];
  while (at > 0 && before(m, node, m->heap[(at - 1) / 2])) {
    place(m, at, m->heap[(at - 1) / 2]);
    at = (at - 1) / 2;
  }
  place(m, at, node);
}

static void sift_down(merger *m, int at) {
  int node = m->heap[at];
  for (;;) {
    int child = 2 * at + 1;
    if (child >= m->count) break;
    if (child + 1 < m->count && before(m, m->heap[child + 1], m->heap[child])) child++;
    if (!before(m, m->heap[child], node)) break;
    place(m, at, m->heap[child]);
    at = child;
  }
  place(m, at, node);
}

static void heap_remove(merger *m, int node) {
  int at = m->pos[node];
  if (at < 0) return;
  m->pos[node] = -1;
  int last = m->heap[--m->count];
  if (last == node) return;
  place(m, at, last);
  sift_up(m, at);
  sift_down(m, m->pos[last]);
}

/* (Re)computes the pair that starts at node and files it in the heap. */
static void refresh(merger *m, em_tokenizer *tok, const int *tokens, em_merge_pair_fn pair,
                    int node) {
  heap_remove(m, node);
  int right = m->next[node];
  m->merged[node] = right >= 0 ? pair(tok, tokens[node], tokens[right], &m->priority[node]) : -1;
  if (m->merged[node] < 0) return;
  place(m, m->count++, node);
  sift_up(m, m->count - 1);
}

/* The plain loop: rescan every pair, merge the best. */
static int merge_plain(em_tokenizer *tok, int *tokens, int n, em_merge_pair_fn pair) {
  for (;;) {
    int best = -1, best_id = -1;
    float best_priority = 0.0f;
    for (int i = 0; i + 1 < n; i++) {
      float priority;
      int id = pair(tok, tokens[i], tokens[i + 1], &priority);
      if (id >= 0 && (best < 0 || priority > best_priority)) {
        best = i;
        best_id = id;
        best_priority = priority;
      }
    }
    if (best < 0) return n;
    tokens[best] = best_id;
    for (int i = best + 1; i + 1 < n; i++) tokens[i] = tokens[i + 1];
    n--;
  }
}

int em_merge_pairs(em_tokenizer *tok, int *tokens, int n, em_merge_pair_fn pair) {
  if (n < 2) return n;
  em_arena *arena = tok->arena;
  if (!arena) return merge_plain(tok, tokens, n, pair);
  size_t mark = em_arena_mark(arena);
  merger m;
  m.next = (int *)em_arena_alloc_array(arena, (size_t)n, sizeof(int), sizeof(int));
  m.prev = (int *)em_arena_alloc_array(arena, (size_t)n, sizeof(int), sizeof(int));
  m.merged = (int *)em_arena_alloc_array(arena, (size_t)n, sizeof(int), sizeof(int));
  m.heap = (int *)em_arena_alloc_array(arena, (size_t)n, sizeof(int), sizeof(int));
  m.pos = (int *)em_arena_alloc_array(arena, (size_t)n, sizeof(int), sizeof(int));
  m.priority = (float *)em_arena_alloc_array(arena, (size_t)n, sizeof(float), sizeof(float));
  if (!m.next || !m.prev || !m.merged || !m.heap || !m.pos || !m.priority) {
    em_arena_reset(arena, mark);
    return merge_plain(tok, tokens, n, pair);
  }
  m.count = 0;
  for (int i = 0; i < n; i++) {
    m.next[i] = i + 1 < n ? i + 1 : -1;
    m.prev[i] = i - 1;
    m.pos[i] = -1;
  }
  for (int i = 0; i + 1 < n; i++) refresh(&m, tok, tokens, pair, i);
  while (m.count > 0) {
    int left = m.heap[0], right = m.next[left];
    heap_remove(&m, left);
    heap_remove(&m, right);
    tokens[left] = m.merged[left];
    m.next[left] = m.next[right]; /* right leaves the list */
    if (m.next[right] >= 0) m.prev[m.next[right]] = left;
    refresh(&m, tok, tokens, pair, left);
    if (m.prev[left] >= 0) refresh(&m, tok, tokens, pair, m.prev[left]);
  }
  int count = 0;
  for (int node = 0; node >= 0; node = m.next[node]) tokens[count++] = tokens[node];
  em_arena_reset(arena, mark);
  return count;
}
