/*
 * fuzz_family.c - libFuzzer target for a model family's definition (registry/family.h), the
 * text a user gives `aifx-train family add --file` and a store keeps: any input is parsed or
 * refused with a message, never a crash, a leak or a read out of bounds; and a definition that
 * parses is written and read back to the same definition (the form the store keeps is stable).
 *
 * Build and run: scripts/fuzz.sh (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/family.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tr_family f, g;
    tr_error e = {0};
    if (tr_family_parse("fuzz", (const char *)data, size, "input", &f, &e) != TR_OK) {
        if (!e.msg[0])
            abort(); /* a refusal always says why */
        return 0;
    }
    char a[TR_FAMILY_TEXT_MAX], b[TR_FAMILY_TEXT_MAX];
    int n = tr_family_format(&f, a, sizeof a);
    if (n <= 0 || (size_t)n >= sizeof a)
        abort();
    if (tr_family_parse("fuzz", a, (size_t)n, "written", &g, &e) != TR_OK)
        abort();
    int m = tr_family_format(&g, b, sizeof b);
    if (m != n || memcmp(a, b, (size_t)n) != 0)
        abort();
    return 0;
}
