/*
 * registry_text.h - the directory store's registry file body (registry.aifx, docs/schema.md
 * section 3): one record per line, "<kind>\tkey=value\t..." with %XX escapes for control
 * characters, '%' and '=' (store/framed.h's, as the job queue's and sink states' files). Keys,
 * order and value forms come from the field tables (registry/schema.h); unknown kinds and keys are
 * ignored so that older programs read newer minor versions.
 */
#ifndef AIFXT_REGISTRY_TEXT_H
#define AIFXT_REGISTRY_TEXT_H

#include <stddef.h>

#include "base/err.h"
#include "registry/registry.h"

/* The body of reg into a malloc'd text (*text, *len; NUL-terminated, the NUL not counted). */
tr_code tr_registry_encode(const tr_registry *reg, char **text, size_t *len, tr_error *err);
/* Parses a body into reg (initialised by the call; freed on failure); what names it in
 * messages (TR_ERR_FORMAT naming the line and key). */
tr_code tr_registry_decode(const char *what, const char *text, size_t len, tr_registry *reg,
                           tr_error *err);

#endif
