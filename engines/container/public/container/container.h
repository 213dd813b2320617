/* Reader of the metalchat model container (.mcm, docs/CONTAINER.md, format version 1).
 *
 * mc_open checks, in the order of the spec's "What a reader checks": the header (magic,
 * version, size, CRC-32, file size), the four sections (kind, canonical offset, bounds,
 * zero padding, CRC-32), every tensor table entry (name, format, group size, shape, the
 * sizes the format implies, 64-byte alignment, regions inside the tensor data section and
 * not overlapping, the header's largest-tensor summary) and the tokenizer section (header
 * fields, payload framing, its vocabulary equal to the model's). Every offset and size is
 * checked against the byte count without overflow before anything is read through it.
 *
 * Not checked: the manifest section's protobuf (step 5 of the spec). Its CRC is checked;
 * its contents are for the host tools, and the header and tables it repeats are what a
 * board reads. Python's reader (python/metalchat/formats/container.py) checks agreement.
 *
 * Everything is a view into the caller's bytes: tensor values and scales are used in
 * place, never copied. The buffer must outlive the container and (for f32/f16 values and
 * f32 scales read in place) be 4-byte aligned; every region starts at a multiple of 64. */
#ifndef CONTAINER_CONTAINER_H_
#define CONTAINER_CONTAINER_H_

#include <stddef.h>
#include <stdint.h>

#include "engine/kernels.h"
#include "engine/status.h"

#define MC_MAGIC 0x4348434Du /* "MCHC" read as a little-endian u32 */
/* InferPi's nanochat model.bin (its GPT-2 format, which no engine reads), like llama2.c's
 * "ak42" (0x616b3432): the u32 0x4E434854 ("NCHT" in hex digits) little-endian, so the file
 * starts with the bytes 54 48 43 4E. Every reader of this repository uses this byte order. */
#define MC_INFERPI_NANOCHAT_MAGIC 0x4E434854u
#define MC_VERSION 1u
#define MC_HEADER_SIZE 256u
#define MC_ENTRY_SIZE 128u
#define MC_ALIGN 64u
#define MC_NAME_SIZE 48u
#define MC_TOKENIZER_HEADER_SIZE 32u

typedef enum mc_arch { MC_ARCH_LLAMA = 1, MC_ARCH_NANOCHAT = 2 } mc_arch;
typedef enum mc_format { MC_F32 = 1, MC_F16 = 2, MC_Q8 = 3, MC_Q4 = 4 } mc_format;
typedef enum mc_section_kind {
  MC_SECTION_TENSOR_TABLE = 1,
  MC_SECTION_TOKENIZER = 2,
  MC_SECTION_TENSOR_DATA = 3,
  MC_SECTION_MANIFEST = 4
} mc_section_kind;
typedef enum mc_tokenizer_kind {
  MC_TOKENIZER_LLAMA2C = 1,
  MC_TOKENIZER_NANOCHAT = 2,
  MC_TOKENIZER_HF = 3 /* Hugging Face BPE with ranked merges (em_tokenizer_load_hf) */
} mc_tokenizer_kind;
typedef enum mc_rope_layout { MC_ROPE_INTERLEAVED = 1, MC_ROPE_HALF_SPLIT = 2 } mc_rope_layout;

/* Flags for mc_open. */
#define MC_SKIP_DATA_CRC                                                 \
  1u /* do not CRC the tensor data section (large models on slow boards; \
      * all structural checks still run) */

typedef struct mc_section {
  uint64_t offset, size;
  uint32_t crc32;
} mc_section;

/* Architecture 1 parameters (header offset 136). */
typedef struct mc_llama_params {
  uint32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
  float rope_theta, norm_eps;
  uint32_t shared_classifier, rope_layout;
} mc_llama_params;

/* Architecture 2 parameters (header offset 136); 0 means "derive" where the manifest's
 * NanochatParams says so (the engine applies the defaults, see nanochat/nanochat.h). */
typedef struct mc_nanochat_params {
  uint32_t n_embd, n_layer, n_head, n_kv_head, vocab_size, padded_vocab_size, sequence_len;
  uint32_t short_window;
  float softcap, rope_theta, qk_scale;
  uint32_t mlp_ratio, smear_channels, value_embed_gate_channels;
  float value_embed_scale;
  uint32_t backout_layer;
  float norm_eps;
  uint32_t rope_layout;
  uint64_t value_embed_layers; /* bit l set = layer l has value embeddings; 0 = derive */
  char window_pattern[32];     /* NUL-terminated (the reader checks there is a NUL) */
} mc_nanochat_params;

/* The tokenizer section: its 32-byte header and the payload after it. */
typedef struct mc_tokenizer {
  uint32_t kind, vocab_size, bos_id, eos_id, max_token_length;
  const uint8_t *payload; /* kind 1: a llama2.c tokenizer.bin; 2: nanochat BPE; 3: HF BPE */
  size_t payload_size;
} mc_tokenizer;

/* One tensor, its bytes in place. */
typedef struct mc_tensor {
  const char *name; /* NUL-terminated inside the table entry (checked) */
  uint32_t format;  /* mc_format */
  uint32_t group_size;
  uint32_t ndim;
  uint64_t shape[4];    /* entries past ndim are 0 */
  uint64_t count;       /* product of the shape */
  const void *values;   /* values_size bytes */
  uint64_t values_size; /* f32: 4n, f16: 2n, q8: n, q4: n/2 */
  const float *scales;  /* q8/q4: count / group_size floats; NULL otherwise */
  uint64_t scales_size; /* bytes */
} mc_tensor;

typedef struct mc_container {
  const uint8_t *bytes;
  size_t size;
  uint32_t architecture;  /* mc_arch */
  uint32_t weight_format; /* summary: the largest tensor's format */
  uint32_t group_size;    /* and its group size */
  uint32_t tensor_count;
  mc_section sections[4]; /* indexed by kind - 1 */
  union {
    mc_llama_params llama;
    mc_nanochat_params nanochat;
  } params;
  mc_tokenizer tokenizer;
} mc_container;

/* 100 when the bytes start with the container magic, else 0 (no other check). */
int mc_probe(const void *bytes, size_t size);

/* The header's architecture when the first 256 bytes are a valid version-1 header (magic,
 * version, header size, header CRC), else 0. Cheap: for probes. */
uint32_t mc_peek_architecture(const void *bytes, size_t size);

/* Checks the whole container (see above) and fills *c with views into bytes[0..size).
 * Errors: EM_ERR_TRUNCATED (shorter than declared), EM_ERR_MAGIC, EM_ERR_VERSION,
 * EM_ERR_CORRUPT (a CRC, or a nonzero padding byte), EM_ERR_DIMS (a field out of range or
 * inconsistent), EM_ERR_OVERFLOW, EM_ERR_ALIGN; *msg says which field, as a constant. */
em_status mc_open(mc_container *c, const void *bytes, size_t size, unsigned flags,
                  const char **msg);

/* The tensor at table index i (0 <= i < tensor_count), from a container mc_open accepted. */
void mc_tensor_at(const mc_container *c, uint32_t i, mc_tensor *out);

/* The tensor named `name`; EM_ERR_DIMS with *msg naming the problem when it is missing. */
em_status mc_find(const mc_container *c, const char *name, mc_tensor *out, const char **msg);

/* A view of a tensor as a (rows, cols) matrix (rows*cols = count, cols = the last
 * dimension unless the tensor is split into layers): the kernels' em_matrix. `first_row`
 * selects rows [first_row, first_row + rows) of the tensor's (count / cols, cols) view, so
 * layer l of a stacked (L, R, C) tensor is mc_matrix(t, l * R, R, C). EM_ERR_DIMS when the
 * range is outside the tensor or cols is not its last dimension; EM_ERR_ALIGN when an
 * f32/f16 view or the scales would be misaligned. */
em_status mc_matrix(const mc_tensor *t, uint64_t first_row, uint64_t rows, uint64_t cols,
                    em_matrix *out);

/* Element i of a tensor in any format, as f32 (for small parameter tensors). */
float mc_value(const mc_tensor *t, uint64_t i);

/* The manifest's chat template kind (ModelManifest.chat_template.kind, model_manifest.proto:
 * 1 none, 2 llama2, 3 nanochat, 4 custom), found by a bounds-checked walk over the manifest
 * section's protobuf; 0 when it names none or the protobuf cannot be read that far. */
uint32_t mc_chat_template(const mc_container *c);

#endif /* CONTAINER_CONTAINER_H_ */
