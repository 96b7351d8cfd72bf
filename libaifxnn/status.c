/*
 * status.c - status texts and the library version.
 */
#include "internal.h"

#define AIFX_STR2(x) #x
#define AIFX_STR(x)  AIFX_STR2(x)

const char *aifx_strerror(aifx_status status)
{
    switch (status) {
    case AIFX_OK:
        return "success";
    case AIFX_ERR_NOMEM:
        return "out of memory";
    case AIFX_ERR_INVALID:
        return "invalid argument";
    case AIFX_ERR_NONFINITE:
        return "non-finite value (NaN or infinity)";
    case AIFX_ERR_STATE:
        return "call out of order";
    case AIFX_ERR_LAPACK:
        return "LAPACK routine failed";
    case AIFX_ERR_IO:
        return "input/output error";
    case AIFX_ERR_FORMAT:
        return "bad file format";
    case AIFX_ERR_VERSION:
        return "unsupported format version";
    case AIFX_ERR_CHECKSUM:
        return "checksum mismatch";
    case AIFX_ERR_TRUNCATED:
        return "file truncated (shorter than its lengths say)";
    case AIFX_ERR_ARCH:
        return "architecture does not match the stored tensors";
    case AIFX_ERR_DIVERGED:
        return "training diverged (non-finite loss or gradient)";
    }
    return "unknown status";
}

const char *aifx_version_string(void)
{
    return AIFX_STR(AIFX_VERSION_MAJOR) "." AIFX_STR(AIFX_VERSION_MINOR) "." AIFX_STR(
        AIFX_VERSION_PATCH);
}
