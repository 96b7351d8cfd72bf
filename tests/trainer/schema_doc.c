/*
 * schema_doc.c - Markdown of the registry field tables for docs/schema.md (schema_doc.h): one
 * table per record and embedded record, in table order, and the enumerations with their names.
 */
#include "schema_doc.h"

#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "registry/schema.h"

/* The type of field f as the doc names it. */
static void type_text(tr_sb *b, const tr_field *f, const tr_schema *rec)
{
    switch (f->type) {
    case TR_FT_TEXT:
        tr_sb_printf(b, "text, up to %zu bytes", f->size - 1);
        break;
    case TR_FT_JSON:
        tr_sb_printf(b, "JSON text, up to %zu bytes", f->size - 1);
        break;
    case TR_FT_INT:
        tr_sb_printf(b, "int");
        break;
    case TR_FT_BOOL:
        tr_sb_printf(b, "int 0/1 (SQL boolean)");
        break;
    case TR_FT_INT64:
        tr_sb_printf(b, "int64");
        break;
    case TR_FT_TIME:
        tr_sb_printf(b, "time");
        break;
    case TR_FT_U32:
        tr_sb_printf(b, "uint32 (8 hex digits in text)");
        break;
    case TR_FT_U64:
        tr_sb_printf(b, "uint64 (16 hex digits in text)");
        break;
    case TR_FT_DOUBLE:
        tr_sb_printf(b, "double%s", f->nan_default ? " (NaN when a stored form lacks it)" : "");
        break;
    case TR_FT_DOUBLES:
        tr_sb_printf(b, "double[%d]", f->len);
        break;
    case TR_FT_INT64S:
        if (f->rows > 1)
            tr_sb_printf(b, "int64[%d] (%dx%d; JSON nested)", f->len, f->rows, f->len / f->rows);
        else
            tr_sb_printf(b, "int64[%d]", f->len);
        break;
    case TR_FT_FLOAT_LIST:
    case TR_FT_DOUBLE_LIST: {
        const char *count = "?";
        for (size_t i = 0; i < rec->n_fields; i++)
            if (rec->fields[i].type != TR_FT_GROUP && rec->fields[i].off == f->count_off)
                count = rec->fields[i].key;
        tr_sb_printf(b, "%s[%s], at most %d", f->type == TR_FT_FLOAT_LIST ? "float" : "double",
                     count, f->len);
        break;
    }
    case TR_FT_ENUM:
        tr_sb_printf(b, "enum `%s`", f->enm->c_type);
        break;
    case TR_FT_GROUP:
        tr_sb_printf(b, "the %s below (JSON object)", f->doc);
        break;
    }
}

static void record_table(tr_sb *b, const tr_schema *s, const char *title)
{
    tr_sb_printf(b, "\n#### %s\n\n", title);
    if (s->table)
        tr_sb_printf(b, "`%s`, PostgreSQL table `%s`.\n\n", s->record, s->table);
    else
        tr_sb_printf(b,
                     "Members of `%s`, part of a version row: keys and columns carry the "
                     "prefix given in the version table.\n\n",
                     s->record);
    tr_sb_printf(b, "| key (registry.aifx, JSON) | column (PostgreSQL) | type | meaning |\n");
    tr_sb_printf(b, "|---|---|---|---|\n");
    for (size_t i = 0; i < s->n_fields; i++) {
        const tr_field *f = &s->fields[i];
        if (f->type == TR_FT_GROUP && f->key_prefix[0])
            tr_sb_printf(b, "| `%s`... (JSON `%s`) | `%s`... | ", f->key_prefix, f->key, f->column);
        else if (f->type == TR_FT_GROUP)
            tr_sb_printf(b, "| no prefix (JSON `%s`) | no prefix | ", f->key);
        else
            tr_sb_printf(b, "| `%s` | `%s` | ", f->key, f->column);
        type_text(b, f, s);
        tr_sb_printf(b, " | %s |\n", f->type == TR_FT_GROUP ? "" : f->doc);
    }
}

char *schema_doc_markdown(void)
{
    static const struct {
        const tr_schema *s;
        const char *title;
    } recs[] = {
        {&tr_version_schema, "version"},
        {&tr_cls_figs_schema, "classification figures (per split of a version)"},
        {&tr_bt_figs_schema, "backtest figures (of a version)"},
        {&tr_history_schema, "training curves (of a version)"},
        {&tr_rule_schema, "decision rule (of a version; docs/backtest.md)"},
        {&tr_log_row_schema, "training log row"},
        {&tr_activation_schema, "activation"},
        {&tr_ab_test_schema, "A/B test"},
    };
    static const tr_enum_def *const enums[] = {&tr_version_type_enum, &tr_version_status_enum,
                                               &tr_log_status_enum, &tr_ab_status_enum};
    tr_sb b = {0};
    tr_sb_printf(
        &b, "\nGenerated from the field tables of `trainer/registry/schema.c`: do not edit "
            "by hand; after changing them run `build/dev/tests/trainer/gen_schema_doc "
            "docs/schema.md` (`trainer_registry` fails while this section is stale). A time is "
            "seconds since the epoch, 0 meaning never (JSON null, SQL NULL).\n");
    for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++)
        record_table(&b, recs[i].s, recs[i].title);
    tr_sb_printf(&b, "\n#### enumerations\n\nStored by name (the line format, JSON, and the "
                     "PostgreSQL enum type); the value is the position in the list.\n\n");
    tr_sb_printf(&b, "| C type | PostgreSQL type | names |\n|---|---|---|\n");
    for (size_t i = 0; i < sizeof enums / sizeof enums[0]; i++) {
        tr_sb_printf(&b, "| `%s` | `%s` | ", enums[i]->c_type, enums[i]->sql_type);
        for (int k = 0; k < enums[i]->n; k++)
            tr_sb_printf(&b, "%s%s", k ? ", " : "", enums[i]->names[k]);
        tr_sb_printf(&b, " |\n");
    }
    tr_sb_printf(&b, "\n");
    if (b.oom) {
        tr_sb_free(&b);
        return NULL;
    }
    return b.p;
}

char *schema_doc_splice(const char *doc, const char *gen)
{
    const char *a = strstr(doc, SCHEMA_DOC_BEGIN);
    const char *e = a ? strstr(a, SCHEMA_DOC_END) : NULL;
    if (!e)
        return NULL;
    a += strlen(SCHEMA_DOC_BEGIN);
    tr_sb b = {0};
    tr_sb_put(&b, doc, (size_t)(a - doc));
    tr_sb_put(&b, gen, strlen(gen));
    tr_sb_put(&b, e, strlen(e));
    if (b.oom) {
        tr_sb_free(&b);
        return NULL;
    }
    return b.p;
}
