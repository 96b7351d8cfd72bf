/*
 * gen_schema_doc.c - rewrites the generated section of docs/schema.md (the registry record
 * fields, schema_doc.h) from the field tables: `gen_schema_doc docs/schema.md`. Without an
 * argument it prints the section.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "schema_doc.h"

int main(int argc, char **argv)
{
    char *gen = schema_doc_markdown(), *doc = NULL, *out = NULL;
    size_t n;
    tr_error e;
    int rc = 1;
    if (!gen)
        return 1;
    if (argc < 2) {
        fputs(gen, stdout);
        free(gen);
        return 0;
    }
    if (tr_file_read(argv[1], &doc, &n, &e)) {
        fprintf(stderr, "%s\n", e.msg);
    } else if (!(out = schema_doc_splice(doc, gen))) {
        fprintf(stderr, "%s: no generated section (markers %s)\n", argv[1], SCHEMA_DOC_BEGIN);
    } else if (strcmp(out, doc) == 0) {
        printf("%s: up to date\n", argv[1]);
        rc = 0;
    } else if (tr_file_write_atomic(argv[1], out, strlen(out), &e)) {
        fprintf(stderr, "%s\n", e.msg);
    } else {
        printf("%s: section rewritten\n", argv[1]);
        rc = 0;
    }
    free(out);
    free(doc);
    free(gen);
    return rc;
}
