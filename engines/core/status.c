/* Names of status codes. */
#include "engine/status.h"

const char *em_status_name(em_status status) {
  switch (status) {
    case EM_OK:
      return "EM_OK";
    case EM_ERR_ARG:
      return "EM_ERR_ARG";
    case EM_ERR_MAGIC:
      return "EM_ERR_MAGIC";
    case EM_ERR_VERSION:
      return "EM_ERR_VERSION";
    case EM_ERR_DIMS:
      return "EM_ERR_DIMS";
    case EM_ERR_TRUNCATED:
      return "EM_ERR_TRUNCATED";
    case EM_ERR_OVERFLOW:
      return "EM_ERR_OVERFLOW";
    case EM_ERR_ALIGN:
      return "EM_ERR_ALIGN";
    case EM_ERR_NOMEM:
      return "EM_ERR_NOMEM";
    case EM_ERR_FULL:
      return "EM_ERR_FULL";
    case EM_ERR_CORRUPT:
      return "EM_ERR_CORRUPT";
    case EM_ERR_UNSUPPORTED:
      return "EM_ERR_UNSUPPORTED";
    case EM_ERR_IO:
      return "EM_ERR_IO";
  }
  return "EM_ERR_UNKNOWN";
}
