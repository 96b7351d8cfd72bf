/*
 * schema.h - the one description of the registry records: for each record (tr_version,
 * tr_log_row, tr_activation, tr_ab_test) a table of its fields, and for each enumeration stored
 * in them its one table of names. Everything that reads or writes the records field by field
 * derives from these tables: the JSON of registry.c, the directory store's line format
 * (store/registry_text.c), the PostgreSQL column lists, binds and reads (store/store_pg.c) and
 * the field tables of docs/schema.md (tests/trainer/schema_doc.c).
 *
 * A field names its key (the line format's key and the JSON member) and its PostgreSQL column,
 * which differ for historical reasons (parent / parent_version) and must not change: both the
 * file format and the database schema (store/sql/001_initial.sql) are fixed. An embedded record
 * (a version's per-split figures, its backtest, its training curves) is a TR_FT_GROUP field: its
 * own table, a JSON object, and prefixes on its keys and columns.
 */
#ifndef AIFXT_SCHEMA_H
#define AIFXT_SCHEMA_H

#include <stddef.h>

/* An enumeration stored by name: values 0 .. n-1. */
typedef struct tr_enum_def {
    const char *c_type;       /* the C type, e.g. "tr_version_status" */
    const char *sql_type;     /* the PostgreSQL enum type, e.g. "version_status" */
    const char *const *names; /* the name of each value, in value order */
    int n;
} tr_enum_def;

extern const tr_enum_def tr_version_type_enum, tr_version_status_enum, tr_log_status_enum,
    tr_ab_status_enum;

/* The name of value v, or "?" when it is out of range. */
const char *tr_enum_name(const tr_enum_def *e, int v);
/* The value named s, or -1. */
int tr_enum_value(const tr_enum_def *e, const char *s);

typedef enum tr_ftype {
    TR_FT_TEXT,        /* char[size], NUL-terminated */
    TR_FT_JSON,        /* char[size] holding a JSON document verbatim; "" for none (JSON null) */
    TR_FT_INT,         /* int */
    TR_FT_BOOL,        /* int, 0 or 1 */
    TR_FT_INT64,       /* int64_t */
    TR_FT_TIME,        /* int64_t seconds since the epoch; 0 = never (JSON null, SQL NULL) */
    TR_FT_U32,         /* uint32_t, 8 hex digits in text (a CRC-32) */
    TR_FT_U64,         /* uint64_t, 16 hex digits in text (a seed) */
    TR_FT_DOUBLE,      /* double */
    TR_FT_DOUBLES,     /* double[len] */
    TR_FT_INT64S,      /* int64_t[len]; JSON nests them in rows of len / rows when rows > 1 */
    TR_FT_FLOAT_LIST,  /* float[len]: the first <count> of them, count the int at count_off */
    TR_FT_DOUBLE_LIST, /* double[len]: likewise */
    TR_FT_ENUM,        /* an int holding a value of enumeration enm, stored by name */
    TR_FT_GROUP        /* an embedded record at off, described by sub */
} tr_ftype;

typedef struct tr_schema tr_schema;

typedef struct tr_field {
    const char *key;    /* line-format key and JSON member; a group: its JSON object */
    const char *column; /* PostgreSQL column; a group: the prefix of its columns */
    tr_ftype type;
    size_t off, size;       /* of the member in its record */
    int len;                /* arrays and lists: the number of elements (lists: the capacity) */
    int rows;               /* TR_FT_INT64S: rows of the JSON form (3 for a 3x3 matrix), else 0 */
    size_t count_off;       /* lists: offset of the int holding the count, in the same record */
    const tr_enum_def *enm; /* TR_FT_ENUM */
    const tr_schema *sub;   /* TR_FT_GROUP */
    const char *key_prefix; /* TR_FT_GROUP: the prefix of its keys in the line format */
    const char *doc;        /* one line for docs/schema.md */
    int nan_default;        /* TR_FT_DOUBLE: NaN, not 0, when a stored form lacks the field */
} tr_field;

struct tr_schema {
    const char *record; /* the C type, e.g. "tr_version" */
    const char *table;  /* the PostgreSQL table; NULL for an embedded record */
    size_t size;        /* sizeof the record */
    const tr_field *fields;
    size_t n_fields;
};

extern const tr_schema tr_version_schema, tr_log_row_schema, tr_activation_schema,
    tr_ab_test_schema, tr_cls_figs_schema, tr_bt_figs_schema, tr_history_schema, tr_rule_schema;
/* An event of the outbox (tr_outbox_event): a line "event" of the directory store's registry
 * file, a row of the PostgreSQL table outbox (005_outbox.sql). */
extern const tr_schema tr_outbox_event_schema;

/* A field of a record with its groups flattened: the leaf field, where its value is in the
 * top-level record, and its full key ("train.macro_f1") and column ("train_macro_f1"). */
#define TR_LEAF_NAME_MAX 48
typedef struct tr_leaf {
    const tr_field *f;
    size_t off;       /* of the value in the top-level record */
    size_t count_off; /* lists: of the count in the top-level record */
    char key[TR_LEAF_NAME_MAX];
    char column[TR_LEAF_NAME_MAX];
} tr_leaf;

/* The most leaves a record has (tr_version's). */
#define TR_SCHEMA_LEAVES_MAX 96

/* The leaves of s in table order into out (at most max); returns their number, or 0 when they
 * do not fit (a program error: TR_SCHEMA_LEAVES_MAX is too small). */
size_t tr_schema_leaves(const tr_schema *s, tr_leaf *out, size_t max);

/* A record of s (s->size bytes at rec) before any field is read: zero, and NaN where a field
 * says so. */
void tr_schema_init(const tr_schema *s, void *rec);

/* The leaf of s whose full key is key ("val.loss") into *out: 0, or -1 when there is none. */
int tr_schema_leaf(const tr_schema *s, const char *key, tr_leaf *out);

/* The original design's tables as a backend reads them (docs/schema.md 5.12): views over the
 * store's tables, made from these descriptions by db migrate --backend-views. A column has its
 * name and type in the design's DDL and is made of one field of a record where it can be: the
 * field's column (rec, alias, key), in expr's @C when expr is set ("1 - @C"), converted to the
 * design's type (a time to a UTC timestamp, a figure to the fixed-point type or NULL when beyond
 * lim, "" to NULL, an enumeration to its name). Without a key, expr is the whole expression over
 * the view's FROM (a join, a count); without either the column has no meaning here and is NULL.
 * @S in from and expr is the store's schema. */
typedef struct tr_design_column {
    const char *name;
    const char *type;     /* the design's: "numeric(10,6)", "varchar(50)", "timestamp", ... */
    const tr_schema *rec; /* the record of key (NULL without a key) */
    const char *alias;    /* the alias of rec's table in from */
    const char *key;      /* a leaf key of rec */
    const char *expr;
    double lim; /* numeric (and integer from a double): the largest value that fits */
} tr_design_column;

typedef struct tr_design_view {
    const char *name; /* model_training_log, model_ab_test, model_versions */
    const char *from; /* "FROM @S.model_versions v ..." */
    const tr_design_column *cols;
    size_t n_cols;
} tr_design_view;

extern const tr_design_view tr_design_views[];
extern const size_t tr_n_design_views;

#endif
