/*
 * fuzz_checkpoint.c - libFuzzer target for the checkpoint reader: any byte string must load
 * cleanly or be refused with a status, never crash, leak or read out of bounds. A model that
 * loads must also predict: its tensors are as consistent as the reader claims, so predict on a
 * zero input succeeds or, for weights so extreme that the arithmetic overflows, reports
 * AIFX_ERR_NONFINITE; any other status is a bug.
 *
 * Build and run: scripts/fuzz.sh (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdlib.h>

#include "aifxnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aifx_model *m = NULL;
    char err[256];
    if (aifx_model_load_buffer(data, size, &m, err, sizeof(err)) != AIFX_OK)
        return 0;
    aifx_model_config c;
    aifx_model_get_config(m, &c);
    size_t n = (size_t)c.n_steps * (size_t)c.n_features;
    float *x = calloc(n, sizeof(float)), *p = calloc((size_t)c.n_classes, sizeof(float));
    if (x && p) {
        aifx_status st = aifx_model_predict(m, 1, x, p, NULL);
        if (st != AIFX_OK && st != AIFX_ERR_NONFINITE)
            abort();
    }
    free(x);
    free(p);
    aifx_model_free(m);
    return 0;
}
