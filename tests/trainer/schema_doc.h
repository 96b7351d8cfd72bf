/*
 * schema_doc.h - the generated part of docs/schema.md: the field tables of the registry records
 * and their enumerations, in Markdown, made from registry/schema.h. gen_schema_doc writes it into
 * the doc; check_registry.c fails when the doc's copy differs.
 */
#ifndef AIFXT_SCHEMA_DOC_H
#define AIFXT_SCHEMA_DOC_H

#define SCHEMA_DOC_BEGIN                                                                           \
    "<!-- BEGIN GENERATED: record fields (build/*/tests/trainer/gen_schema_doc) -->\n"
#define SCHEMA_DOC_END "<!-- END GENERATED: record fields -->\n"

/* The generated section (between the markers, markers excluded), malloc'd; NULL without memory. */
char *schema_doc_markdown(void);

/* doc with the text between its markers replaced by gen, malloc'd; NULL when doc lacks the
 * markers (or without memory). */
char *schema_doc_splice(const char *doc, const char *gen);

#endif
