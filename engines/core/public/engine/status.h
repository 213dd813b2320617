/* Status codes shared by every engine library. */
#ifndef ENGINE_STATUS_H_
#define ENGINE_STATUS_H_

typedef enum em_status {
  EM_OK = 0,
  EM_ERR_ARG,         /* a caller argument is invalid */
  EM_ERR_MAGIC,       /* the bytes are not in the expected format */
  EM_ERR_VERSION,     /* a known format, but an unsupported version */
  EM_ERR_DIMS,        /* header dimensions are impossible or inconsistent */
  EM_ERR_TRUNCATED,   /* the buffer ends before the data it declares */
  EM_ERR_OVERFLOW,    /* a declared size does not fit in size_t */
  EM_ERR_ALIGN,       /* the buffer is not aligned as the format needs */
  EM_ERR_NOMEM,       /* the arena is too small */
  EM_ERR_FULL,        /* the context (sequence length) or an output buffer is full */
  EM_ERR_CORRUPT,     /* a checksum (CRC-32) does not match the bytes it covers */
  EM_ERR_UNSUPPORTED, /* a well-formed file this engine cannot run (format, layout, pattern) */
  EM_ERR_IO           /* a weight source (engine/weights.h) could not read the bytes asked */
} em_status;

/* Returns a short constant name for a status, e.g. "EM_ERR_TRUNCATED". */
const char *em_status_name(em_status status);

#endif /* ENGINE_STATUS_H_ */
