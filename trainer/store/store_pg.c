/*
 * store_pg.c - the PostgreSQL store, behind the same table of functions as the directory store
 * (store.h). The only file that includes libpq-fe.h: that rule keeps every statement, parameter
 * and result conversion of the database in one place to review, and is why this file runs past
 * the trainer's usual 800 lines (its sections: connection and session, parameters and results,
 * migrations and the store's own schema, bars, the registry, signals, locks and fencing tokens,
 * events, the job queue, model files, the backend's views and bars). The schema is in
 * trainer/store/sql/NNN_*.sql, embedded at build time; docs/schema.md section 5 describes tables,
 * types, transactions, events and locks.
 *
 * Rules this file keeps:
 *  - Every value travels as a parameter of PQexecParams (or as COPY data); SQL text is built only
 *    from column names: the registry records' from their field tables (registry/schema.h, one
 *    function writes a record, one reads a table), the bars' and signals' as written here.
 *    LISTEN takes an identifier, not a value: channel names are checked ([a-z0-9_]) and quoted
 *    with PQescapeIdentifier; so are the schema, table and column names of the views and the
 *    trigger that db migrate creates beside the backend's tables (docs/schema.md 5.12).
 *  - Every session's search_path is the store's own schema (aifx, $AIFX_PG_SCHEMA), set here
 *    after the connection's settings, so every unqualified name below is one of ours.
 *  - Doubles and floats go both ways in PostgreSQL's binary format (float8, float8[], float4[]),
 *    so every bit survives, NaN and infinities included; results are read in binary format too.
 *    Times are timestamptz, exchanged as seconds since the epoch; a time of 0 is NULL.
 *  - A registry commit is one transaction under a transaction-level advisory lock: it reads the
 *    registry, runs tr_registry_apply (the same rules as every backend), writes only the rows that
 *    changed, sends its NOTIFYs and commits; any failure rolls all of it back.
 *  - Model files (checkpoints, drift references, reports) are bytea rows of model_files; the
 *    files of a registry change are read and checked before its transaction and inserted inside
 *    it, so a version and its checkpoint land together or not at all.
 *  - Cycle locks are session-level advisory locks on hashtextextended('aifx:' || name, 0),
 *    released by cycle_unlock or by the end of the session (a dead process, a lost connection).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aifxnn.h" /* aifx_crc32 */
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "market/labels.h"
#include "registry/schema.h"
#include "store/backend.h"
#include "store/sql/migrations.h"

#define PG_MAX_LOCKS          16
#define PG_DEFAULT_MODELS_DIR "./aifx-models"

/* Type OIDs of the binary formats used here (pg_type.dat; stable across versions). */
enum { OID_INT8 = 20, OID_INT4 = 23, OID_TEXT = 25, OID_FLOAT4 = 700, OID_FLOAT8 = 701 };

typedef struct pg_store {
    tr_store base; /* first member: a tr_store * points at the pg_store */
    PGconn *conn;
    char locks[PG_MAX_LOCKS][136];    /* names of the cycle locks held ("" = free slot) */
    int64_t lock_token[PG_MAX_LOCKS]; /* their fencing tokens (cycle_lock_tokens) */
    int in_xact;                      /* between begin and commit or rollback */
    char schema[64];                  /* the schema of our objects (search_path of every session) */
    char legacy[64];  /* where the connection's default search_path found a schema_migrations
                         table outside it (a store of an earlier program), "" for none */
    int bars_backend; /* bars are read from the backend's table (backend_bars), read-only */
} pg_store;

/* ---- errors ---------------------------------------------------------------------------------- */

/* libpq's message on one line, without the trailing newline. */
static void one_line(const char *msg, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = msg ? msg : ""; *p && o + 1 < size; p++) {
        if (*p == '\n') {
            while (p[1] == ' ' || p[1] == '\t')
                p++; /* libpq indents continuation lines */
            if (p[1] == '\0')
                break;
            if (o + 3 < size) {
                out[o++] = ';';
                out[o++] = ' ';
            }
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

/* The tr_code of a failed statement: a lost connection or an unknown failure is TR_ERR_STORE; a
 * few SQLSTATEs that the program's rules can meet map to their codes. */
static tr_code code_of(const pg_store *s, const PGresult *r)
{
    if (PQstatus(s->conn) != CONNECTION_OK)
        return TR_ERR_STORE;
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!st)
        return TR_ERR_STORE;
    if (strcmp(st, "23505") == 0 || strcmp(st, "55P03") == 0 || strcmp(st, "40001") == 0 ||
        strcmp(st, "40P01") == 0)
        return TR_ERR_CONFLICT; /* unique violation, lock not available, serialization, deadlock */
    if (strcmp(st, "23503") == 0)
        return TR_ERR_NOTFOUND; /* a foreign key names a row that does not exist */
    if (strncmp(st, "22", 2) == 0 || strcmp(st, "23502") == 0 || strcmp(st, "23514") == 0)
        return TR_ERR_DATA; /* data exception (bad encoding, out of range), not null, check */
    return TR_ERR_STORE;
}

/* Fails with the statement's error, naming the store and what was being done. */
static tr_code pg_fail(pg_store *s, const PGresult *r, const char *what, tr_error *err)
{
    char msg[700];
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (!m || !m[0])
        m = PQerrorMessage(s->conn);
    one_line(m, msg, sizeof msg);
    if (PQstatus(s->conn) != CONNECTION_OK)
        return tr_fail(err, TR_ERR_STORE, "store %s: %s: the connection to the server is lost: %s",
                       s->base.safe, what, msg);
    return tr_fail(err, code_of(s, r), "store %s: %s: %s", s->base.safe, what, msg);
}

/* ---- parameters ---------------------------------------------------------------------------- */

#define MAX_PARAMS 112

typedef struct params {
    int n, oom;
    const char *v[MAX_PARAMS];
    int len[MAX_PARAMS], fmt[MAX_PARAMS];
    char *own[MAX_PARAMS]; /* malloc'd values, freed by params_free */
} params;

static void params_free(params *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->own[i]);
    p->n = 0;
}

/* Appends a value of len bytes (copied); v NULL is SQL NULL. fmt 0 text, 1 binary. */
static void p_raw(params *p, const void *v, size_t len, int fmt)
{
    if (p->n >= MAX_PARAMS) {
        p->oom = 1;
        return;
    }
    int i = p->n++;
    p->own[i] = NULL;
    p->v[i] = NULL;
    p->len[i] = 0;
    p->fmt[i] = fmt;
    if (!v)
        return;
    p->own[i] = malloc(len + 1);
    if (!p->own[i]) {
        p->oom = 1;
        return;
    }
    memcpy(p->own[i], v, len);
    p->own[i][len] = '\0';
    p->v[i] = p->own[i];
    p->len[i] = (int)len;
}

static void p_text(params *p, const char *s)
{
    p_raw(p, s, s ? strlen(s) : 0, 0);
}

static void p_i64(params *p, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    p_text(p, buf);
}

static void p_u64(params *p, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    p_text(p, buf);
}

/* A time: seconds since the epoch as float8 text (exact below 2^53), NULL for 0. */
static void p_time(params *p, int64_t t)
{
    if (t == 0)
        p_raw(p, NULL, 0, 0);
    else
        p_i64(p, t);
}

/* A bound of a range: clamped to +-infinity outside what timestamptz holds. */
static void p_bound(params *p, int64_t t)
{
    if (t < -210000000000LL)
        p_text(p, "-Infinity");
    else if (t > 9000000000000LL)
        p_text(p, "Infinity");
    else
        p_i64(p, t);
}

static void be64(unsigned char *o, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        o[i] = (unsigned char)(v >> (56 - 8 * i));
}
static void be32(unsigned char *o, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        o[i] = (unsigned char)(v >> (24 - 8 * i));
}
static uint64_t rd64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}
static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void p_f8(params *p, double d)
{
    unsigned char b[8];
    uint64_t u;
    memcpy(&u, &d, 8);
    be64(b, u);
    p_raw(p, b, 8, 1);
}

/* One-dimensional arrays in PostgreSQL's binary array format: ndim, has-nulls flag, element
 * type, (length, lower bound 1), then each element as (byte length, bytes). An empty array has
 * ndim 0. kind: 'd' doubles, 'f' floats, 'l' int64, 'i' int32, 's' strings (const char *). */
static void p_array(params *p, char kind, const void *vals, size_t n)
{
    uint32_t oid = kind == 'd'   ? OID_FLOAT8
                   : kind == 'f' ? OID_FLOAT4
                   : kind == 'l' ? OID_INT8
                   : kind == 'i' ? OID_INT4
                                 : OID_TEXT;
    size_t size = 20;
    for (size_t i = 0; i < n; i++) {
        size_t w = kind == 'd' || kind == 'l' ? 8
                   : kind == 's'              ? strlen(((const char *const *)vals)[i])
                                              : 4;
        size += 4 + w;
    }
    unsigned char *b = malloc(size);
    if (!b) {
        p->oom = 1;
        return;
    }
    unsigned char *o = b;
    be32(o, n ? 1 : 0);
    be32(o + 4, 0);
    be32(o + 8, oid);
    o += 12;
    if (n) {
        be32(o, (uint32_t)n);
        be32(o + 4, 1);
        o += 8;
    }
    for (size_t i = 0; i < n; i++) {
        if (kind == 'd' || kind == 'l') {
            uint64_t u;
            if (kind == 'd')
                memcpy(&u, &((const double *)vals)[i], 8);
            else
                memcpy(&u, &((const int64_t *)vals)[i], 8);
            be32(o, 8);
            be64(o + 4, u);
            o += 12;
        } else if (kind == 's') {
            const char *s = ((const char *const *)vals)[i];
            size_t l = strlen(s);
            be32(o, (uint32_t)l);
            memcpy(o + 4, s, l);
            o += 4 + l;
        } else {
            uint32_t u;
            if (kind == 'f')
                memcpy(&u, &((const float *)vals)[i], 4);
            else
                memcpy(&u, &((const int32_t *)vals)[i], 4);
            be32(o, 4);
            be32(o + 4, u);
            o += 8;
        }
    }
    p_raw(p, b, (size_t)(o - b), 1);
    free(b);
}

/* Runs sql with the parameters; results in binary format when binary. NULL only when out of
 * memory (libpq's own failure). */
static void reconnect(pg_store *s);

static PGresult *run(pg_store *s, const char *sql, const params *p, int binary)
{
    /* between transactions only (a transaction never spans two sessions): a connection found
     * lost, before the statement or by it, is re-established and the statement sent once more
     * (a statement that found the connection dead never reached a server) */
    if (!s->in_xact && PQstatus(s->conn) != CONNECTION_OK)
        reconnect(s);
    PGresult *r = PQexecParams(s->conn, sql, p ? p->n : 0, NULL, p ? p->v : NULL, p ? p->len : NULL,
                               p ? p->fmt : NULL, binary);
    if (!s->in_xact && PQstatus(s->conn) != CONNECTION_OK) {
        reconnect(s);
        if (PQstatus(s->conn) == CONNECTION_OK) {
            PQclear(r);
            r = PQexecParams(s->conn, sql, p ? p->n : 0, NULL, p ? p->v : NULL, p ? p->len : NULL,
                             p ? p->fmt : NULL, binary);
        }
    }
    return r;
}

/* Runs a statement that returns no rows (or rows nobody reads); fails naming what. */
static tr_code exec(pg_store *s, const char *sql, const params *p, const char *what, tr_error *err)
{
    if (p && p->oom)
        return tr_fail(err, TR_ERR_NOMEM, "store %s: out of memory (%s)", s->base.safe, what);
    PGresult *r = run(s, sql, p, 0);
    ExecStatusType st = PQresultStatus(r);
    tr_code rc = TR_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = pg_fail(s, r, what, err);
    PQclear(r);
    return rc;
}

/* Runs a query; on success *out holds its rows (the caller PQclears it). */
static tr_code query(pg_store *s, const char *sql, const params *p, int binary, PGresult **out,
                     const char *what, tr_error *err)
{
    *out = NULL;
    if (p && p->oom)
        return tr_fail(err, TR_ERR_NOMEM, "store %s: out of memory (%s)", s->base.safe, what);
    PGresult *r = run(s, sql, p, binary);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        tr_code rc = pg_fail(s, r, what, err);
        PQclear(r);
        return rc;
    }
    *out = r;
    return TR_OK;
}

static tr_code begin(pg_store *s, const char *what, tr_error *err)
{
    tr_code rc = exec(s, "BEGIN", NULL, what, err);
    s->in_xact = rc == TR_OK;
    return rc;
}

static void rollback(pg_store *s)
{
    if (PQstatus(s->conn) == CONNECTION_OK && PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
    }
    s->in_xact = 0;
}

static tr_code commit(pg_store *s, const char *what, tr_error *err)
{
    tr_code rc = exec(s, "COMMIT", NULL, what, err);
    s->in_xact = 0;
    return rc;
}

/* Serialises the transaction with others taking the same name (released at its end). */
static tr_code xact_lock(pg_store *s, const char *name, tr_error *err)
{
    params p = {0};
    p_text(&p, name);
    tr_code rc = exec(s, "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))", &p,
                      "taking a transaction lock", err);
    params_free(&p);
    return rc;
}

static tr_code notify(pg_store *s, const char *channel, const tr_sb *payload, tr_error *err)
{
    if (payload->oom)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    params p = {0};
    p_text(&p, channel);
    p_text(&p, payload->p ? payload->p : "{}");
    tr_code rc = exec(s, "SELECT pg_notify($1::text, $2::text)", &p, "sending an event", err);
    params_free(&p);
    return rc;
}

/* The payload of a signals event (new_prediction, signal_outcome): the count and the first
 * TR_PG_EVENT_SIGNALS signals, each with its id, pair, bar, signal, version and A/B test, and with
 * outcome its outcome and PnL (docs/schema.md). A NOTIFY payload is limited to 8,000 bytes. */
enum { TR_PG_EVENT_SIGNALS = 20 };

static void signals_event(tr_sb *b, const tr_signal *const *sigs, size_t n, int outcome)
{
    char t[32];
    tr_sb_printf(b, "{\"count\":%zu,\"signals\":[", n);
    for (size_t i = 0; i < n && i < TR_PG_EVENT_SIGNALS; i++) {
        const tr_signal *g = sigs[i];
        tr_sb_printf(b, "%s{\"id\":%lld,\"pair\":", i ? "," : "", (long long)g->id);
        tr_sb_json_str(b, g->pair);
        tr_sb_printf(b, ",\"bar_time\":\"%s\",\"signal\":\"%s\",\"model_version\":",
                     tr_time_format(g->bar_time, t, sizeof t), tr_label_name(g->signal));
        tr_sb_json_str(b, g->model_version);
        tr_sb_printf(b, ",\"ab_test_id\":");
        if (g->ab_test_id[0])
            tr_sb_json_str(b, g->ab_test_id);
        else
            tr_sb_printf(b, "null");
        if (outcome)
            tr_sb_printf(b, ",\"outcome\":\"%s\",\"pnl_pips\":%.6g,\"reported\":%s", g->outcome,
                         isfinite(g->pnl_pips) ? g->pnl_pips : 0.0, g->reported ? "true" : "false");
        tr_sb_printf(b, "}");
    }
    tr_sb_printf(b, "],\"more\":%zu}", n > TR_PG_EVENT_SIGNALS ? n - TR_PG_EVENT_SIGNALS : 0);
}

/* ---- reading binary results ------------------------------------------------------------------ */

static int is_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col);
}
static int64_t g_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
    int len = PQgetlength(r, row, col);
    if (len == 8)
        return (int64_t)rd64(p);
    if (len == 4)
        return (int32_t)rd32(p);
    return 0;
}
static double g_f8(const PGresult *r, int row, int col)
{
    uint64_t u = rd64((const unsigned char *)PQgetvalue(r, row, col));
    double d;
    memcpy(&d, &u, 8);
    return d;
}
static int g_bool(const PGresult *r, int row, int col)
{
    return PQgetvalue(r, row, col)[0] != 0;
}
/* A text value into out (size bytes); -1 when it does not fit. */
static int g_text(const PGresult *r, int row, int col, char *out, size_t size)
{
    int len = PQgetlength(r, row, col);
    if (PQgetisnull(r, row, col))
        len = 0;
    if ((size_t)len >= size)
        return -1;
    memcpy(out, PQgetvalue(r, row, col), (size_t)len);
    out[len] = '\0';
    return 0;
}
/* A one-dimensional binary array of 4- or 8-byte elements into out (at most max); the element
 * count in *n. -1 when malformed, longer than max, or holding NULLs. */
static int g_array(const PGresult *r, int row, int col, char kind, void *out, int max, int *n)
{
    *n = 0;
    if (PQgetisnull(r, row, col))
        return -1;
    const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
    int len = PQgetlength(r, row, col);
    if (len < 12)
        return -1;
    uint32_t ndim = rd32(p);
    if (ndim == 0)
        return 0;
    if (ndim != 1 || len < 20)
        return -1;
    uint32_t count = rd32(p + 12);
    size_t w = kind == 'd' || kind == 'l' ? 8 : 4;
    if (count > (uint32_t)max || (size_t)len != 20 + count * (4 + w))
        return -1;
    p += 20;
    for (uint32_t i = 0; i < count; i++, p += 4 + w) {
        if (rd32(p) != w)
            return -1;
        if (w == 8) {
            uint64_t u = rd64(p + 4);
            memcpy((char *)out + i * 8, &u, 8);
        } else {
            uint32_t u = rd32(p + 4);
            memcpy((char *)out + i * 4, &u, 4);
        }
    }
    *n = (int)count;
    return 0;
}

/* ---- tables: columns of each record ------------------------------------------------------- */

/* A registry table: its record's field table (registry/schema.h) gives the columns, in order,
 * with their types; the first column is the key an update finds the row by. */
typedef struct table {
    const tr_schema *schema; /* schema->table is the SQL table */
    const char *order;       /* the column that keeps the program's order: set on insert */
    const char *what;        /* for messages */
    int by_family;           /* rows belong to a family (column family, 008_families.sql) */
} table;

static const table t_versions = {&tr_version_schema, "registered_no", "version", 1};
static const table t_log = {&tr_log_row_schema, NULL, "training log row", 1};
static const table t_acts = {&tr_activation_schema, NULL, "activation", 1};
static const table t_abs = {&tr_ab_test_schema, "created_no", "A/B test", 1};
static const table t_events = {&tr_outbox_event_schema, NULL, "outbox event", 0};

/* The family whose rows this handle reads and writes ("default" for the implicit one). */
static const char *family_of(const pg_store *s)
{
    return s->base.family.name;
}

/* The columns of a table: the leaves of its record (groups flattened, "train_macro_f1"). */
typedef struct cols {
    tr_leaf c[TR_SCHEMA_LEAVES_MAX];
    size_t n;
} cols;

static tr_code table_cols(pg_store *s, const table *t, cols *c, tr_error *err)
{
    c->n = tr_schema_leaves(t->schema, c->c, TR_SCHEMA_LEAVES_MAX);
    if (!c->n || c->n > MAX_PARAMS)
        return tr_fail(err, TR_ERR_INVALID, "store %s: %s: too many columns", s->base.safe,
                       t->schema->table);
    return TR_OK;
}

/* The SQL expression reading column c in the binary form decode_row expects. */
static void select_expr(tr_sb *b, const tr_leaf *c)
{
    switch (c->f->type) {
    case TR_FT_ENUM:
    case TR_FT_U64:
        tr_sb_printf(b, "%s::text", c->column);
        break;
    case TR_FT_TIME:
        tr_sb_printf(b, "extract(epoch FROM %s)::int8", c->column);
        break;
    default:
        tr_sb_printf(b, "%s", c->column);
    }
}

/* The SQL expression of parameter $i for column c: a cast to the column's type. */
static void value_expr(tr_sb *b, const tr_leaf *c, int i)
{
    static const char *const cast[] = {
        [TR_FT_TEXT] = "text",
        [TR_FT_JSON] = "text",
        [TR_FT_INT] = "int4",
        [TR_FT_BOOL] = "bool",
        [TR_FT_INT64] = "int8",
        [TR_FT_TIME] = "float8",
        [TR_FT_U32] = "int8",
        [TR_FT_U64] = "numeric",
        [TR_FT_DOUBLE] = "float8",
        [TR_FT_DOUBLES] = "float8[]",
        [TR_FT_INT64S] = "int8[]",
        [TR_FT_FLOAT_LIST] = "float4[]",
        [TR_FT_DOUBLE_LIST] = "float8[]",
        [TR_FT_ENUM] = "text",
        [TR_FT_GROUP] = "text",
    };
    if (c->f->type == TR_FT_TIME)
        tr_sb_printf(b, "to_timestamp($%d::float8)", i);
    else if (c->f->type == TR_FT_ENUM)
        tr_sb_printf(b, "$%d::%s", i, c->f->enm->sql_type);
    else
        tr_sb_printf(b, "$%d::%s", i, cast[c->f->type]);
}

/* Appends the parameter of column c of the record at base. -1 when the value cannot be stored
 * (an enumeration out of range, a count beyond its array). */
static int bind_col(params *p, const tr_leaf *c, const char *base)
{
    const void *f = base + c->off;
    switch (c->f->type) {
    case TR_FT_TEXT:
    case TR_FT_JSON: {
        /* a char array may lack its NUL only if the program broke it; stop at its size */
        size_t l = strnlen((const char *)f, c->f->size);
        p_raw(p, f, l, 0);
        return 0;
    }
    case TR_FT_INT64:
        p_i64(p, *(const int64_t *)f);
        return 0;
    case TR_FT_INT:
        p_i64(p, *(const int *)f);
        return 0;
    case TR_FT_U32:
        p_i64(p, (int64_t) * (const uint32_t *)f);
        return 0;
    case TR_FT_U64:
        p_u64(p, *(const uint64_t *)f);
        return 0;
    case TR_FT_DOUBLE:
        p_f8(p, *(const double *)f);
        return 0;
    case TR_FT_DOUBLES:
        p_array(p, 'd', f, (size_t)c->f->len);
        return 0;
    case TR_FT_INT64S:
        p_array(p, 'l', f, (size_t)c->f->len);
        return 0;
    case TR_FT_TIME:
        p_time(p, *(const int64_t *)f);
        return 0;
    case TR_FT_BOOL:
        p_text(p, *(const int *)f ? "t" : "f");
        return 0;
    case TR_FT_FLOAT_LIST:
    case TR_FT_DOUBLE_LIST: {
        int n = *(const int *)(const void *)(base + c->count_off);
        if (n < 0 || n > c->f->len)
            return -1;
        p_array(p, c->f->type == TR_FT_FLOAT_LIST ? 'f' : 'd', f, (size_t)n);
        return 0;
    }
    case TR_FT_ENUM: {
        int v = *(const int *)f;
        if (v < 0 || v >= c->f->enm->n)
            return -1;
        p_text(p, c->f->enm->names[v]);
        return 0;
    }
    case TR_FT_GROUP: /* flattened away */
        return -1;
    }
    return -1;
}

/* Binds every column of a record; fails naming the record and column that cannot be stored. */
static tr_code bind_row(pg_store *s, params *p, const table *t, const cols *c, const void *rec,
                        tr_error *err)
{
    for (size_t i = 0; i < c->n; i++)
        if (bind_col(p, &c->c[i], rec))
            return tr_fail(err, TR_ERR_INVALID, "store %s: %s %s: field %s out of range",
                           s->base.safe, t->what, (const char *)rec, c->c[i].column);
    if (p->oom)
        return tr_fail(err, TR_ERR_NOMEM, "store %s: out of memory", s->base.safe);
    return TR_OK;
}

/* Decodes row `row` of a binary result (columns in table order) into the zeroed record rec.
 * -1 naming the column in *bad when a value does not fit its field. */
static int decode_row(const PGresult *r, int row, const cols *cs, void *rec, const char **bad)
{
    char *base = rec;
    for (size_t i = 0; i < cs->n; i++) {
        const tr_leaf *c = &cs->c[i];
        int k = (int)i, n = 0;
        void *f = base + c->off;
        *bad = c->column;
        switch (c->f->type) {
        case TR_FT_TEXT:
        case TR_FT_JSON:
            if (g_text(r, row, k, f, c->f->size))
                return -1;
            break;
        case TR_FT_INT64:
        case TR_FT_TIME:
            *(int64_t *)f = g_i64(r, row, k);
            break;
        case TR_FT_INT:
            *(int *)f = (int)g_i64(r, row, k);
            break;
        case TR_FT_U32:
            *(uint32_t *)f = (uint32_t)g_i64(r, row, k);
            break;
        case TR_FT_U64: {
            char buf[32];
            if (g_text(r, row, k, buf, sizeof buf))
                return -1;
            *(uint64_t *)f = strtoull(buf, NULL, 10);
            break;
        }
        case TR_FT_DOUBLE:
            if (is_null(r, row, k))
                return -1;
            *(double *)f = g_f8(r, row, k);
            break;
        case TR_FT_BOOL:
            *(int *)f = g_bool(r, row, k);
            break;
        case TR_FT_DOUBLES:
        case TR_FT_INT64S:
            if (g_array(r, row, k, c->f->type == TR_FT_DOUBLES ? 'd' : 'l', f, c->f->len, &n) ||
                n != c->f->len)
                return -1;
            break;
        case TR_FT_FLOAT_LIST:
        case TR_FT_DOUBLE_LIST:
            if (g_array(r, row, k, c->f->type == TR_FT_FLOAT_LIST ? 'f' : 'd', f, c->f->len, &n) ||
                n != *(int *)(void *)(base + c->count_off))
                return -1;
            break;
        case TR_FT_ENUM: {
            char buf[32];
            if (g_text(r, row, k, buf, sizeof buf))
                return -1;
            int v = tr_enum_value(c->f->enm, buf);
            if (v < 0)
                return -1;
            *(int *)f = v;
            break;
        }
        case TR_FT_GROUP:
            return -1;
        }
    }
    return 0;
}

/* Reads every row of table t, ordered by ord, into a malloc'd array of its records. */
static tr_code read_table(pg_store *s, const table *t, const char *ord, void **out, size_t *n_out,
                          tr_error *err)
{
    *out = NULL;
    *n_out = 0;
    size_t elem = t->schema->size;
    cols *c = malloc(sizeof *c);
    if (!c)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    tr_code rc = table_cols(s, t, c, err);
    if (rc) {
        free(c);
        return rc;
    }
    tr_sb q = {0};
    tr_sb_printf(&q, "SELECT ");
    for (size_t i = 0; i < c->n; i++) {
        if (i)
            tr_sb_printf(&q, ", ");
        select_expr(&q, &c->c[i]);
    }
    params fp = {0};
    if (t->by_family)
        p_text(&fp, family_of(s));
    tr_sb_printf(&q, " FROM %s%s ORDER BY %s", t->schema->table,
                 t->by_family ? " WHERE family = $1::text" : "", ord);
    if (q.oom || fp.oom) {
        tr_sb_free(&q);
        params_free(&fp);
        free(c);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    }
    PGresult *r;
    char what[96];
    snprintf(what, sizeof what, "reading %s", t->schema->table);
    rc = query(s, q.p, t->by_family ? &fp : NULL, 1, &r, what, err);
    params_free(&fp);
    tr_sb_free(&q);
    if (rc) {
        free(c);
        return rc;
    }
    int rows = PQntuples(r);
    char *v = rows ? calloc((size_t)rows, elem) : NULL;
    if (rows && !v) {
        PQclear(r);
        free(c);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory reading %s", t->schema->table);
    }
    for (int i = 0; i < rows; i++) {
        const char *bad = "";
        tr_schema_init(t->schema, v + (size_t)i * elem);
        if (decode_row(r, i, c, v + (size_t)i * elem, &bad)) {
            rc = tr_fail(err, TR_ERR_FORMAT, "store %s: %s row %d: column %s does not fit",
                         s->base.safe, t->schema->table, i + 1, bad);
            free(v);
            PQclear(r);
            free(c);
            return rc;
        }
    }
    PQclear(r);
    free(c);
    *out = v;
    *n_out = (size_t)rows;
    return TR_OK;
}

/* The whole registry (inside the caller's transaction, if any). */
static tr_code read_registry(pg_store *s, tr_registry *reg, tr_error *err)
{
    tr_registry_init(reg);
    void *p;
    size_t n;
    tr_code rc = read_table(s, &t_versions, "registered_no", &p, &n, err);
    if (rc)
        return rc;
    reg->versions = p;
    reg->n_versions = n;
    rc = read_table(s, &t_log, "log_id", &p, &n, err);
    if (rc)
        goto fail;
    reg->log = p;
    reg->n_log = n;
    rc = read_table(s, &t_acts, "activation_id", &p, &n, err);
    if (rc)
        goto fail;
    reg->activations = p;
    reg->n_activations = n;
    rc = read_table(s, &t_abs, "created_no", &p, &n, err);
    if (rc)
        goto fail;
    reg->abtests = p;
    reg->n_abtests = n;
    /* the outbox is not read (tr_store_outbox_claim lists it); its last id is */
    PGresult *r;
    rc = query(s, "SELECT coalesce(max(event_id), 0)::int8 FROM outbox", NULL, 1, &r,
               "reading the outbox", err);
    if (rc)
        goto fail;
    reg->last_event_id = g_i64(r, 0, 0);
    PQclear(r);
    return TR_OK;
fail:
    tr_registry_free(reg);
    return rc;
}

/* Writes one record: an INSERT (with its order number when the table keeps one), or when
 * update an UPDATE of every column of the row whose key (the first column) is the record's. */
static tr_code write_row(pg_store *s, const table *t, const void *rec, int update, int64_t order_no,
                         tr_error *err)
{
    params p = {0};
    tr_sb q = {0};
    cols *c = malloc(sizeof *c);
    if (!c)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    tr_code rc = table_cols(s, t, c, err);
    if (!rc)
        rc = bind_row(s, &p, t, c, rec, err);
    if (rc)
        goto done;
    if (update) {
        tr_sb_printf(&q, "UPDATE %s SET ", t->schema->table);
        for (size_t i = 1; i < c->n; i++) {
            tr_sb_printf(&q, "%s%s = ", i > 1 ? ", " : "", c->c[i].column);
            value_expr(&q, &c->c[i], (int)i + 1);
        }
        tr_sb_printf(&q, " WHERE %s = ", c->c[0].column);
        value_expr(&q, &c->c[0], 1);
        if (t->by_family) {
            p_text(&p, family_of(s));
            tr_sb_printf(&q, " AND family = $%d::text", p.n);
        }
    } else {
        tr_sb_printf(&q, "INSERT INTO %s (", t->schema->table);
        for (size_t i = 0; i < c->n; i++)
            tr_sb_printf(&q, "%s%s", i ? ", " : "", c->c[i].column);
        if (t->order)
            tr_sb_printf(&q, ", %s", t->order);
        if (t->by_family)
            tr_sb_printf(&q, ", family");
        tr_sb_printf(&q, ") VALUES (");
        for (size_t i = 0; i < c->n; i++) {
            if (i)
                tr_sb_printf(&q, ", ");
            value_expr(&q, &c->c[i], (int)i + 1);
        }
        if (t->order) {
            p_i64(&p, order_no);
            tr_sb_printf(&q, ", $%d::int8", p.n);
        }
        if (t->by_family) {
            p_text(&p, family_of(s));
            tr_sb_printf(&q, ", $%d::text", p.n);
        }
        tr_sb_printf(&q, ")");
    }
    if (q.oom || p.oom) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
        goto done;
    }
    char what[160];
    snprintf(what, sizeof what, "%s %s %s", update ? "updating" : "adding", t->what,
             !update && (t == &t_log || t == &t_acts) ? "" : (const char *)rec);
    rc = exec(s, q.p, &p, what, err);
done:
    tr_sb_free(&q);
    params_free(&p);
    free(c);
    return rc;
}

static tr_code insert_row(pg_store *s, const table *t, const void *rec, int64_t order_no,
                          tr_error *err)
{
    return write_row(s, t, rec, 0, order_no, err);
}

static tr_code update_row(pg_store *s, const table *t, const void *rec, tr_error *err)
{
    return write_row(s, t, rec, 1, 0, err);
}

/* 1 when two records store the same values (their parameters are byte for byte the same). */
static int same_row(const table *t, const void *a, const void *b)
{
    cols *c = malloc(sizeof *c);
    if (!c)
        return 0;
    c->n = tr_schema_leaves(t->schema, c->c, TR_SCHEMA_LEAVES_MAX);
    params pa = {0}, pb = {0};
    int same = c->n > 0;
    for (size_t i = 0; i < c->n && same; i++) {
        int ea = bind_col(&pa, &c->c[i], a), eb = bind_col(&pb, &c->c[i], b);
        int k = pa.n - 1;
        if (ea || eb || pa.oom || pb.oom || pa.len[k] != pb.len[k] || pa.fmt[k] != pb.fmt[k] ||
            (pa.v[k] == NULL) != (pb.v[k] == NULL) ||
            (pa.v[k] && memcmp(pa.v[k], pb.v[k], (size_t)pa.len[k]) != 0))
            same = 0;
    }
    params_free(&pa);
    params_free(&pb);
    free(c);
    return same;
}

/* ---- the registry ------------------------------------------------------------------------- */

static tr_code pg_registry_read(tr_store *st, tr_registry *reg, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    /* one snapshot for the four tables */
    tr_code rc = exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL,
                      "reading the registry", err);
    if (rc)
        return rc;
    rc = read_registry(s, reg, err);
    if (rc) {
        rollback(s);
        return rc;
    }
    rc = commit(s, "reading the registry", err);
    if (rc)
        tr_registry_free(reg);
    return rc;
}

static const tr_version *find_version(const tr_registry *reg, const char *name)
{
    return tr_registry_find(reg, name);
}

static const tr_ab_test *find_ab(const tr_registry *reg, const char *id)
{
    return tr_registry_find_ab(reg, id);
}

/* A deep copy of the registry's arrays. */
static int copy_registry(const tr_registry *a, tr_registry *b)
{
    tr_registry_init(b);
    b->versions = malloc((a->n_versions + 1) * sizeof *b->versions);
    b->log = malloc((a->n_log + 1) * sizeof *b->log);
    b->activations = malloc((a->n_activations + 1) * sizeof *b->activations);
    b->abtests = malloc((a->n_abtests + 1) * sizeof *b->abtests);
    if (!b->versions || !b->log || !b->activations || !b->abtests)
        return -1;
    if (a->n_versions)
        memcpy(b->versions, a->versions, a->n_versions * sizeof *b->versions);
    if (a->n_log)
        memcpy(b->log, a->log, a->n_log * sizeof *b->log);
    if (a->n_activations)
        memcpy(b->activations, a->activations, a->n_activations * sizeof *b->activations);
    if (a->n_abtests)
        memcpy(b->abtests, a->abtests, a->n_abtests * sizeof *b->abtests);
    b->last_event_id = a->last_event_id; /* the outbox itself is not read (n_events 0) */
    b->n_versions = a->n_versions;
    b->n_log = a->n_log;
    b->n_activations = a->n_activations;
    b->n_abtests = a->n_abtests;
    return 0;
}

/* Writes the difference between old and cur (cur = old after tr_registry_apply). */
static tr_code write_changes(pg_store *s, const tr_registry *old, const tr_registry *cur,
                             tr_error *err)
{
    tr_code rc = TR_OK;
    /* versions: first those that stop being active (the one-active index checks each row),
     * then the other changed ones, then the new ones */
    for (int pass = 0; pass < 2 && !rc; pass++) {
        for (size_t i = 0; i < cur->n_versions && !rc; i++) {
            const tr_version *v = &cur->versions[i];
            const tr_version *o = find_version(old, v->version);
            if (!o) {
                if (pass == 1)
                    rc = insert_row(s, &t_versions, v, (int64_t)i + 1, err);
                continue;
            }
            int clearing = o->is_active && !v->is_active;
            if (clearing != (pass == 0))
                continue;
            if (!same_row(&t_versions, o, v))
                rc = update_row(s, &t_versions, v, err);
        }
    }
    for (size_t i = old->n_log; i < cur->n_log && !rc; i++)
        rc = insert_row(s, &t_log, &cur->log[i], 0, err);
    for (size_t i = old->n_activations; i < cur->n_activations && !rc; i++)
        rc = insert_row(s, &t_acts, &cur->activations[i], 0, err);
    for (size_t i = 0; i < cur->n_abtests && !rc; i++) {
        const tr_ab_test *a = &cur->abtests[i];
        const tr_ab_test *o = find_ab(old, a->id);
        if (!o)
            rc = insert_row(s, &t_abs, a, (int64_t)i + 1, err);
        else if (!same_row(&t_abs, o, a))
            rc = update_row(s, &t_abs, a, err);
    }
    /* the outbox: the events tr_registry_apply appended, in this same transaction */
    for (size_t i = old->n_events; i < cur->n_events && !rc; i++)
        rc = insert_row(s, &t_events, &cur->events[i], 0, err);
    return rc;
}

/* The events of a commit: training_completed per new version, model_deployed per activation. */
static tr_code registry_events(pg_store *s, const tr_registry *old, const tr_registry *cur,
                               tr_error *err)
{
    tr_code rc = TR_OK;
    for (size_t i = 0; i < cur->n_versions && !rc; i++) {
        const tr_version *v = &cur->versions[i];
        if (find_version(old, v->version))
            continue;
        const char *cycle = tr_version_type_name(v->type);
        for (size_t j = old->n_log; j < cur->n_log; j++)
            if (strcmp(cur->log[j].version, v->version) == 0)
                cycle = cur->log[j].cycle;
        tr_sb b = {0};
        tr_sb_printf(&b, "{\"version\":");
        tr_sb_json_str(&b, v->version);
        tr_sb_printf(&b,
                     ",\"type\":\"%s\",\"status\":\"%s\",\"cycle\":", tr_version_type_name(v->type),
                     tr_version_status_name(v->status));
        tr_sb_json_str(&b, cycle);
        tr_sb_printf(&b, "}");
        rc = notify(s, "training_completed", &b, err);
        tr_sb_free(&b);
    }
    for (size_t i = old->n_activations; i < cur->n_activations && !rc; i++) {
        const tr_activation *a = &cur->activations[i];
        char at[32];
        tr_sb b = {0};
        tr_sb_printf(&b, "{\"from\":");
        tr_sb_json_str(&b, a->from);
        tr_sb_printf(&b, ",\"to\":");
        tr_sb_json_str(&b, a->to);
        tr_sb_printf(&b, ",\"reason\":");
        tr_sb_json_str(&b, a->reason);
        tr_sb_printf(&b, ",\"at\":\"%s\"}", tr_time_format(a->at, at, sizeof at));
        rc = notify(s, "model_deployed", &b, err);
        tr_sb_free(&b);
    }
    return rc;
}

static tr_code check_lock_tokens(pg_store *s, tr_error *err);
static tr_code check_job_fence(pg_store *s, const tr_job_fence *f, char *cycle, size_t size,
                               int64_t *slot, tr_error *err);
static tr_code finish_fenced_job(pg_store *s, const tr_reg_txn *txn, const char *cycle,
                                 int64_t slot, tr_error *err);
typedef struct txn_file {
    char *data; /* the bytes read from the file's path, checked */
    size_t len;
    uint32_t crc;
} txn_file;
static tr_code txn_files_read(pg_store *s, const tr_reg_txn *txn, txn_file *out, tr_error *err);
static tr_code txn_files_insert(pg_store *s, const tr_reg_txn *txn, const txn_file *f,
                                tr_error *err);
static void txn_files_free(txn_file *f, size_t n);

static tr_code pg_registry_commit(tr_store *st, const tr_reg_txn *txn, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    tr_registry old, cur;
    tr_registry_init(&old);
    tr_registry_init(&cur);
    char job_cycle[TR_JOB_CYCLE_MAX] = "";
    int64_t job_slot = 0;
    /* the files' bytes, read and checked before the transaction holds the registry's lock */
    txn_file *files = txn->n_files ? calloc(txn->n_files, sizeof *files) : NULL;
    if (txn->n_files && !files)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory reading the files of a registry change");
    tr_code rc = txn_files_read(s, txn, files, err);
    if (!rc)
        rc = begin(s, "committing to the registry", err);
    if (rc) {
        txn_files_free(files, txn->n_files);
        return rc;
    }
    rc = xact_lock(s, "aifx:registry", err);
    if (!rc)
        rc = check_lock_tokens(s, err);
    if (!rc && txn->job) /* the fencing token of a queued job (docs/schema.md 5.14) */
        rc = check_job_fence(s, txn->job, job_cycle, sizeof job_cycle, &job_slot, err);
    if (rc)
        goto done;
    rc = read_registry(s, &old, err);
    if (rc)
        goto done;
    if (copy_registry(&old, &cur)) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = tr_registry_apply(&cur, txn, err);
    if (rc)
        goto done;
    rc = write_changes(s, &old, &cur, err);
    if (rc)
        goto done;
    /* the versions' files, in the transaction that registers them (docs/schema.md 5.16) */
    rc = txn_files_insert(s, txn, files, err);
    if (!rc)
        rc = registry_events(s, &old, &cur, err);
    if (!rc && txn->job)
        rc = finish_fenced_job(s, txn, job_cycle, job_slot, err);
    if (rc)
        goto done;
    rc = commit(s, "committing to the registry", err);
done:
    if (rc)
        rollback(s);
    tr_registry_free(&old);
    tr_registry_free(&cur);
    txn_files_free(files, txn->n_files);
    return rc;
}

/* ---- market data ---------------------------------------------------------------------------- */

static tr_code copy_bars(pg_store *s, const tr_bar *bars, size_t n, tr_error *err)
{
    PGresult *r = PQexec(s->conn, "COPY aifx_staging (ord, t, ts, open, high, low, close, volume) "
                                  "FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        tr_code rc = pg_fail(s, r, "loading bars (COPY)", err);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    tr_sb b = {0};
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        char ts[32];
        const tr_bar *x = &bars[i];
        tr_sb_printf(&b, "%zu\t%lld\t%s\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g\n", i, (long long)x->t,
                     tr_time_format(x->t, ts, sizeof ts), x->open, x->high, x->low, x->close,
                     x->volume);
        if (b.oom)
            break;
        if (b.n >= (1u << 16) || i + 1 == n) {
            ok = PQputCopyData(s->conn, b.p, (int)b.n) == 1;
            b.n = 0;
        }
    }
    int oom = b.oom;
    tr_sb_free(&b);
    if (PQputCopyEnd(s->conn, ok && !oom ? NULL : "aborted by aifx-train") != 1)
        ok = 0;
    tr_code rc = TR_OK;
    while ((r = PQgetResult(s->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && !rc)
            rc = pg_fail(s, r, "loading bars (COPY)", err);
        PQclear(r);
    }
    if (!rc && oom)
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory loading bars");
    if (!rc && !ok)
        rc = pg_fail(s, NULL, "loading bars (COPY)", err);
    return rc;
}

/* Bitwise equality of stored and new bar values (float8send: -0 and 0 differ, as in C). */
#define SAME_BAR(m, x)                                                                             \
    "(float8send(" m ".open), float8send(" m ".high), float8send(" m ".low), float8send(" m        \
    ".close), float8send(" m ".volume)) = (float8send(" x ".open), float8send(" x                  \
    ".high), float8send(" x ".low), float8send(" x ".close), float8send(" x ".volume))"

/* The staged bars beside the stored ones at their times; $4 and $5 bound the stored bars' times
 * to the batch's range, so that the index serves a batch in a long series. */
static const char bars_join[] =
    "FROM aifx_staging s LEFT JOIN market_data m ON m.pair = $1::text AND m.timeframe = $2::int4 "
    "AND m.\"timestamp\" = s.ts AND m.\"timestamp\" >= to_timestamp($4::float8) AND "
    "m.\"timestamp\" <= to_timestamp($5::float8)";

static tr_code pg_bars_put(tr_store *st, const char *pair, int32_t tf, const tr_bar *bars, size_t n,
                           int replace, tr_put_stats *stats, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    char tfn[16], ts[32];
    tr_timeframe_name(tf, tfn, sizeof tfn);
    if (s->bars_backend)
        return tr_fail(err, TR_ERR_UNSUPPORTED,
                       "store %s reads its bars from the backend's table (db migrate --bars-from), "
                       "which only the backend's collection service writes",
                       s->base.safe);
    /* validity, grid and order were checked by tr_store_bars_put */
    if (n == 0)
        return TR_OK;
    params p = {0};
    PGresult *r = NULL;
    tr_sb lock = {0}, q = {0};
    tr_code rc = begin(s, "storing bars", err);
    if (rc)
        return rc;
    tr_sb_printf(&lock, "aifx:bars:%s:%d", pair, (int)tf);
    rc = lock.oom ? tr_fail(err, TR_ERR_NOMEM, "out of memory") : xact_lock(s, lock.p, err);
    if (rc)
        goto done;
    rc = exec(s,
              "CREATE TEMP TABLE aifx_staging (ord int8 NOT NULL, t int8 NOT NULL, ts timestamptz "
              "NOT NULL, open float8, high float8, low float8, close float8, volume float8) "
              "ON COMMIT DROP",
              NULL, "storing bars (staging table)", err);
    if (rc)
        goto done;
    rc = copy_bars(s, bars, n, err);
    if (rc)
        goto done;
    rc = exec(s, "ANALYZE aifx_staging", NULL, "storing bars (staging table)", err);
    if (rc)
        goto done;
    /* the first conflict (a stored bar that differs), then the counts before it */
    p_text(&p, pair);
    p_i64(&p, tf);
    tr_sb_printf(
        &q,
        "WITH j AS (SELECT s.ord, s.t, m.\"timestamp\" IS NOT NULL AS stored, "
        "coalesce(" SAME_BAR(
            "m",
            "s") ", false) AS same %s), "
                 "c AS (SELECT min(ord) AS ord FROM j WHERE stored AND NOT same AND NOT $3::bool) "
                 "SELECT count(*) FILTER (WHERE NOT stored AND j.ord < coalesce(c.ord, j.ord + "
                 "1)), "
                 "count(*) FILTER (WHERE stored AND same AND j.ord < coalesce(c.ord, j.ord + 1)), "
                 "count(*) FILTER (WHERE stored AND NOT same AND j.ord < coalesce(c.ord, j.ord + "
                 "1)), "
                 "min(j.t) FILTER (WHERE NOT stored), max(j.t) FILTER (WHERE NOT stored), c.ord "
                 "FROM j CROSS JOIN c GROUP BY c.ord",
        bars_join);
    p_text(&p, replace ? "t" : "f");
    p_i64(&p, bars[0].t);
    p_i64(&p, bars[n - 1].t);
    rc = q.oom ? tr_fail(err, TR_ERR_NOMEM, "out of memory")
               : query(s, q.p, &p, 1, &r, "storing bars (comparing)", err);
    if (rc)
        goto done;
    stats->n_added = (size_t)g_i64(r, 0, 0);
    stats->n_unchanged = (size_t)g_i64(r, 0, 1);
    stats->n_replaced = (size_t)g_i64(r, 0, 2);
    int64_t first = g_i64(r, 0, 3), last = g_i64(r, 0, 4);
    int conflict = !is_null(r, 0, 5);
    size_t cidx = (size_t)g_i64(r, 0, 5);
    PQclear(r);
    r = NULL;
    if (conflict) {
        stats->conflict = cidx;
        const tr_bar *nb = &bars[cidx];
        params pc = {0};
        p_text(&pc, pair);
        p_i64(&pc, tf);
        p_i64(&pc, (int64_t)cidx);
        p_i64(&pc, bars[0].t);
        p_i64(&pc, bars[n - 1].t);
        tr_sb_free(&q);
        tr_sb_printf(&q,
                     "SELECT m.open, m.high, m.low, m.close, m.volume %s WHERE s.ord = $3::int8",
                     bars_join);
        rc = q.oom ? tr_fail(err, TR_ERR_NOMEM, "out of memory")
                   : query(s, q.p, &pc, 1, &r, "storing bars (conflict)", err);
        params_free(&pc);
        if (rc)
            goto done;
        rc = tr_fail(err, TR_ERR_CONFLICT,
                     "%s %s bar %s conflicts with the stored bar (stored o/h/l/c/v "
                     "%.10g/%.10g/%.10g/%.10g/%.10g, new %.10g/%.10g/%.10g/%.10g/%.10g); "
                     "use --replace to overwrite",
                     pair, tfn, tr_time_format(nb->t, ts, sizeof ts), g_f8(r, 0, 0), g_f8(r, 0, 1),
                     g_f8(r, 0, 2), g_f8(r, 0, 3), g_f8(r, 0, 4), nb->open, nb->high, nb->low,
                     nb->close, nb->volume);
        goto done;
    }
    if (stats->n_added == 0 && stats->n_replaced == 0)
        goto done; /* nothing changes: nothing is written (the transaction rolls back) */
    tr_sb_free(&q);
    tr_sb_printf(
        &q,
        "INSERT INTO market_data (pair, timeframe, \"timestamp\", open, high, low, close, "
        "volume) SELECT $1::text, $2::int4, ts, open, high, low, close, volume FROM "
        "aifx_staging ORDER BY ord ON CONFLICT (pair, timeframe, \"timestamp\") DO UPDATE "
        "SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = "
        "EXCLUDED.close, volume = EXCLUDED.volume WHERE NOT " SAME_BAR("market_data", "EXCLUDED"));
    params_free(&p);
    p_text(&p, pair);
    p_i64(&p, tf);
    rc =
        q.oom ? tr_fail(err, TR_ERR_NOMEM, "out of memory") : exec(s, q.p, &p, "storing bars", err);
    if (rc)
        goto done;
    if (stats->n_added) {
        char a[32], b2[32];
        tr_sb ev = {0};
        tr_sb_printf(&ev, "{\"pair\":");
        tr_sb_json_str(&ev, pair);
        tr_sb_printf(&ev, ",\"timeframe\":\"%s\",\"n_added\":%zu,\"first\":\"%s\",\"last\":\"%s\"}",
                     tfn, stats->n_added, tr_time_format(first, a, sizeof a),
                     tr_time_format(last, b2, sizeof b2));
        rc = notify(s, "new_market_data", &ev, err);
        tr_sb_free(&ev);
        if (rc)
            goto done;
    }
    rc = commit(s, "storing bars", err);
done:
    PQclear(r);
    if (rc || PQtransactionStatus(s->conn) != PQTRANS_IDLE)
        rollback(s);
    params_free(&p);
    tr_sb_free(&q);
    tr_sb_free(&lock);
    return rc;
}

/* Where the bars are read: our market_data, or the view of the backend's table (backend_bars,
 * db migrate --bars-from), both with our column names and types. */
static const char *bars_relation(const pg_store *s)
{
    return s->bars_backend ? "backend_bars" : "market_data";
}

static tr_code pg_bars_get(tr_store *st, const char *pair, int32_t tf, int64_t from, int64_t to,
                           tr_bars *out, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    params p = {0};
    p_text(&p, pair);
    p_i64(&p, tf);
    p_bound(&p, from);
    p_bound(&p, to);
    PGresult *r;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT extract(epoch FROM \"timestamp\")::int8, open, high, low, close, volume "
             "FROM %s WHERE pair = $1::text AND timeframe = $2::int4 AND \"timestamp\" >= "
             "to_timestamp($3::float8) AND \"timestamp\" < to_timestamp($4::float8) ORDER BY "
             "\"timestamp\"",
             bars_relation(s));
    tr_code rc = query(s, sql, &p, 1, &r, "reading bars", err);
    if (rc) {
        params_free(&p);
        return rc;
    }
    int rows = PQntuples(r);
    if (rows == 0) {
        /* no bar in the range: an empty range of an existing series, or no series */
        PQclear(r);
        params pe = {0};
        p_text(&pe, pair);
        p_i64(&pe, tf);
        snprintf(sql, sizeof sql,
                 "SELECT 1 FROM %s WHERE pair = $1::text AND timeframe = $2::int4 LIMIT 1",
                 bars_relation(s));
        rc = query(s, sql, &pe, 1, &r, "reading bars", err);
        params_free(&pe);
        params_free(&p);
        if (rc)
            return rc;
        rows = PQntuples(r);
        PQclear(r);
        if (rows == 0) {
            char tfn[16];
            return tr_fail(err, TR_ERR_NOTFOUND, "store %s has no bars for %s %s", s->base.safe,
                           pair, tr_timeframe_name(tf, tfn, sizeof tfn));
        }
        return TR_OK;
    }
    params_free(&p);
    rc = tr_bars_reserve(out, out->n + (size_t)rows, err);
    if (rc == TR_OK) {
        for (int i = 0; i < rows; i++) {
            tr_bar *b = &out->v[out->n++];
            b->t = g_i64(r, i, 0);
            b->open = g_f8(r, i, 1);
            b->high = g_f8(r, i, 2);
            b->low = g_f8(r, i, 3);
            b->close = g_f8(r, i, 4);
            b->volume = g_f8(r, i, 5);
        }
    }
    PQclear(r);
    return rc;
}

static tr_code pg_series_list(tr_store *st, tr_series_info **list, size_t *n_out, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    PGresult *r;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT pair, timeframe, count(*)::int8, extract(epoch FROM "
             "min(\"timestamp\"))::int8, extract(epoch FROM max(\"timestamp\"))::int8 FROM %s "
             "GROUP BY pair, timeframe "
             "ORDER BY pair COLLATE \"C\", timeframe",
             bars_relation(s));
    tr_code rc = query(s, sql, NULL, 1, &r, "listing series", err);
    if (rc)
        return rc;
    int rows = PQntuples(r);
    tr_series_info *v = calloc((size_t)rows + 1, sizeof *v);
    if (!v) {
        PQclear(r);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory listing series");
    }
    size_t n = 0;
    for (int i = 0; i < rows; i++) {
        tr_series_info *x = &v[n];
        if (g_text(r, i, 0, x->pair, sizeof x->pair))
            continue; /* a name longer than the program's pairs: not one of its series */
        x->timeframe = (int32_t)g_i64(r, i, 1);
        x->count = (size_t)g_i64(r, i, 2);
        x->first = g_i64(r, i, 3);
        x->last = g_i64(r, i, 4);
        n++;
    }
    PQclear(r);
    *list = v;
    *n_out = n;
    return TR_OK;
}

/* ---- trading signals ------------------------------------------------------------------------ */

/* The columns of a signal as decode_signal reads them, from a row of trading_signals `t`. */
#define SIGNAL_COLUMNS                                                                             \
    "t.signal_no, t.pair, t.timeframe, extract(epoch FROM t.bar_time)::int8, t.signal::text, "     \
    "t.confidence, t.prob_hold, t.prob_buy, t.prob_sell, t.model_version, "                        \
    "coalesce(t.ab_test_id, ''), extract(epoch FROM t.created_at)::int8, "                         \
    "t.actual_outcome::text, extract(epoch FROM t.exit_time)::int8, t.exit_price, t.pnl_pips, "    \
    "t.pnl_percent, t.outcome_reported"

/* Row i of r, from column c0 on (SIGNAL_COLUMNS), into g; TR_ERR_FORMAT when a text does not
 * fit its field. */
static tr_code decode_signal(pg_store *s, PGresult *r, int i, int c0, tr_signal *g, tr_error *err)
{
    char sig[8];
    memset(g, 0, sizeof *g);
    g->id = g_i64(r, i, c0 + 0);
    int bad = g_text(r, i, c0 + 1, g->pair, sizeof g->pair) ||
              g_text(r, i, c0 + 4, sig, sizeof sig) ||
              g_text(r, i, c0 + 9, g->model_version, sizeof g->model_version) ||
              g_text(r, i, c0 + 10, g->ab_test_id, sizeof g->ab_test_id) ||
              g_text(r, i, c0 + 12, g->outcome, sizeof g->outcome);
    if (bad)
        return tr_fail(err, TR_ERR_FORMAT, "store %s: signal %lld has a field that does not fit",
                       s->base.safe, (long long)g->id);
    g->timeframe = (int32_t)g_i64(r, i, c0 + 2);
    g->bar_time = g_i64(r, i, c0 + 3);
    g->signal = TR_LABEL_HOLD;
    for (int k = TR_LABEL_HOLD; k <= TR_LABEL_SELL; k++)
        if (strcmp(sig, tr_label_name(k)) == 0)
            g->signal = k;
    g->confidence = g_f8(r, i, c0 + 5);
    for (int k = 0; k < 3; k++)
        g->probs[k] = g_f8(r, i, c0 + 6 + k);
    g->created_at = g_i64(r, i, c0 + 11);
    g->exit_time = g_i64(r, i, c0 + 13);
    g->exit_price = g_f8(r, i, c0 + 14);
    g->pnl_pips = g_f8(r, i, c0 + 15);
    g->pnl_percent = g_f8(r, i, c0 + 16);
    g->reported = g_bool(r, i, c0 + 17);
    return TR_OK;
}

/* The same signal key: (pair, bar, model version, A/B test). */
static int same_signal(const tr_signal *a, const tr_signal *b)
{
    return a->bar_time == b->bar_time && strcmp(a->pair, b->pair) == 0 &&
           strcmp(a->model_version, b->model_version) == 0 &&
           strcmp(a->ab_test_id, b->ab_test_id) == 0;
}

/* Marks in stored[] the signals of sigs (n) that trading_signals holds already, replacing each
 * with the stored record. Runs inside the signals' transaction lock. */
static tr_code find_stored_signals(pg_store *s, tr_signal *sigs, size_t n, unsigned char *stored,
                                   tr_error *err)
{
    const char **pairs = malloc(n * sizeof *pairs), **ver = malloc(n * sizeof *ver);
    const char **ab = malloc(n * sizeof *ab);
    int64_t *bar = malloc(n * sizeof *bar);
    params p = {0};
    PGresult *r = NULL;
    tr_code rc = TR_OK;
    if (!pairs || !ver || !ab || !bar) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory storing %zu signals", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        pairs[i] = sigs[i].pair;
        bar[i] = sigs[i].bar_time;
        ver[i] = sigs[i].model_version;
        ab[i] = sigs[i].ab_test_id;
    }
    p_array(&p, 's', pairs, n);
    p_array(&p, 'l', bar, n);
    p_array(&p, 's', ver, n);
    p_array(&p, 's', ab, n);
    p_text(&p, family_of(s));
    rc = query(s,
               "SELECT u.i::int8, " SIGNAL_COLUMNS " FROM unnest($1::text[], $2::int8[], "
               "$3::text[], $4::text[]) WITH ORDINALITY AS u(pair, bar, ver, ab, i) JOIN "
               "trading_signals t ON t.family = $5::text AND t.pair = u.pair AND t.bar_time = "
               "to_timestamp(u.bar) AND t.model_version = u.ver AND coalesce(t.ab_test_id, '') = "
               "u.ab",
               &p, 1, &r, "storing signals (looking for stored ones)", err);
    if (rc)
        goto out;
    for (int row = 0; row < PQntuples(r) && !rc; row++) {
        int64_t i = g_i64(r, row, 0) - 1;
        if (i < 0 || (size_t)i >= n || stored[i])
            continue; /* a key stored twice by an older program: the first row read stands */
        rc = decode_signal(s, r, row, 1, &sigs[i], err);
        stored[i] = 1;
    }
out:
    PQclear(r);
    params_free(&p);
    free(pairs);
    free(ver);
    free(ab);
    free(bar);
    return rc;
}

static tr_code pg_signals_append(tr_store *st, tr_signal *sigs, size_t n, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    for (size_t i = 0; i < n; i++)
        if (!tr_pair_valid(sigs[i].pair) || sigs[i].timeframe <= 0 ||
            !tr_version_name_valid(sigs[i].model_version) || sigs[i].signal < 0 ||
            sigs[i].signal > 2)
            return tr_fail(err, TR_ERR_INVALID,
                           "signal %zu of %zu: bad pair, timeframe, version or signal", i + 1, n);
    if (n == 0)
        return TR_OK;
    if (n > INT32_MAX / 2)
        return tr_fail(err, TR_ERR_INVALID, "too many signals at once (%zu)", n);
    const size_t n_total = n;
    /* one array per column */
    int64_t *i64 = malloc(n * 5 * sizeof *i64);
    int32_t *tfs = malloc(n * sizeof *tfs);
    double *dbl = malloc(n * 7 * sizeof *dbl);
    const char **str = malloc(n * 5 * sizeof *str);
    unsigned char *stored = calloc(n, 1);
    size_t *fresh = malloc(n * sizeof *fresh), *dup_of = calloc(n, sizeof *dup_of);
    params p = {0};
    PGresult *r = NULL;
    tr_code rc = TR_OK;
    if (!i64 || !tfs || !dbl || !str || !stored || !fresh || !dup_of) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory storing %zu signals", n);
        goto out;
    }
    rc = begin(s, "storing signals", err);
    if (rc)
        goto out;
    rc = xact_lock(s, "aifx:signals", err);
    if (rc)
        goto done;
    /* a signal is unique per (pair, bar, version, A/B test): one stored already, or given twice
     * here, is returned as stored rather than recorded again */
    rc = find_stored_signals(s, sigs, n, stored, err);
    if (rc)
        goto done;
    size_t n_new = 0;
    for (size_t i = 0; i < n; i++) {
        if (stored[i])
            continue;
        size_t j = 0;
        while (j < n_new && !same_signal(&sigs[fresh[j]], &sigs[i]))
            j++;
        if (j == n_new)
            fresh[n_new++] = i;
        else
            dup_of[i] = fresh[j] + 1;
    }
    if (n_new == 0) {
        rc = commit(s, "storing signals", err);
        goto done;
    }
    p_i64(&p, (int64_t)n_new);
    rc = query(s,
               "SELECT nextval(pg_get_serial_sequence('trading_signals', 'signal_no')) FROM "
               "generate_series(1, $1::int4)",
               &p, 1, &r, "storing signals (numbering)", err);
    params_free(&p);
    if (rc)
        goto done;
    int64_t *id = i64, *bar = i64 + n, *created = i64 + 2 * n, *exit_t = i64 + 3 * n;
    for (size_t i = 0; i < n_new; i++)
        id[i] = g_i64(r, (int)i, 0);
    PQclear(r);
    r = NULL;
    /* ascending, in the order given */
    for (size_t i = 1; i < n_new; i++)
        for (size_t j = i; j > 0 && id[j] < id[j - 1]; j--) {
            int64_t x = id[j];
            id[j] = id[j - 1];
            id[j - 1] = x;
        }
    const char **pairs = str, **sig = str + n, **ver = str + 2 * n, **ab = str + 3 * n,
               **outc = str + 4 * n;
    n = n_new; /* the columns below hold the new signals only, in the order given */
    for (size_t i = 0; i < n; i++) {
        const tr_signal *g = &sigs[fresh[i]];
        bar[i] = g->bar_time;
        created[i] = g->created_at;
        exit_t[i] = g->exit_time;
        tfs[i] = g->timeframe;
        pairs[i] = g->pair;
        sig[i] = tr_label_name(g->signal); /* the names of signal_type */
        ver[i] = g->model_version;
        ab[i] = g->ab_test_id;
        outc[i] = g->outcome[0] ? g->outcome : "open";
        dbl[i] = g->confidence;
        for (int k = 0; k < 3; k++)
            dbl[(size_t)(1 + k) * n + i] = g->probs[k];
        dbl[4 * n + i] = g->exit_price;
        dbl[5 * n + i] = g->pnl_pips;
        dbl[6 * n + i] = g->pnl_percent;
    }
    p_array(&p, 'l', id, n);
    p_array(&p, 's', pairs, n);
    p_array(&p, 'i', tfs, n);
    p_array(&p, 'l', bar, n);
    p_array(&p, 's', sig, n);
    for (int k = 0; k < 4; k++)
        p_array(&p, 'd', dbl + (size_t)k * n, n);
    p_array(&p, 's', ver, n);
    p_array(&p, 's', ab, n);
    p_array(&p, 'l', created, n);
    p_array(&p, 's', outc, n);
    p_array(&p, 'l', exit_t, n);
    for (int k = 4; k < 7; k++)
        p_array(&p, 'd', dbl + (size_t)k * n, n);
    p_text(&p, family_of(s));
    rc = exec(
        s,
        "INSERT INTO trading_signals (signal_no, pair, timeframe, bar_time, signal, "
        "confidence, prob_hold, prob_buy, prob_sell, model_version, ab_test_id, created_at, "
        "actual_outcome, exit_time, exit_price, pnl_pips, pnl_percent, family) OVERRIDING SYSTEM "
        "VALUE SELECT id, pair, tf, to_timestamp(bar), sig::signal_type, conf, ph, pb, ps, "
        "ver, nullif(ab, ''), CASE WHEN created = 0 THEN NULL ELSE to_timestamp(created) END, "
        "outc::signal_outcome, CASE WHEN ex = 0 THEN NULL ELSE to_timestamp(ex) END, xp, pips, "
        "pct, $18::text FROM unnest($1::int8[], $2::text[], $3::int4[], $4::int8[], $5::text[], "
        "$6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::text[], $11::text[], "
        "$12::int8[], $13::text[], $14::int8[], $15::float8[], $16::float8[], $17::float8[]) "
        "AS u(id, pair, tf, bar, sig, conf, ph, pb, ps, ver, ab, created, outc, ex, xp, pips, "
        "pct) ORDER BY id",
        &p, "storing signals", err);
    if (rc)
        goto done;
    if (n_new) {
        const tr_signal **ev = malloc(n_new * sizeof *ev);
        tr_signal *copy = malloc(n_new * sizeof *copy);
        if (!ev || !copy) {
            free(ev);
            free(copy);
            rc = tr_fail(err, TR_ERR_NOMEM, "out of memory storing signals");
            goto done;
        }
        for (size_t i = 0; i < n_new; i++) {
            copy[i] = sigs[fresh[i]];
            copy[i].id = id[i];
            ev[i] = &copy[i];
        }
        tr_sb b = {0};
        signals_event(&b, ev, n_new, 0);
        rc = notify(s, "new_prediction", &b, err);
        tr_sb_free(&b);
        free(ev);
        free(copy);
        if (rc)
            goto done;
    }
    rc = commit(s, "storing signals", err);
    if (rc == TR_OK) {
        for (size_t i = 0; i < n_new; i++)
            sigs[fresh[i]].id = id[i];
        for (size_t i = 0; i < n_total; i++)
            if (dup_of[i])
                sigs[i] = sigs[dup_of[i] - 1];
    }
done:
    PQclear(r);
    if (rc)
        rollback(s);
out:
    params_free(&p);
    free(i64);
    free(tfs);
    free(dbl);
    free(str);
    free(stored);
    free(fresh);
    free(dup_of);
    return rc;
}

static tr_code pg_signal_put(tr_store *st, tr_signal *sig, tr_error *err)
{
    return pg_signals_append(st, sig, 1, err);
}

static tr_code pg_signals_update(tr_store *st, const tr_signal *sigs, size_t n, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    if (n == 0)
        return TR_OK;
    int64_t *i64 = malloc(n * 2 * sizeof *i64);
    double *dbl = malloc(n * 3 * sizeof *dbl);
    const char **outc = malloc(n * sizeof *outc), **rep = malloc(n * sizeof *rep);
    params p = {0};
    PGresult *r = NULL;
    tr_code rc = TR_OK;
    if (!i64 || !dbl || !outc || !rep) {
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory updating %zu signals", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        i64[i] = sigs[i].id;
        i64[n + i] = sigs[i].exit_time;
        rep[i] = sigs[i].reported ? "t" : "f";
        outc[i] = sigs[i].outcome[0] ? sigs[i].outcome : "open";
        dbl[i] = sigs[i].exit_price;
        dbl[n + i] = sigs[i].pnl_pips;
        dbl[2 * n + i] = sigs[i].pnl_percent;
    }
    rc = begin(s, "updating signals", err);
    if (rc)
        goto out;
    p_array(&p, 'l', i64, n);
    p_text(&p, family_of(s));
    rc = query(s,
               "SELECT u.id FROM unnest($1::int8[]) AS u(id) WHERE NOT EXISTS (SELECT 1 FROM "
               "trading_signals t WHERE t.signal_no = u.id AND t.family = $2::text) ORDER BY "
               "u.id LIMIT 1",
               &p, 1, &r, "updating signals", err);
    if (rc)
        goto done;
    if (PQntuples(r) > 0) {
        rc = tr_fail(err, TR_ERR_NOTFOUND, "store %s: no signal with id %lld", s->base.safe,
                     (long long)g_i64(r, 0, 0));
        goto done;
    }
    PQclear(r);
    r = NULL;
    p_array(&p, 's', outc, n);
    p_array(&p, 'l', i64 + n, n);
    for (int k = 0; k < 3; k++)
        p_array(&p, 'd', dbl + (size_t)k * n, n);
    p_array(&p, 's', rep, n);
    rc = exec(s,
              "UPDATE trading_signals t SET actual_outcome = u.outc::signal_outcome, exit_time = "
              "CASE WHEN u.ex = 0 THEN NULL ELSE to_timestamp(u.ex) END, exit_price = u.xp, "
              "pnl_pips = u.pips, pnl_percent = u.pct, outcome_reported = u.rep::bool FROM "
              "unnest($1::int8[], $3::text[], $4::int8[], $5::float8[], $6::float8[], "
              "$7::float8[], $8::text[]) AS u(id, outc, ex, xp, pips, pct, rep) WHERE "
              "t.signal_no = u.id AND t.family = $2::text",
              &p, "updating signals", err);
    if (rc)
        goto done;
    {
        const tr_signal **ev = malloc(n * sizeof *ev);
        if (!ev) {
            rc = tr_fail(err, TR_ERR_NOMEM, "out of memory updating signals");
            goto done;
        }
        for (size_t i = 0; i < n; i++)
            ev[i] = &sigs[i];
        tr_sb b = {0};
        signals_event(&b, ev, n, 1);
        rc = notify(s, "signal_outcome", &b, err);
        tr_sb_free(&b);
        free(ev);
        if (rc)
            goto done;
    }
    rc = commit(s, "updating signals", err);
done:
    PQclear(r);
    if (rc)
        rollback(s);
out:
    params_free(&p);
    free(i64);
    free(dbl);
    free(outc);
    free(rep);
    return rc;
}

static tr_code pg_signals_get(tr_store *st, const char *pair, int64_t from, int64_t to,
                              tr_signal **list, size_t *n_out, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    params p = {0};
    p_bound(&p, from);
    p_bound(&p, to);
    p_text(&p, family_of(s));
    if (pair)
        p_text(&p, pair);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT " SIGNAL_COLUMNS " FROM trading_signals t WHERE t.family = $3::text AND "
             "t.bar_time >= to_timestamp($1::float8) AND t.bar_time < to_timestamp($2::float8)%s "
             "ORDER BY t.signal_no",
             pair ? " AND t.pair = $4::text" : "");
    PGresult *r;
    tr_code rc = query(s, sql, &p, 1, &r, "reading signals", err);
    params_free(&p);
    if (rc)
        return rc;
    int rows = PQntuples(r);
    tr_signal *v = calloc((size_t)rows + 1, sizeof *v);
    if (!v) {
        PQclear(r);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory reading signals");
    }
    for (int i = 0; i < rows && !rc; i++)
        rc = decode_signal(s, r, i, 0, &v[i], err);
    PQclear(r);
    if (rc) {
        free(v);
        return rc;
    }
    *list = v;
    *n_out = (size_t)rows;
    return TR_OK;
}

/* ---- cycle locks ------------------------------------------------------------------------------
 */

static tr_code pg_cycle_lock(tr_store *st, const char *cycle_name, int *token, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    /* a family's cycles lock apart from another's: "<family>/<cycle>" ("default": the cycle) */
    char cycle[sizeof s->locks[0]];
    int nl = tr_family_is_default(family_of(s))
                 ? snprintf(cycle, sizeof cycle, "%s", cycle_name)
                 : snprintf(cycle, sizeof cycle, "%s/%s", family_of(s), cycle_name);
    if (nl < 0 || (size_t)nl >= sizeof cycle)
        return tr_fail(err, TR_ERR_INVALID, "lock name too long: %s", cycle_name);
    int slot = -1;
    if (strlen(cycle) >= sizeof s->locks[0])
        return tr_fail(err, TR_ERR_INVALID, "lock name too long: %s", cycle);
    for (int i = 0; i < PG_MAX_LOCKS; i++) {
        if (strcmp(s->locks[i], cycle) == 0)
            return tr_fail(err, TR_ERR_CONFLICT,
                           "another %s cycle is running on store %s (this process holds its lock)",
                           cycle, s->base.safe);
        if (slot < 0 && s->locks[i][0] == '\0')
            slot = i;
    }
    if (slot < 0)
        return tr_fail(err, TR_ERR_INVALID, "too many cycle locks held at once");
    params p = {0};
    p_text(&p, cycle);
    PGresult *r;
    tr_code rc = query(s, "SELECT pg_try_advisory_lock(hashtextextended('aifx:' || $1::text, 0))",
                       &p, 1, &r, "taking a cycle lock", err);
    params_free(&p);
    if (rc)
        return rc;
    int got = g_bool(r, 0, 0);
    PQclear(r);
    if (!got)
        return tr_fail(err, TR_ERR_CONFLICT,
                       "another %s cycle is running on store %s (advisory lock 'aifx:%s' is held)",
                       cycle, s->base.safe, cycle);
    /* the fencing token: this take's number, checked again by every registry commit */
    p_text(&p, cycle);
    rc = query(s,
               "INSERT INTO cycle_lock_tokens (name, token) VALUES ($1::text, 1) ON CONFLICT "
               "(name) DO UPDATE SET token = cycle_lock_tokens.token + 1, taken_at = now() "
               "RETURNING token",
               &p, 1, &r, "taking a cycle lock (its token)", err);
    params_free(&p);
    if (rc) {
        p_text(&p, cycle);
        PQclear(
            run(s, "SELECT pg_advisory_unlock(hashtextextended('aifx:' || $1::text, 0))", &p, 0));
        params_free(&p);
        return rc;
    }
    s->lock_token[slot] = g_i64(r, 0, 0);
    PQclear(r);
    snprintf(s->locks[slot], sizeof s->locks[slot], "%s", cycle);
    *token = slot;
    return TR_OK;
}

/* Inside a commit's transaction: every cycle lock this handle holds must still carry the token
 * it took (cycle_lock_tokens, row-locked until the commit ends, so that no other take can slip
 * in between). A lock taken by another run since (after the server dropped ours) refuses the
 * commit: two runs never both commit. */
static tr_code check_lock_tokens(pg_store *s, tr_error *err)
{
    for (int i = 0; i < PG_MAX_LOCKS; i++) {
        if (!s->locks[i][0])
            continue;
        params p = {0};
        p_text(&p, s->locks[i]);
        PGresult *r;
        tr_code rc =
            query(s, "SELECT token FROM cycle_lock_tokens WHERE name = $1::text FOR UPDATE", &p, 1,
                  &r, "checking the cycle lock's token", err);
        params_free(&p);
        if (rc)
            return rc;
        int64_t now = PQntuples(r) == 1 ? g_i64(r, 0, 0) : -1;
        PQclear(r);
        if (now != s->lock_token[i])
            return tr_fail(err, TR_ERR_CONFLICT,
                           "store %s: this run lost its %s lock (token %lld, now %lld: another run "
                           "took it after the server dropped ours); nothing committed",
                           s->base.safe, s->locks[i], (long long)s->lock_token[i], (long long)now);
    }
    return TR_OK;
}

/* Between transactions: re-established after a lost connection (run), the lock's token must be
 * the one taken and the session must hold the advisory lock (taken again by reconnect). */
static tr_code pg_cycle_lock_check(tr_store *st, int token, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    if (token < 0 || token >= PG_MAX_LOCKS || s->locks[token][0] == '\0')
        return tr_fail(err, TR_ERR_INVALID, "no cycle lock %d is held", token);
    params p = {0};
    p_text(&p, s->locks[token]);
    PGresult *r;
    tr_code rc = query(s,
                       "SELECT (SELECT token FROM cycle_lock_tokens WHERE name = $1::text), "
                       "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                       "pid = pg_backend_pid() AND ((classid::int8 << 32) | objid::int8) = "
                       "hashtextextended('aifx:' || $1::text, 0))",
                       &p, 1, &r, "checking a cycle lock", err);
    params_free(&p);
    if (rc)
        return rc;
    int64_t now = PQgetisnull(r, 0, 0) ? -1 : g_i64(r, 0, 0);
    int held = g_bool(r, 0, 1);
    PQclear(r);
    if (now != s->lock_token[token] || !held)
        return tr_fail(err, TR_ERR_CONFLICT,
                       "store %s: this run lost its %s lock (token %lld, now %lld%s)", s->base.safe,
                       s->locks[token], (long long)s->lock_token[token], (long long)now,
                       held ? "" : ", not held by this session");
    return TR_OK;
}

static void pg_cycle_unlock(tr_store *st, int token)
{
    pg_store *s = (pg_store *)st;
    if (token < 0 || token >= PG_MAX_LOCKS || s->locks[token][0] == '\0')
        return;
    if (PQstatus(s->conn) == CONNECTION_OK) {
        params p = {0};
        p_text(&p, s->locks[token]);
        PGresult *r =
            run(s, "SELECT pg_advisory_unlock(hashtextextended('aifx:' || $1::text, 0))", &p, 0);
        PQclear(r); /* a lost connection released the lock already */
        params_free(&p);
    }
    s->locks[token][0] = '\0';
}

/* ---- events -------------------------------------------------------------------------------------
 */

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static tr_code pg_listen(tr_store *st, const char *const *channels, size_t n, double timeout,
                         tr_listen_fn fn, void *user, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    for (size_t i = 0; i < n; i++) {
        const char *c = channels[i];
        size_t len = strlen(c);
        int ok = len > 0 && len < 64;
        for (size_t j = 0; j < len && ok; j++)
            ok = (c[j] >= 'a' && c[j] <= 'z') || (c[j] >= '0' && c[j] <= '9') || c[j] == '_';
        if (!ok)
            return tr_fail(err, TR_ERR_INVALID,
                           "bad channel name '%s' (1 to 63 characters a-z, 0-9, _)", c);
        char *id = PQescapeIdentifier(s->conn, c, len);
        if (!id)
            return pg_fail(s, NULL, "listening", err);
        char sql[160];
        snprintf(sql, sizeof sql, "LISTEN %s", id);
        PQfreemem(id);
        tr_code rc = exec(s, sql, NULL, "listening", err);
        if (rc)
            return rc;
    }
    if (fn(NULL, NULL, user))
        return TR_OK;
    double end = timeout >= 0 ? mono_now() + timeout : 0;
    for (;;) {
        PGnotify *nt;
        while ((nt = PQnotifies(s->conn)) != NULL) {
            int stop = fn(nt->relname, nt->extra, user);
            PQfreemem(nt);
            if (stop)
                return TR_OK;
        }
        int wait_ms = -1;
        if (timeout >= 0) {
            double left = end - mono_now();
            if (left <= 0)
                return TR_OK;
            wait_ms = (int)(left * 1000) + 1;
        }
        struct pollfd pf = {PQsocket(s->conn), POLLIN, 0};
        if (pf.fd < 0)
            return pg_fail(s, NULL, "listening", err);
        int k = poll(&pf, 1, wait_ms);
        if (k < 0 && errno != EINTR)
            return tr_fail(err, TR_ERR_IO, "store %s: waiting for events: %s", s->base.safe,
                           strerror(errno));
        if (k > 0 && !PQconsumeInput(s->conn))
            return pg_fail(s, NULL, "listening", err);
    }
}

/* ---- opening, the schema version, migrations ----------------------------------------------- */

static void pg_close(tr_store *st)
{
    pg_store *s = (pg_store *)st;
    if (!s)
        return;
    PQfinish(s->conn);
    free(s);
}

/* ---- the outbox ------------------------------------------------------------------------------
 *
 * A sink is a row of outbox_sink. A claim, in one transaction: register the sink if new (its
 * start after the events older than the backlog), take its row with FOR UPDATE SKIP LOCKED
 * where its lease has lapsed (a row another sender is claiming or recording on is skipped, so
 * the claim answers "busy" at once instead of waiting), set a new lease (lease + 1: the fencing
 * token; leased_until on the server's clock), and list the events after done_through with their
 * delivery rows. A record checks the token under the row's lock: a sender whose lease lapsed and
 * was claimed by another records nothing (docs/schema.md 5.13). */

static tr_code pg_outbox_claim(tr_store *st, const char *sink, int64_t now, int64_t backlog,
                               double lease_seconds, size_t max, int64_t *lease,
                               tr_outbox_delivery **list, size_t *n, int64_t *next_due,
                               tr_error *err)
{
    pg_store *s = (pg_store *)st;
    char who[128], host[64] = "";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "?");
    host[sizeof host - 1] = '\0';
    snprintf(who, sizeof who, "%s:%ld", host, (long)getpid());
    tr_code rc = begin(s, "claiming an outbox sink", err);
    if (rc)
        return rc;
    params p = {0};
    p_text(&p, sink);
    p_i64(&p, backlog);
    p_i64(&p, now - (backlog > 0 ? backlog : 0));
    rc = exec(s,
              "INSERT INTO outbox_sink (sink, start_after, done_through) "
              "SELECT $1::text, x.s, x.s FROM (SELECT CASE WHEN $2::int8 < 0 THEN 0 ELSE "
              "coalesce((SELECT min(event_id) - 1 FROM outbox WHERE created_at >= "
              "to_timestamp($3::float8)), (SELECT max(event_id) FROM outbox), 0) END AS s) x "
              "ON CONFLICT (sink) DO NOTHING",
              &p, "registering an outbox sink", err);
    params_free(&p);
    PGresult *r = NULL;
    if (!rc) {
        p_text(&p, sink);
        p_f8(&p, lease_seconds);
        p_text(&p, who);
        rc = query(s,
                   "UPDATE outbox_sink SET lease = lease + 1, leased_by = $3::text, "
                   "leased_until = now() + make_interval(secs => $2::float8) "
                   "WHERE sink = (SELECT sink FROM outbox_sink WHERE sink = $1::text AND "
                   "(leased_until IS NULL OR leased_until <= now()) FOR UPDATE SKIP LOCKED) "
                   "RETURNING lease, greatest(start_after, done_through)",
                   &p, 1, &r, "claiming an outbox sink", err);
        params_free(&p);
    }
    if (!rc && PQntuples(r) != 1) {
        PQclear(r);
        rollback(s);
        return tr_fail(err, TR_ERR_CONFLICT, "sink %s is being delivered by another sender", sink);
    }
    int64_t token = 0;
    if (!rc) {
        token = g_i64(r, 0, 0);
        int64_t after = g_i64(r, 0, 1);
        PQclear(r);
        r = NULL;
        p_text(&p, sink);
        p_i64(&p, after);
        p_i64(&p, (int64_t)max);
        rc =
            query(s,
                  "SELECT e.event_id, e.kind, coalesce(extract(epoch FROM e.created_at), 0)::int8, "
                  "e.payload_json, coalesce(d.attempts, 0)::int8, "
                  "coalesce(extract(epoch FROM d.first_at), 0)::int8, "
                  "coalesce(extract(epoch FROM d.next_at), 0)::int8, coalesce(d.error, '') "
                  "FROM outbox e LEFT JOIN outbox_delivery d ON d.sink = $1::text AND "
                  "d.event_id = e.event_id WHERE e.event_id > $2::int8 "
                  "ORDER BY e.event_id LIMIT $3::int8",
                  &p, 1, &r, "listing the outbox", err);
        params_free(&p);
    }
    if (!rc)
        rc = commit(s, "claiming an outbox sink", err);
    if (rc) {
        PQclear(r);
        rollback(s);
        return rc;
    }
    int rows = PQntuples(r);
    if (rows > 0 && g_i64(r, 0, 6) > now) {
        *next_due = g_i64(r, 0, 6);
        rows = 0;
    }
    if (rows > 0) {
        *list = calloc((size_t)rows, sizeof **list);
        if (!*list) {
            PQclear(r);
            tr_store_outbox_release(st, sink, token);
            return tr_fail(err, TR_ERR_NOMEM, "out of memory");
        }
    }
    for (int i = 0; i < rows; i++) {
        tr_outbox_delivery *d = &(*list)[i];
        d->ev.id = g_i64(r, i, 0);
        d->ev.created_at = g_i64(r, i, 2);
        d->attempts = (int)g_i64(r, i, 4);
        d->first_attempt_at = g_i64(r, i, 5);
        d->next_attempt_at = g_i64(r, i, 6);
        if (g_text(r, i, 1, d->ev.kind, sizeof d->ev.kind) ||
            g_text(r, i, 3, d->ev.payload, sizeof d->ev.payload))
            snprintf(d->ev.payload, sizeof d->ev.payload, "{}");
        if (g_text(r, i, 7, d->last_error, sizeof d->last_error))
            d->last_error[0] = '\0';
    }
    PQclear(r);
    *n = (size_t)rows;
    *lease = token;
    return TR_OK;
}

static tr_code pg_outbox_record(tr_store *st, const char *sink, int64_t lease,
                                const tr_outbox_attempt *a, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    static const char *const names[] = {"retry", "delivered", "given_up"};
    tr_code rc = begin(s, "recording a delivery", err);
    if (rc)
        return rc;
    params p = {0};
    PGresult *r = NULL;
    p_text(&p, sink);
    p_i64(&p, lease);
    rc = query(s,
               "SELECT greatest(start_after, done_through) FROM outbox_sink "
               "WHERE sink = $1::text AND lease = $2::int8 FOR UPDATE",
               &p, 1, &r, "recording a delivery", err);
    params_free(&p);
    if (!rc && PQntuples(r) != 1) {
        PQclear(r);
        rollback(s);
        return tr_fail(err, TR_ERR_CONFLICT,
                       "sink %s: the claim lapsed and another sender took it; not recorded", sink);
    }
    int settled = !rc && g_i64(r, 0, 0) >= a->event_id;
    PQclear(r);
    if (!rc && !settled) {
        p_text(&p, sink);
        p_i64(&p, a->event_id);
        p_text(&p, names[a->state]);
        p_time(&p, a->at ? a->at : 1);
        p_time(&p, a->state == TR_OUTBOX_RETRY ? a->next_at : 0);
        p_i64(&p, a->http_status);
        p_text(&p, a->error);
        rc = exec(s,
                  "INSERT INTO outbox_delivery (sink, event_id, state, attempts, first_at, "
                  "last_at, next_at, http_status, error) VALUES ($1::text, $2::int8, "
                  "$3::text::delivery_state, 1, to_timestamp($4::float8), "
                  "to_timestamp($4::float8), to_timestamp($5::float8), $6::int4, $7::text) "
                  "ON CONFLICT (sink, event_id) DO UPDATE SET state = EXCLUDED.state, "
                  "attempts = outbox_delivery.attempts + 1, last_at = EXCLUDED.last_at, "
                  "next_at = EXCLUDED.next_at, http_status = EXCLUDED.http_status, "
                  "error = EXCLUDED.error",
                  &p, "recording a delivery", err);
        params_free(&p);
    }
    if (!rc && !settled && a->state != TR_OUTBOX_RETRY) {
        p_text(&p, sink);
        p_i64(&p, a->event_id);
        p_i64(&p, a->state == TR_OUTBOX_DELIVERED);
        rc = exec(s,
                  "UPDATE outbox_sink SET done_through = greatest(done_through, $2::int8), "
                  "delivered = delivered + $3::int8, given_up = given_up + 1 - $3::int8 "
                  "WHERE sink = $1::text",
                  &p, "recording a delivery", err);
        params_free(&p);
    }
    if (!rc)
        rc = commit(s, "recording a delivery", err);
    if (rc)
        rollback(s);
    return rc;
}

static void pg_outbox_release(tr_store *st, const char *sink, int64_t lease)
{
    pg_store *s = (pg_store *)st;
    params p = {0};
    tr_error e;
    p_text(&p, sink);
    p_i64(&p, lease);
    (void)exec(s,
               "UPDATE outbox_sink SET leased_until = NULL WHERE sink = $1::text AND "
               "lease = $2::int8",
               &p, "releasing an outbox sink", &e); /* a lapsed lease is harmless */
    params_free(&p);
}

static tr_code pg_outbox_info(tr_store *st, const char *sink, tr_outbox_sink_info *info,
                              tr_error *err)
{
    pg_store *s = (pg_store *)st;
    params p = {0};
    PGresult *r;
    p_text(&p, sink);
    tr_code rc =
        query(s,
              "SELECT k.start_after, k.done_through, k.delivered, k.given_up, "
              "(SELECT count(*) FROM outbox e WHERE e.event_id > greatest(k.start_after, "
              "k.done_through))::int8, coalesce(d.attempts, 0)::int8, "
              "coalesce(extract(epoch FROM d.next_at), 0)::int8, coalesce(d.error, '') "
              "FROM outbox_sink k LEFT JOIN outbox_delivery d ON d.sink = k.sink AND d.event_id = "
              "(SELECT min(event_id) FROM outbox WHERE event_id > greatest(k.start_after, "
              "k.done_through)) WHERE k.sink = $1::text",
              &p, 1, &r, "reading a sink's deliveries", err);
    params_free(&p);
    if (rc)
        return rc;
    if (PQntuples(r) == 1) {
        info->start_after = g_i64(r, 0, 0);
        info->done_through = g_i64(r, 0, 1);
        info->delivered = g_i64(r, 0, 2);
        info->given_up = g_i64(r, 0, 3);
        info->pending = g_i64(r, 0, 4);
        info->head_attempts = (int)g_i64(r, 0, 5);
        info->head_next_at = g_i64(r, 0, 6);
        if (g_text(r, 0, 7, info->head_error, sizeof info->head_error))
            info->head_error[0] = '\0';
    }
    PQclear(r);
    return TR_OK;
}

/* ---- the job queue ----------------------------------------------------------------------------
 *
 * One row of jobs per (family, cycle, slot_time) (migration 007, docs/schema.md 5.14). The claim
 * is one statement: the first runnable row in slot order, locked FOR UPDATE SKIP LOCKED in a
 * subquery (a row another worker is claiming is skipped, never waited for), updated to running
 * with attempts + 1, lease + 1 (the fencing generation) and leased_until on the server's clock.
 * Every later write of the worker names the generation it claimed: a row whose generation moved
 * on (claimed again after the lease lapsed) is not touched, and the worker hears
 * TR_ERR_CONFLICT. Times are read as whole seconds since the epoch. */

#define JOB_COLS                                                                                   \
    "id, family, cycle, extract(epoch FROM slot_time)::int8, state::text, attempts::int8, "        \
    "max_attempts::int8, extract(epoch FROM run_after)::int8, lease, "                             \
    "coalesce(extract(epoch FROM leased_until), 0)::int8, leased_by, last_error, "                 \
    "extract(epoch FROM created_at)::int8, coalesce(extract(epoch FROM finished_at), 0)::int8, "   \
    "result"

static void job_of(const PGresult *r, int i, tr_job *j)
{
    char st[16];
    memset(j, 0, sizeof *j);
    j->id = g_i64(r, i, 0);
    (void)g_text(r, i, 1, j->family, sizeof j->family);
    (void)g_text(r, i, 2, j->cycle, sizeof j->cycle);
    j->slot_time = g_i64(r, i, 3);
    j->state = TR_JOB_STATE_COUNT;
    if (g_text(r, i, 4, st, sizeof st) == 0)
        for (int k = 0; k < TR_JOB_STATE_COUNT; k++)
            if (strcmp(st, tr_job_state_name((tr_job_state)k)) == 0)
                j->state = (tr_job_state)k;
    j->attempts = (int)g_i64(r, i, 5);
    j->max_attempts = (int)g_i64(r, i, 6);
    j->run_after = g_i64(r, i, 7);
    j->lease = g_i64(r, i, 8);
    j->leased_until = g_i64(r, i, 9);
    if (g_text(r, i, 10, j->leased_by, sizeof j->leased_by))
        j->leased_by[0] = '\0';
    if (g_text(r, i, 11, j->last_error, sizeof j->last_error))
        snprintf(j->last_error, sizeof j->last_error, "(too long to show)");
    j->created_at = g_i64(r, i, 12);
    j->finished_at = g_i64(r, i, 13);
    if (g_text(r, i, 14, j->result, sizeof j->result))
        snprintf(j->result, sizeof j->result, "(too long to show)");
}

static void who_am_i(char *who, size_t size)
{
    char host[64] = "";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "?");
    host[sizeof host - 1] = '\0';
    snprintf(who, size, "%s:%ld", host, (long)getpid());
}

static tr_code pg_job_enqueue(tr_store *st, const char *family, const char *cycle,
                              int64_t slot_time, int max_attempts, int *inserted, int64_t *id,
                              tr_error *err)
{
    pg_store *s = (pg_store *)st;
    tr_code rc = begin(s, "enqueueing a job", err);
    if (rc)
        return rc;
    params p = {0};
    PGresult *r = NULL;
    p_text(&p, family);
    p_text(&p, cycle);
    p_i64(&p, slot_time);
    p_i64(&p, max_attempts);
    rc = query(s,
               "INSERT INTO jobs (family, cycle, slot_time, max_attempts) VALUES ($1::text, "
               "$2::text, to_timestamp($3::float8), $4::int4) "
               "ON CONFLICT (family, cycle, slot_time) DO NOTHING RETURNING id",
               &p, 1, &r, "enqueueing a job", err);
    params_free(&p);
    int added = !rc && PQntuples(r) == 1;
    if (added) {
        *id = g_i64(r, 0, 0);
        tr_sb b = {0};
        tr_sb_printf(&b, "{\"id\":%lld,\"family\":", (long long)*id);
        tr_sb_json_str(&b, family);
        tr_sb_printf(&b, ",\"cycle\":");
        tr_sb_json_str(&b, cycle);
        tr_sb_printf(&b, "}");
        rc = notify(s, "jobs", &b, err); /* delivered at COMMIT only */
        tr_sb_free(&b);
    }
    PQclear(r);
    r = NULL;
    if (!rc && !added) {
        p_text(&p, family);
        p_text(&p, cycle);
        p_i64(&p, slot_time);
        rc = query(s,
                   "SELECT id FROM jobs WHERE family = $1::text AND cycle = $2::text AND "
                   "slot_time = to_timestamp($3::float8)",
                   &p, 1, &r, "enqueueing a job", err);
        params_free(&p);
        if (!rc && PQntuples(r) == 1)
            *id = g_i64(r, 0, 0);
        PQclear(r);
    }
    if (!rc)
        rc = commit(s, "enqueueing a job", err);
    if (rc) {
        rollback(s);
        return rc;
    }
    *inserted = added;
    return TR_OK;
}

static tr_code pg_job_claim(tr_store *st, const char *family, double lease_seconds, tr_job *job,
                            int *got, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    char who[128];
    who_am_i(who, sizeof who);
    const char *fam = family ? family : "";
    tr_code rc = begin(s, "claiming a job", err);
    if (!rc) /* claims in turn, so that the family check below sees every committed claim */
        rc = xact_lock(s, "aifx:jobs-claim", err);
    if (rc) {
        rollback(s);
        return rc;
    }
    params p = {0};
    PGresult *r = NULL;
    /* lapsed leases of jobs with no attempt left: dead, as a failure would make them (Oban's
     * lifeline discards an exhausted job the same way) */
    p_text(&p, fam);
    rc = exec(s,
              "UPDATE jobs SET state = 'dead', finished_at = now(), leased_until = NULL, "
              "last_error = 'the lease of attempt ' || attempts || ' lapsed (held by ' || "
              "leased_by || ') and no attempt is left' "
              "WHERE id IN (SELECT id FROM jobs WHERE state = 'running' AND leased_until <= now() "
              "AND attempts >= max_attempts AND ($1::text = '' OR family = $1::text) "
              "FOR UPDATE SKIP LOCKED)",
              &p, "claiming a job", err);
    params_free(&p);
    if (!rc) {
        p_text(&p, fam);
        p_f8(&p, lease_seconds);
        p_text(&p, who);
        rc =
            query(s,
                  "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease = lease + 1, "
                  "leased_by = $3::text, leased_until = now() + make_interval(secs => $2::float8), "
                  "last_error = CASE WHEN state = 'running' THEN 'the lease of attempt ' || "
                  "attempts || ' lapsed (held by ' || leased_by || ')' ELSE last_error END "
                  "WHERE id = (SELECT id FROM jobs q WHERE ($1::text = '' OR family = $1::text) "
                  "AND ((state IN ('queued', 'failed') AND run_after <= now()) OR "
                  "(state = 'running' AND leased_until <= now())) AND NOT EXISTS (SELECT 1 FROM "
                  "jobs o WHERE o.family = q.family AND o.id <> q.id AND o.state = 'running' AND "
                  "o.leased_until > now()) "
                  "ORDER BY slot_time, id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING " JOB_COLS,
                  &p, 1, &r, "claiming a job", err);
        params_free(&p);
    }
    if (!rc)
        rc = commit(s, "claiming a job", err);
    if (rc) {
        PQclear(r);
        rollback(s);
        return rc;
    }
    if (PQntuples(r) == 1) {
        job_of(r, 0, job);
        *got = 1;
    }
    PQclear(r);
    return TR_OK;
}

static tr_code lost_lease(pg_store *s, const tr_job_fence *f, const char *what, tr_error *err)
{
    return tr_fail(err, TR_ERR_CONFLICT,
                   "store %s: job %lld lost its job lease (generation %lld: another worker "
                   "claimed it after the lease lapsed); %s",
                   s->base.safe, (long long)f->id, (long long)f->lease, what);
}

/* Runs a one-row UPDATE guarded by the fence ($1 id, $2 lease, then extra); TR_ERR_CONFLICT when
 * no row matched. */
static tr_code fenced_update(pg_store *s, const tr_job_fence *f, const char *sql, params *p,
                             const char *what, const char *refused, tr_error *err)
{
    PGresult *r;
    tr_code rc = query(s, sql, p, 1, &r, what, err);
    params_free(p);
    if (rc)
        return rc;
    int n = PQntuples(r);
    PQclear(r);
    return n == 1 ? TR_OK : lost_lease(s, f, refused, err);
}

static tr_code pg_job_heartbeat(tr_store *st, const tr_job_fence *f, double lease_seconds,
                                tr_error *err)
{
    pg_store *s = (pg_store *)st;
    params p = {0};
    p_i64(&p, f->id);
    p_i64(&p, f->lease);
    p_f8(&p, lease_seconds);
    return fenced_update(s, f,
                         "UPDATE jobs SET leased_until = now() + make_interval(secs => $3::float8) "
                         "WHERE id = $1::int8 AND lease = $2::int8 AND state = 'running' "
                         "RETURNING id",
                         &p, "renewing a job lease", "not renewed", err);
}

static tr_code pg_job_complete(tr_store *st, const tr_job_fence *f, const char *result,
                               tr_error *err)
{
    pg_store *s = (pg_store *)st;
    params p = {0};
    p_i64(&p, f->id);
    p_i64(&p, f->lease);
    p_text(&p, result);
    return fenced_update(s, f,
                         "UPDATE jobs SET state = 'done', result = $3::text, leased_until = NULL, "
                         "finished_at = coalesce(finished_at, now()) WHERE id = $1::int8 AND "
                         "lease = $2::int8 AND state IN ('running', 'done') RETURNING id",
                         &p, "completing a job", "not completed", err);
}

static tr_code pg_job_fail(tr_store *st, const tr_job_fence *f, const char *error,
                           double backoff_base, tr_job_state *state, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    params p = {0};
    PGresult *r;
    p_i64(&p, f->id);
    p_i64(&p, f->lease);
    p_text(&p, error);
    p_f8(&p, backoff_base);
    /* River's and Oban's retry policies, with 30 s * 2^attempts as the curve */
    tr_code rc = query(
        s,
        "UPDATE jobs SET last_error = $3::text, leased_until = NULL, "
        "state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'failed' END::job_state, "
        "finished_at = CASE WHEN attempts >= max_attempts THEN now() END, "
        "run_after = now() + make_interval(secs => $4::float8 * power(2, least(attempts, "
        "20))) WHERE id = $1::int8 AND lease = $2::int8 AND state = 'running' "
        "RETURNING state::text",
        &p, 1, &r, "recording a failed job", err);
    params_free(&p);
    if (rc)
        return rc;
    int n = PQntuples(r);
    *state = n == 1 && strcmp(PQgetvalue(r, 0, 0), "dead") == 0 ? TR_JOB_DEAD : TR_JOB_FAILED;
    PQclear(r);
    return n == 1 ? TR_OK : lost_lease(s, f, "its failure is not recorded", err);
}

static tr_code jobs_of(PGresult *r, tr_job **list, size_t *n, tr_error *err)
{
    int rows = PQntuples(r);
    if (rows > 0) {
        *list = calloc((size_t)rows, sizeof **list);
        if (!*list)
            return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < rows; i++)
        job_of(r, i, &(*list)[i]);
    *n = (size_t)rows;
    return TR_OK;
}

static tr_code pg_job_list(tr_store *st, const char *family, size_t max, tr_job **list, size_t *n,
                           tr_error *err)
{
    pg_store *s = (pg_store *)st;
    params p = {0};
    PGresult *r;
    p_text(&p, family ? family : "");
    p_i64(&p, max ? (int64_t)max : INT64_MAX);
    tr_code rc = query(s,
                       "SELECT " JOB_COLS " FROM jobs WHERE ($1::text = '' OR family = $1::text) "
                       "ORDER BY slot_time DESC, id DESC LIMIT $2::int8",
                       &p, 1, &r, "listing the jobs", err);
    params_free(&p);
    if (rc)
        return rc;
    rc = jobs_of(r, list, n, err);
    PQclear(r);
    return rc;
}

static tr_code pg_job_get(tr_store *st, int64_t id, tr_job *job, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    params p = {0};
    PGresult *r;
    p_i64(&p, id);
    tr_code rc = query(s, "SELECT " JOB_COLS " FROM jobs WHERE id = $1::int8", &p, 1, &r,
                       "reading a job", err);
    params_free(&p);
    if (rc)
        return rc;
    if (PQntuples(r) == 1)
        job_of(r, 0, job);
    else
        rc = tr_fail(err, TR_ERR_NOTFOUND, "store %s: no job %lld", s->base.safe, (long long)id);
    PQclear(r);
    return rc;
}

static tr_code pg_job_retry(tr_store *st, int64_t id, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    tr_job j;
    tr_code rc = pg_job_get(st, id, &j, err);
    if (rc)
        return rc;
    params p = {0};
    PGresult *r;
    p_i64(&p, id);
    rc = query(s,
               "UPDATE jobs SET state = 'queued', attempts = 0, run_after = now(), "
               "finished_at = NULL, leased_until = NULL WHERE id = $1::int8 AND "
               "state IN ('dead', 'failed') RETURNING id",
               &p, 1, &r, "retrying a job", err);
    params_free(&p);
    if (rc)
        return rc;
    int n = PQntuples(r);
    PQclear(r);
    if (n != 1)
        return tr_fail(err, TR_ERR_CONFLICT, "job %lld is %s: only a dead or failed job is retried",
                       (long long)id, tr_job_state_name(j.state));
    tr_sb b = {0};
    tr_sb_printf(&b, "{\"id\":%lld}", (long long)id);
    tr_error e; /* a missed wake-up costs one poll interval */
    (void)notify(s, "jobs", &b, &e);
    tr_sb_free(&b);
    return TR_OK;
}

/* Inside a registry commit's transaction: the job must still be held under the fence's
 * generation (its row locked until the commit ends, so no claim can slip in between); *cycle
 * receives its cycle. */
static tr_code check_job_fence(pg_store *s, const tr_job_fence *f, char *cycle, size_t size,
                               int64_t *slot, tr_error *err)
{
    params p = {0};
    PGresult *r;
    p_i64(&p, f->id);
    tr_code rc = query(s,
                       "SELECT lease, state::text, cycle, extract(epoch FROM slot_time)::int8, "
                       "family FROM jobs WHERE id = $1::int8 FOR UPDATE",
                       &p, 1, &r, "checking the job's lease", err);
    params_free(&p);
    if (rc)
        return rc;
    if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 4), family_of(s)) != 0) {
        rc = tr_fail(err, TR_ERR_INVALID,
                     "store %s: job %lld belongs to family %.63s, not to this handle's %s; "
                     "nothing committed",
                     s->base.safe, (long long)f->id, PQgetvalue(r, 0, 4), family_of(s));
        PQclear(r);
        return rc;
    }
    int ok =
        PQntuples(r) == 1 && g_i64(r, 0, 0) == f->lease &&
        (strcmp(PQgetvalue(r, 0, 1), "running") == 0 || strcmp(PQgetvalue(r, 0, 1), "done") == 0) &&
        g_text(r, 0, 2, cycle, size) == 0;
    *slot = ok ? g_i64(r, 0, 3) : 0;
    PQclear(r);
    return ok ? TR_OK : lost_lease(s, f, "nothing committed", err);
}

/* After the changes of a fenced commit: a log row of the job's cycle at its slot, completed or
 * skipped (what covers the slot for the scheduler), marks the job done in this same
 * transaction. */
static tr_code finish_fenced_job(pg_store *s, const tr_reg_txn *txn, const char *cycle,
                                 int64_t slot, tr_error *err)
{
    char result[512];
    if (!tr_store_job_outcome(txn, cycle, slot, result, sizeof result))
        return TR_OK;
    params p = {0};
    p_i64(&p, txn->job->id);
    p_text(&p, result);
    tr_code rc = exec(s,
                      "UPDATE jobs SET state = 'done', result = $2::text, leased_until = NULL, "
                      "finished_at = now() WHERE id = $1::int8",
                      &p, "completing the job", err);
    params_free(&p);
    return rc;
}

/* ---- model families (family.h; 008_families.sql) ------------------------------------------ */

static tr_code family_of_row(pg_store *s, PGresult *r, int i, tr_family *f, tr_error *err)
{
    char name[TR_FAMILY_NAME_MAX];
    if (g_text(r, i, 0, name, sizeof name) != 0)
        return tr_fail(err, TR_ERR_FORMAT, "store %s: a family name does not fit", s->base.safe);
    char what[TR_FAMILY_NAME_MAX + 32];
    snprintf(what, sizeof what, "family %s's definition", name);
    const char *text = PQgetvalue(r, i, 1);
    tr_code rc = tr_family_parse(name, text, (size_t)PQgetlength(r, i, 1), what, f, err);
    if (!rc)
        f->created_at = g_i64(r, i, 2);
    return rc;
}

static tr_code pg_family_get(tr_store *st, const char *name, tr_family *f, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    params p = {0};
    p_text(&p, name);
    PGresult *r;
    tr_code rc = query(s,
                       "SELECT name, definition, extract(epoch FROM created_at)::int8 FROM "
                       "families WHERE name = $1::text",
                       &p, 1, &r, "reading a family", err);
    params_free(&p);
    if (rc)
        return rc;
    if (PQntuples(r) != 1)
        rc = tr_fail(err, TR_ERR_NOTFOUND, "store %s has no family '%s'", s->base.safe, name);
    else
        rc = family_of_row(s, r, 0, f, err);
    PQclear(r);
    return rc;
}

static tr_code pg_family_put(tr_store *st, const tr_family *f, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    char text[TR_FAMILY_TEXT_MAX];
    int n = tr_family_format(f, text, sizeof text);
    if (n < 0 || (size_t)n >= sizeof text)
        return tr_fail(err, TR_ERR_INVALID, "family %s: definition too long", f->name);
    params p = {0};
    p_text(&p, f->name);
    p_text(&p, text);
    PGresult *r;
    /* inserted, or the stored definition when the name is taken */
    tr_code rc = query(s,
                       "WITH ins AS (INSERT INTO families (name, definition) VALUES ($1::text, "
                       "$2::text) ON CONFLICT (name) DO NOTHING RETURNING definition) SELECT "
                       "definition FROM ins UNION ALL SELECT definition FROM families WHERE name "
                       "= $1::text AND NOT EXISTS (SELECT 1 FROM ins)",
                       &p, 1, &r, "adding a family", err);
    params_free(&p);
    if (rc)
        return rc;
    tr_family old;
    tr_error e = {0};
    char was[TR_FAMILY_TEXT_MAX] = "";
    if (PQntuples(r) == 1 &&
        tr_family_parse(f->name, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), "stored", &old,
                        &e) == TR_OK)
        tr_family_format(&old, was, sizeof was);
    PQclear(r);
    if (strcmp(was, text) != 0)
        return tr_fail(err, TR_ERR_CONFLICT,
                       "store %s has a family '%s' already, with another definition", s->base.safe,
                       f->name);
    return TR_OK;
}

static tr_code pg_family_list(tr_store *st, tr_family **list, size_t *n, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    *list = NULL;
    *n = 0;
    PGresult *r;
    tr_code rc = query(s,
                       "SELECT name, definition, extract(epoch FROM created_at)::int8 FROM "
                       "families ORDER BY name",
                       NULL, 1, &r, "listing families", err);
    if (rc)
        return rc;
    int rows = PQntuples(r);
    tr_family *v = calloc((size_t)rows + 1, sizeof *v);
    if (!v) {
        PQclear(r);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory listing families");
    }
    for (int i = 0; i < rows && !rc; i++)
        rc = family_of_row(s, r, i, &v[i], err);
    PQclear(r);
    if (rc) {
        free(v);
        return rc;
    }
    *list = v;
    *n = (size_t)rows;
    return TR_OK;
}

/* ---- model files (docs/schema.md 5.16) ------------------------------------------------------- */

static void txn_files_free(txn_file *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++)
        free(f[i].data);
    free(f);
}

/* Reads each file of txn from its path and checks it against the CRC-32 and size it must have;
 * a missing, unreadable or different file fails the commit before anything is written. */
static tr_code txn_files_read(pg_store *s, const tr_reg_txn *txn, txn_file *out, tr_error *err)
{
    for (size_t i = 0; i < txn->n_files; i++) {
        const tr_reg_file *f = &txn->files[i];
        tr_error fe;
        tr_code rc = tr_file_read(f->path, &out[i].data, &out[i].len, &fe);
        if (rc)
            return tr_fail(err, rc == TR_ERR_NOMEM ? rc : TR_ERR_IO,
                           "store %s: %s %s of the registry change: %s; nothing committed",
                           s->base.safe, f->kind, f->name, fe.msg);
        out[i].crc = aifx_crc32(0, out[i].data, out[i].len);
        if (out[i].len > TR_FILE_MAX_BYTES)
            return tr_fail(err, TR_ERR_INVALID,
                           "store %s: %s %s has %zu bytes (at most %zu MiB are stored); nothing "
                           "committed",
                           s->base.safe, f->kind, f->name, out[i].len, TR_FILE_MAX_BYTES >> 20);
        if (f->size >= 0 && ((int64_t)out[i].len != f->size || out[i].crc != f->crc))
            return tr_fail(err, TR_ERR_CHECKSUM,
                           "store %s: %s %s (file %s) does not match the registry (%zu bytes, "
                           "CRC-32 %08x; recorded %lld bytes, %08x); nothing committed",
                           s->base.safe, f->kind, f->name, f->path, out[i].len,
                           (unsigned)out[i].crc, (long long)f->size, (unsigned)f->crc);
    }
    return TR_OK;
}

/* One file's row, inserted or replacing the row of that name, inside the caller's transaction
 * (or as a statement of its own). */
static tr_code file_upsert(pg_store *s, const char *name, const char *kind, const void *data,
                           size_t len, uint32_t crc, tr_error *err)
{
    params p = {0};
    p_text(&p, family_of(s));
    p_text(&p, name);
    p_text(&p, kind);
    p_raw(&p, len ? data : "", len, 1); /* bytea in binary format: the bytes as they are */
    p_i64(&p, (int64_t)crc);
    p_i64(&p, (int64_t)len);
    char what[TR_FILE_NAME_MAX + 32];
    snprintf(what, sizeof what, "storing file %s", name);
    tr_code rc = exec(s,
                      "INSERT INTO model_files (family, name, kind, bytes, crc32, size) VALUES "
                      "($1::text, $2::text, $3::text, $4::bytea, $5::int8, $6::int8) ON CONFLICT "
                      "(family, name) DO UPDATE SET kind = EXCLUDED.kind, bytes = EXCLUDED.bytes, "
                      "crc32 = EXCLUDED.crc32, size = EXCLUDED.size, created_at = now()",
                      &p, what, err);
    params_free(&p);
    return rc;
}

static tr_code txn_files_insert(pg_store *s, const tr_reg_txn *txn, const txn_file *f,
                                tr_error *err)
{
    tr_code rc = TR_OK;
    for (size_t i = 0; i < txn->n_files && !rc; i++)
        rc = file_upsert(s, txn->files[i].name, txn->files[i].kind, f[i].data, f[i].len, f[i].crc,
                         err);
    return rc;
}

static tr_code pg_file_get(tr_store *st, const char *name, char **data, size_t *len, uint32_t *crc,
                           tr_error *err)
{
    pg_store *s = (pg_store *)st;
    params p = {0};
    PGresult *r;
    p_text(&p, family_of(s));
    p_text(&p, name);
    tr_code rc = query(s,
                       "SELECT bytes, crc32, size FROM model_files WHERE family = $1::text AND "
                       "name = $2::text",
                       &p, 1, &r, "reading a stored file", err);
    params_free(&p);
    if (rc)
        return rc;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return tr_fail(err, TR_ERR_NOTFOUND, "store %s has no file %s", s->base.safe, name);
    }
    size_t n = (size_t)PQgetlength(r, 0, 0);
    uint32_t want = (uint32_t)g_i64(r, 0, 1);
    int64_t size = g_i64(r, 0, 2);
    char *d = malloc(n + 1);
    if (!d) {
        PQclear(r);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory reading file %s (%zu bytes)", name, n);
    }
    memcpy(d, PQgetvalue(r, 0, 0), n);
    d[n] = '\0';
    PQclear(r);
    uint32_t got = aifx_crc32(0, d, n);
    if ((int64_t)n != size || got != want) {
        free(d);
        return tr_fail(err, TR_ERR_CHECKSUM,
                       "store %s: file %s in the database is damaged (%zu bytes, CRC-32 %08x; "
                       "recorded %lld bytes, %08x)",
                       s->base.safe, name, n, (unsigned)got, (long long)size, (unsigned)want);
    }
    *data = d;
    *len = n;
    *crc = got;
    return TR_OK;
}

static tr_code pg_file_put(tr_store *st, const char *name, const char *kind, const void *data,
                           size_t len, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    return file_upsert(s, name, kind, data, len, aifx_crc32(0, len ? data : "", len), err);
}

static tr_code pg_file_delete(tr_store *st, const char *name, tr_error *err)
{
    pg_store *s = (pg_store *)st;
    params p = {0};
    p_text(&p, family_of(s));
    p_text(&p, name);
    tr_code rc = exec(s, "DELETE FROM model_files WHERE family = $1::text AND name = $2::text", &p,
                      "deleting a stored file", err);
    params_free(&p);
    return rc;
}

static tr_code pg_file_list(tr_store *st, const char *prefix, tr_file_info **list, size_t *n,
                            tr_error *err)
{
    pg_store *s = (pg_store *)st;
    params p = {0};
    PGresult *r;
    p_text(&p, family_of(s));
    p_text(&p, prefix);
    /* the prefix compared as text, not as a LIKE pattern (its _ and % are plain characters) */
    tr_code rc = query(s,
                       "SELECT name, kind, crc32, size, extract(epoch FROM created_at)::int8 FROM "
                       "model_files WHERE family = $1::text AND left(name, length($2::text)) = "
                       "$2::text ORDER BY name COLLATE \"C\"",
                       &p, 1, &r, "listing the stored files", err);
    params_free(&p);
    if (rc)
        return rc;
    int rows = PQntuples(r);
    tr_file_info *l = calloc((size_t)rows + 1, sizeof *l);
    if (!l) {
        PQclear(r);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory listing the stored files");
    }
    for (int i = 0; i < rows; i++) {
        g_text(r, i, 0, l[i].name, sizeof l[i].name);
        g_text(r, i, 1, l[i].kind, sizeof l[i].kind);
        l[i].crc = (uint32_t)g_i64(r, i, 2);
        l[i].size = g_i64(r, i, 3);
        l[i].created_at = g_i64(r, i, 4);
    }
    PQclear(r);
    *list = l;
    *n = (size_t)rows;
    return TR_OK;
}

static const tr_store_ops pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .bars_put = pg_bars_put,
    .bars_get = pg_bars_get,
    .series_list = pg_series_list,
    .registry_read = pg_registry_read,
    .registry_commit = pg_registry_commit,
    .signal_put = pg_signal_put,
    .signals_get = pg_signals_get,
    .cycle_lock = pg_cycle_lock,
    .cycle_unlock = pg_cycle_unlock,
    .cycle_lock_check = pg_cycle_lock_check,
    .signals_append = pg_signals_append,
    .signals_update = pg_signals_update,
    .listen = pg_listen,
    .outbox_claim = pg_outbox_claim,
    .outbox_record = pg_outbox_record,
    .outbox_release = pg_outbox_release,
    .outbox_info = pg_outbox_info,
    .job_enqueue = pg_job_enqueue,
    .job_claim = pg_job_claim,
    .job_heartbeat = pg_job_heartbeat,
    .job_complete = pg_job_complete,
    .job_fail = pg_job_fail,
    .job_list = pg_job_list,
    .job_get = pg_job_get,
    .job_retry = pg_job_retry,
    .family_put = pg_family_put,
    .family_get = pg_family_get,
    .family_list = pg_family_list,
    .file_get = pg_file_get,
    .file_put = pg_file_put,
    .file_delete = pg_file_delete,
    .file_list = pg_file_list,
};

/* Sets search_path to one schema, for the session or (local) the transaction; the name is a
 * parameter, quoted by the server. */
static tr_code set_path(pg_store *s, const char *schema, int local, tr_error *err)
{
    params p = {0};
    p_text(&p, schema);
    p_text(&p, local ? "t" : "f");
    tr_code rc = exec(s, "SELECT set_config('search_path', quote_ident($1::text), $2::bool)", &p,
                      "setting the search path", err);
    params_free(&p);
    return rc;
}

/* The session's timeouts, where the connection string, PGOPTIONS or the role set none; and the
 * search path: our schema only (pg_catalog and the session's temporary schema are searched
 * implicitly), whatever the connection string or the role set, so that every unqualified name
 * of this file is one of ours. */
static tr_code session_setup(pg_store *s, tr_error *err)
{
    tr_code rc = exec(s,
                      "SELECT set_config('statement_timeout', '300s', false) WHERE "
                      "current_setting('statement_timeout') = '0'; ",
                      NULL, "setting timeouts", err);
    if (!rc)
        rc = exec(s,
                  "SELECT set_config('lock_timeout', '60s', false) WHERE "
                  "current_setting('lock_timeout') = '0'",
                  NULL, "setting timeouts", err);
    if (!rc)
        rc = exec(s,
                  "SELECT set_config('idle_in_transaction_session_timeout', '600s', false) WHERE "
                  "current_setting('idle_in_transaction_session_timeout') = '0'",
                  NULL, "setting timeouts", err);
    if (!rc)
        rc = set_path(s, s->schema, 0, err);
    return rc;
}

/* The schema of our objects: explicit, else $AIFX_PG_SCHEMA, else "aifx"; checked. */
static tr_code our_schema(const char *explicit_name, char *out, size_t size, tr_error *err)
{
    const char *env = getenv("AIFX_PG_SCHEMA");
    const char *name = explicit_name && explicit_name[0] ? explicit_name
                       : env && env[0]                   ? env
                                                         : TR_PG_DEFAULT_SCHEMA;
    if (!tr_pg_schema_name_valid(name) || strlen(name) >= size)
        return tr_fail(err, TR_ERR_INVALID,
                       "bad PostgreSQL schema name '%s' (--pg-schema, $AIFX_PG_SCHEMA: 1 to 63 "
                       "characters a-z, 0-9, _, not starting with a digit or pg_)",
                       name);
    snprintf(out, size, "%s", name);
    return TR_OK;
}

/* A connection lost between transactions (the server restarted, or it ended the session) is
 * re-established once, when the next statement comes: the session's settings again, and each
 * cycle lock this handle held is taken again when no other session holds it. Whether the lock is
 * still this run's is decided by its fencing token at the next commit (check_lock_tokens): a run
 * overtaken by another while it had no connection never commits. When the server is still
 * away, the statement fails as before ("the connection to the server is lost"). */
static void reconnect(pg_store *s)
{
    PQreset(s->conn);
    if (PQstatus(s->conn) != CONNECTION_OK)
        return;
    tr_error e;
    if (session_setup(s, &e) != TR_OK)
        return;
    for (int i = 0; i < PG_MAX_LOCKS; i++) {
        if (!s->locks[i][0])
            continue;
        params p = {0};
        p_text(&p, s->locks[i]);
        PQclear(PQexecParams(
            s->conn, "SELECT pg_try_advisory_lock(hashtextextended('aifx:' || $1::text, 0))", p.n,
            NULL, p.v, p.len, p.fmt, 0));
        params_free(&p);
    }
}

/* Connects; sets timeouts the session does not have yet (a conninfo's options, PGOPTIONS or a
 * role's settings win). */
static tr_code connect_store(const char *location, const char *schema, pg_store **out,
                             tr_error *err)
{
    *out = NULL;
    pg_store *s = calloc(1, sizeof *s);
    if (!s)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory opening store");
    tr_code rc0 = our_schema(schema, s->schema, sizeof s->schema, err);
    if (rc0) {
        free(s);
        return rc0;
    }
    s->base.ops = &pg_ops;
    tr_store_location_redact(location, s->base.safe, sizeof s->base.safe);
    snprintf(s->base.location, sizeof s->base.location, "%s", location);
    const char *keys[4], *vals[4];
    int k = 0;
    if (!getenv("PGCONNECT_TIMEOUT")) {
        keys[k] = "connect_timeout";
        vals[k++] = "10";
    }
    keys[k] = "application_name";
    vals[k++] = "aifx-train";
    keys[k] = "dbname"; /* the location, expanded: its settings override the two above */
    vals[k++] = location;
    keys[k] = NULL;
    vals[k] = NULL;
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (!s->conn) {
        free(s);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory connecting to a PostgreSQL store");
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        char msg[700];
        one_line(PQerrorMessage(s->conn), msg, sizeof msg);
        tr_code rc = tr_fail(err, TR_ERR_STORE, "store %s: cannot connect to PostgreSQL: %s",
                             s->base.safe, msg);
        pg_close(&s->base);
        return rc;
    }
    /* before our search path is set: where the connection's own search path finds a
     * schema_migrations table of ours (001's first row), as an earlier program that left the
     * schema to the connection would have created it */
    PGresult *r;
    params pl = {0};
    p_text(&pl, s->schema);
    tr_code rc = query(s,
                       "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                       "c.relnamespace WHERE c.oid = to_regclass('schema_migrations') AND "
                       "n.nspname <> $1::text AND EXISTS (SELECT 1 FROM pg_attribute a WHERE "
                       "a.attrelid = c.oid AND a.attname = 'applied_at')",
                       &pl, 1, &r, "looking for an earlier store", err);
    params_free(&pl);
    if (!rc) {
        if (PQntuples(r) == 1)
            g_text(r, 0, 0, s->legacy, sizeof s->legacy);
        PQclear(r);
        rc = session_setup(s, err);
    }
    if (rc) {
        pg_close(&s->base);
        return rc;
    }
    snprintf(s->base.models_dir, sizeof s->base.models_dir, "%s", PG_DEFAULT_MODELS_DIR);
    *out = s;
    return TR_OK;
}

static int latest_version(void)
{
    return tr_pg_n_migrations ? tr_pg_migrations[tr_pg_n_migrations - 1].version : 0;
}

/* The version of the migration that moves an earlier store into our schema (NNN_own_schema,
 * found by name so that the series can be renumbered): the ones before it are applied where the
 * earlier store is. */
static int own_schema_version(void)
{
    for (size_t i = 0; i < tr_pg_n_migrations; i++) {
        const char *n = tr_pg_migrations[i].name;
        size_t len = strlen(n);
        if (len > 11 && strcmp(n + len - 11, "_own_schema") == 0)
            return tr_pg_migrations[i].version;
    }
    return latest_version() + 1;
}
#define PG_OWN_SCHEMA_VERSION own_schema_version()

/* The schema version recorded in schema_migrations of the search path's schema (0 without the
 * table). */
static tr_code schema_version(pg_store *s, int *version, tr_error *err)
{
    PGresult *r;
    *version = 0;
    tr_code rc = query(s,
                       "SELECT c.oid IS NOT NULL FROM (SELECT to_regclass('schema_migrations') "
                       "AS oid) c",
                       NULL, 1, &r, "reading the schema version", err);
    if (rc)
        return rc;
    int exists = g_bool(r, 0, 0);
    PQclear(r);
    if (!exists)
        return TR_OK;
    rc = query(s, "SELECT coalesce(max(version), 0)::int8 FROM schema_migrations", NULL, 1, &r,
               "reading the schema version", err);
    if (rc)
        return rc;
    *version = (int)g_i64(r, 0, 0);
    PQclear(r);
    return TR_OK;
}

/* The version of the earlier store in s->legacy (0 when there is none to move: none found, or
 * one at or past the move, which is another store that chose that schema). */
static tr_code legacy_version(pg_store *s, int *version, tr_error *err)
{
    *version = 0;
    if (!s->legacy[0])
        return TR_OK;
    tr_code rc = begin(s, "reading the earlier store's schema version", err);
    if (!rc)
        rc = set_path(s, s->legacy, 1, err);
    if (!rc)
        rc = schema_version(s, version, err);
    rollback(s);
    if (!rc && *version >= PG_OWN_SCHEMA_VERSION)
        *version = 0;
    return rc;
}

/* ---- living beside the backend's tables ------------------------------------------------------ */

#define PG_VIEWS_VERSION 2 /* 2: production figures of every signal, with Sharpe */
enum { COL_PAIR, COL_TF, COL_TS, COL_OPEN, COL_HIGH, COL_LOW, COL_CLOSE, COL_VOLUME, N_COLS };
static const char *const col_keys[N_COLS] = {"pair", "timeframe", "timestamp", "open",
                                             "high", "low",       "close",     "volume"};

/* Runs several statements without parameters (DDL whose only variable parts are identifiers
 * quoted by ident), inside the caller's transaction. */
static tr_code exec_script(pg_store *s, const char *sql, const char *what, tr_error *err)
{
    PGresult *r = PQexec(s->conn, sql);
    tr_code rc = TR_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = pg_fail(s, r, what, err);
    PQclear(r);
    return rc;
}

/* backend_link's row. */
typedef struct link_cfg {
    char bschema[64];
    int views, views_version, signals, notify;
    char table[64];
    char col[N_COLS][64];
} link_cfg;

static tr_code read_link(pg_store *s, link_cfg *c, int *found, tr_error *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->bschema, sizeof c->bschema, "public");
    for (int i = 0; i < N_COLS; i++)
        snprintf(c->col[i], sizeof c->col[i], "%s", col_keys[i]);
    *found = 0;
    PGresult *r;
    tr_code rc = query(s,
                       "SELECT backend_schema, views, views_version::int8, signals, bars_table, "
                       "col_pair, col_timeframe, col_timestamp, col_open, col_high, col_low, "
                       "col_close, col_volume, bars_notify FROM backend_link",
                       NULL, 1, &r, "reading backend_link", err);
    if (rc)
        return rc;
    if (PQntuples(r) == 1) {
        *found = 1;
        int bad = g_text(r, 0, 0, c->bschema, sizeof c->bschema) ||
                  g_text(r, 0, 4, c->table, sizeof c->table);
        c->views = g_bool(r, 0, 1);
        c->views_version = (int)g_i64(r, 0, 2);
        c->signals = g_bool(r, 0, 3);
        for (int i = 0; i < N_COLS; i++)
            bad |= g_text(r, 0, 5 + i, c->col[i], sizeof c->col[i]);
        c->notify = g_bool(r, 0, 13);
        if (bad)
            rc = tr_fail(err, TR_ERR_FORMAT, "store %s: backend_link holds a name too long",
                         s->base.safe);
    }
    PQclear(r);
    return rc;
}

/* Identifiers for the SQL text of views and triggers (names, never values): quoted by libpq. */
static int ident(pg_store *s, const char *name, char *out, size_t size)
{
    char *q = PQescapeIdentifier(s->conn, name, strlen(name));
    if (!q)
        return -1;
    int fits = strlen(q) < size;
    if (fits)
        snprintf(out, size, "%s", q);
    PQfreemem(q);
    return fits ? 0 : -1;
}

/* Appends text with @S (our schema), @B (the backend's) and @T (the bars table) replaced. */
static void put_sql(tr_sb *b, const char *text, const char *S, const char *B, const char *T)
{
    for (const char *p = text; *p; p++) {
        if (p[0] == '@' && (p[1] == 'S' || p[1] == 'B' || p[1] == 'T')) {
            tr_sb_printf(b, "%s", p[1] == 'S' ? S : p[1] == 'B' ? B : T);
            p++;
        } else {
            tr_sb_printf(b, "%c", *p);
        }
    }
}

/* Appends text with @C replaced by col (a column expression), then @S and @B as put_sql. */
static void put_expr(tr_sb *b, const char *text, const char *col, const char *S, const char *B)
{
    tr_sb t = {0};
    for (const char *p = text; *p; p++) {
        if (p[0] == '@' && p[1] == 'C') {
            tr_sb_printf(&t, "%s", col);
            p++;
        } else {
            tr_sb_printf(&t, "%c", *p);
        }
    }
    if (t.oom)
        b->oom = 1;
    else
        put_sql(b, t.p ? t.p : "", S, B, "");
    tr_sb_free(&t);
}

/* The design's view v (registry/schema.c: tr_design_views; docs/schema.md 5.12 has the mapping)
 * as CREATE OR REPLACE VIEW in the backend's schema: each column made of its record field's
 * column where it has one, converted to the design's type. Fails naming a key that is not a
 * field (a field table changed without its view). */
static tr_code design_view_sql(const tr_design_view *v, tr_sb *q, const char *S, const char *B,
                               tr_error *err)
{
    put_sql(q, "CREATE OR REPLACE VIEW @B.", S, B, "");
    tr_sb_printf(q, "%s AS SELECT ", v->name);
    for (size_t i = 0; i < v->n_cols; i++) {
        const tr_design_column *c = &v->cols[i];
        tr_leaf leaf;
        tr_sb base = {0};
        int numeric = strncmp(c->type, "numeric", 7) == 0;
        int text = strncmp(c->type, "varchar", 7) == 0 || strcmp(c->type, "text") == 0;
        tr_ftype ft = TR_FT_GROUP; /* none */
        if (c->key) {
            if (!c->rec || !c->alias || tr_schema_leaf(c->rec, c->key, &leaf))
                return tr_fail(err, TR_ERR_INVALID, "the design's %s.%s: no field %s", v->name,
                               c->name, c->key);
            char col[2 * TR_LEAF_NAME_MAX];
            snprintf(col, sizeof col, "%s.%s", c->alias, leaf.column);
            ft = leaf.f->type;
            if (c->expr)
                put_expr(&base, c->expr, col, S, B);
            else
                tr_sb_printf(&base, "%s", col);
        } else if (c->expr) {
            put_expr(&base, c->expr, "", S, B);
        } else {
            tr_sb_printf(&base, "NULL");
        }
        const char *e = base.p ? base.p : "NULL";
        if (i)
            tr_sb_printf(q, ", ");
        if (!c->key && !c->expr)
            tr_sb_printf(q, "NULL::%s", c->type);
        else if (numeric)
            tr_sb_printf(q, "%s.aifx_fits(%s, %.17g)::%s", S, e, c->lim, c->type);
        else if (strcmp(c->type, "timestamp") == 0)
            tr_sb_printf(q, "(%s AT TIME ZONE 'UTC')::timestamp", e);
        else if (text && ft == TR_FT_ENUM)
            tr_sb_printf(q, "%s::text::%s", e, c->type);
        else if (text && ft == TR_FT_TEXT)
            tr_sb_printf(q, "nullif(%s, '')::%s", e, c->type);
        else if (strcmp(c->type, "integer") == 0 && ft == TR_FT_DOUBLE)
            tr_sb_printf(q, "round(%s.aifx_fits(%s, %.17g))::integer", S, e, c->lim);
        else
            tr_sb_printf(q, "(%s)::%s", e, c->type);
        tr_sb_printf(q, " AS %s", c->name);
        int oom = base.oom;
        tr_sb_free(&base);
        if (oom)
            return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    }
    tr_sb_printf(q, " ");
    put_sql(q, v->from, S, B, "");
    tr_sb_printf(q, ";\n");
    return TR_OK;
}

/* The design's two columns on the backend's own trading_signals (--backend-signals). The
 * design's REFERENCES model_ab_test(id) names the table behind the view, whose uuids the view
 * shows. */
static const char backend_signals_sql[] =
    "ALTER TABLE @B.trading_signals ADD COLUMN IF NOT EXISTS model_version varchar(50), "
    "ADD COLUMN IF NOT EXISTS ab_test_id uuid REFERENCES @S.model_ab_test (id);\n"
    "CREATE INDEX IF NOT EXISTS idx_signals_model_version ON @B.trading_signals "
    "(model_version);\n";

/* 1 when the table has rows (backend_timeframes, backend_pairs). */
static tr_code has_rows(pg_store *s, const char *sql, int *yes, tr_error *err)
{
    PGresult *r;
    tr_code rc = query(s, sql, NULL, 1, &r, "reading the bars mapping", err);
    if (!rc) {
        *yes = PQntuples(r) > 0;
        PQclear(r);
    }
    return rc;
}

/* The bars view (backend_bars, in our schema) over the backend's table, and when asked the
 * trigger that sends new_market_data for the rows the collection service inserts. */
static tr_code bars_view(pg_store *s, const link_cfg *c, const char *S, const char *B,
                         tr_error *err)
{
    char T[140], col[N_COLS][140];
    if (ident(s, c->table, T, sizeof T))
        return tr_fail(err, TR_ERR_INVALID, "bad table name");
    for (int i = 0; i < N_COLS; i++)
        if (ident(s, c->col[i], col[i], sizeof col[i]))
            return tr_fail(err, TR_ERR_INVALID, "bad column name");
    /* the table and its columns must exist; the timestamp's type decides the conversion */
    params p = {0};
    p_text(&p, c->bschema);
    p_text(&p, c->table);
    const char *names[N_COLS];
    for (int i = 0; i < N_COLS; i++)
        names[i] = c->col[i];
    p_array(&p, 's', names, N_COLS);
    PGresult *r;
    tr_code rc = query(s,
                       "SELECT u.name, a.atttypid::regtype::text FROM unnest($3::text[]) WITH "
                       "ORDINALITY AS u(name, i) LEFT JOIN pg_attribute a ON a.attrelid = "
                       "to_regclass(quote_ident($1::text) || '.' || quote_ident($2::text)) AND "
                       "a.attname = u.name AND a.attnum > 0 AND NOT a.attisdropped ORDER BY u.i",
                       &p, 1, &r, "reading the backend's bars table", err);
    params_free(&p);
    if (rc)
        return rc;
    int tz = 0;
    for (int i = 0; i < N_COLS && !rc; i++) {
        if (is_null(r, i, 1))
            rc = tr_fail(err, TR_ERR_NOTFOUND,
                         "store %s: the backend's table %s.%s has no column %s (for the bars' %s; "
                         "--bars-columns)",
                         s->base.safe, c->bschema, c->table, c->col[i], col_keys[i]);
        else if (i == COL_TS)
            tz = strcmp(PQgetvalue(r, i, 1), "timestamp with time zone") == 0;
    }
    PQclear(r);
    if (rc)
        return rc;
    int tf_map = 0, pair_map = 0;
    rc = has_rows(s, "SELECT 1 FROM backend_timeframes LIMIT 1", &tf_map, err);
    if (!rc)
        rc = has_rows(s, "SELECT 1 FROM backend_pairs LIMIT 1", &pair_map, err);
    if (rc)
        return rc;
    /* the same expressions over the table (m) for the view and over the inserted rows (m) for
     * the trigger */
    tr_sb sel = {0}, from = {0}, q = {0};
    if (pair_map)
        tr_sb_printf(&sel, "coalesce(bp.pair, m.%s::text)", col[COL_PAIR]);
    else
        tr_sb_printf(&sel, "m.%s::text", col[COL_PAIR]);
    tr_sb_printf(&sel, " AS pair, ");
    if (tf_map)
        tr_sb_printf(&sel, "bt.seconds");
    else
        tr_sb_printf(&sel, "m.%s::int4", col[COL_TF]);
    tr_sb_printf(&sel, " AS timeframe, ");
    if (tz)
        tr_sb_printf(&sel, "m.%s", col[COL_TS]);
    else
        tr_sb_printf(&sel, "(m.%s AT TIME ZONE 'UTC')", col[COL_TS]);
    tr_sb_printf(&sel, " AS \"timestamp\"");
    for (int i = COL_OPEN; i < N_COLS; i++)
        tr_sb_printf(&sel, ", m.%s::float8 AS %s", col[i], col_keys[i]);
    if (pair_map)
        tr_sb_printf(&from, " LEFT JOIN %s.backend_pairs bp ON bp.label = m.%s::text", S,
                     col[COL_PAIR]);
    if (tf_map)
        tr_sb_printf(&from, " JOIN %s.backend_timeframes bt ON bt.label = m.%s::text", S,
                     col[COL_TF]);
    tr_sb_printf(&q, "CREATE OR REPLACE VIEW %s.backend_bars AS SELECT %s FROM %s.%s m%s;\n", S,
                 sel.p, B, T, from.p ? from.p : "");
    if (c->notify) {
        tr_sb_printf(
            &q,
            "CREATE OR REPLACE FUNCTION %s.aifx_backend_bars_notify() RETURNS trigger LANGUAGE "
            "plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $aifx$ DECLARE r record; "
            "BEGIN FOR r IN SELECT b.pair, b.timeframe, count(*) AS n, min(b.\"timestamp\") AS "
            "first, max(b.\"timestamp\") AS last FROM "
            "(SELECT %s FROM aifx_new_rows m%s) b GROUP BY b.pair, b.timeframe ORDER BY b.pair, "
            "b.timeframe LOOP PERFORM pg_notify('new_market_data', format('{\"pair\":%%s,"
            "\"timeframe\":\"%%s\",\"n_added\":%%s,\"first\":\"%%s\",\"last\":\"%%s\"}', "
            "to_json(r.pair)::text, CASE WHEN r.timeframe %% 86400 = 0 THEN (r.timeframe / "
            "86400) || 'd' WHEN r.timeframe %% 3600 = 0 THEN (r.timeframe / 3600) || 'h' ELSE "
            "(r.timeframe / 60) || 'm' END, r.n, to_char(r.first AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), to_char(r.last AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))); END LOOP; RETURN NULL; END $aifx$;\n"
            "DROP TRIGGER IF EXISTS aifx_new_market_data ON %s.%s;\n"
            "CREATE TRIGGER aifx_new_market_data AFTER INSERT ON %s.%s REFERENCING NEW TABLE AS "
            "aifx_new_rows FOR EACH STATEMENT EXECUTE FUNCTION %s.aifx_backend_bars_notify();\n",
            S, sel.p, from.p ? from.p : "", B, T, B, T, S);
    }
    if (sel.oom || from.oom || q.oom)
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
    else
        rc = exec_script(s, q.p, "creating the view of the backend's bars", err);
    tr_sb_free(&sel);
    tr_sb_free(&from);
    tr_sb_free(&q);
    return rc;
}

/* "a=b,c=d" into (label, value) pairs: calls fn for each; -1 when malformed. */
static int parse_map(const char *spec, int (*fn)(void *, const char *, const char *), void *user)
{
    char buf[2048];
    if (strlen(spec) >= sizeof buf)
        return -1;
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1])
            return -1;
        *eq = '\0';
        if (fn(user, tok, eq + 1))
            return -1;
    }
    return 0;
}

static int set_column(void *user, const char *key, const char *name)
{
    link_cfg *c = user;
    for (int i = 0; i < N_COLS; i++)
        if (strcmp(key, col_keys[i]) == 0 && strlen(name) < sizeof c->col[i]) {
            snprintf(c->col[i], sizeof c->col[i], "%s", name);
            return 0;
        }
    return -1;
}

typedef struct map_rows {
    const char *l[128], *v[128];
    char store[128][2][64];
    int n, seconds; /* seconds: the values are timeframes */
} map_rows;

static int add_row(void *user, const char *label, const char *value)
{
    map_rows *m = user;
    if (m->n >= 128 || strlen(label) >= 64 || strlen(value) >= 64)
        return -1;
    if (m->seconds) {
        int32_t sec;
        if (tr_timeframe_parse(value, &sec)) {
            char *end;
            long v = strtol(value, &end, 10);
            if (*end || v <= 0 || v > 31 * 86400)
                return -1;
            sec = (int32_t)v;
        }
        snprintf(m->store[m->n][1], 64, "%d", (int)sec);
    } else {
        if (!tr_pair_valid(value))
            return -1;
        snprintf(m->store[m->n][1], 64, "%s", value);
    }
    snprintf(m->store[m->n][0], 64, "%s", label);
    m->l[m->n] = m->store[m->n][0];
    m->v[m->n] = m->store[m->n][1];
    m->n++;
    return 0;
}

/* The rows of backend_timeframes (seconds) or backend_pairs that spec gives: *changed when they
 * differ from the stored ones; with write, the stored ones are then replaced. */
static tr_code put_map(pg_store *s, const char *spec, int seconds, int write, int *changed,
                       tr_error *err)
{
    *changed = 0;
    map_rows *m = calloc(1, sizeof *m);
    if (!m)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
    m->seconds = seconds;
    tr_code rc = TR_OK;
    if (parse_map(spec, add_row, m))
        rc = tr_fail(err, TR_ERR_INVALID,
                     seconds ? "bad --bars-timeframes '%s' (LABEL=15m or LABEL=SECONDS, "
                               "comma-separated)"
                             : "bad --bars-pairs '%s' (LABEL=PAIR, PAIR as EURUSD, "
                               "comma-separated)",
                     spec);
    params p = {0};
    p_array(&p, 's', m->l, (size_t)m->n);
    p_array(&p, 's', m->v, (size_t)m->n);
    PGresult *r;
    if (!rc)
        rc = query(s,
                   seconds ? "SELECT (SELECT count(*) FROM backend_timeframes) <> "
                             "cardinality($1::text[]) OR EXISTS (SELECT 1 FROM unnest($1::text[], "
                             "$2::text[]) AS u(l, v) WHERE NOT EXISTS (SELECT 1 FROM "
                             "backend_timeframes t WHERE t.label = u.l AND t.seconds = u.v::int4))"
                           : "SELECT (SELECT count(*) FROM backend_pairs) <> "
                             "cardinality($1::text[]) OR EXISTS (SELECT 1 FROM unnest($1::text[], "
                             "$2::text[]) AS u(l, v) WHERE NOT EXISTS (SELECT 1 FROM "
                             "backend_pairs t WHERE t.label = u.l AND t.pair = u.v))",
                   &p, 1, &r, "reading the bars mapping", err);
    if (!rc) {
        *changed = g_bool(r, 0, 0);
        PQclear(r);
    }
    if (!rc && write && *changed)
        rc = exec(s, seconds ? "DELETE FROM backend_timeframes" : "DELETE FROM backend_pairs", NULL,
                  "setting the bars mapping", err);
    if (!rc && write && *changed && m->n)
        rc = exec(s,
                  seconds ? "INSERT INTO backend_timeframes (label, seconds) SELECT l, v::int4 "
                            "FROM unnest($1::text[], $2::text[]) AS u(l, v)"
                          : "INSERT INTO backend_pairs (label, pair) SELECT l, v FROM "
                            "unnest($1::text[], $2::text[]) AS u(l, v)",
                  &p, "setting the bars mapping", err);
    params_free(&p);
    free(m);
    return rc;
}

static int name_ok(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    return len > 0 && len < 64;
}

/* After the numbered migrations: what the options ask of the backend's side, recorded in
 * backend_link, in one transaction; nothing at all when nothing changes. */
static tr_code apply_link(pg_store *s, const tr_migrate_options *o, tr_migrate_result *res,
                          tr_error *err)
{
    link_cfg old, cur;
    int found;
    tr_code rc = read_link(s, &old, &found, err);
    if (rc)
        return rc;
    cur = old;
    if (o && o->backend_schema && o->backend_schema[0]) {
        if (!tr_pg_schema_name_valid(o->backend_schema) && strcmp(o->backend_schema, "public"))
            return tr_fail(err, TR_ERR_INVALID, "bad --backend-schema '%s'", o->backend_schema);
        snprintf(cur.bschema, sizeof cur.bschema, "%s", o->backend_schema);
    }
    if (o && o->backend_views)
        cur.views = 1;
    if (o && o->backend_signals)
        cur.signals = 1;
    if (o && o->bars_notify)
        cur.notify = 1;
    const char *tf_spec =
        o && o->bars_timeframes && o->bars_timeframes[0] ? o->bars_timeframes : NULL;
    const char *pair_spec = o && o->bars_pairs && o->bars_pairs[0] ? o->bars_pairs : NULL;
    int tf_changed = 0, pair_changed = 0;
    if (tf_spec)
        rc = put_map(s, tf_spec, 1, 0, &tf_changed, err);
    if (!rc && pair_spec)
        rc = put_map(s, pair_spec, 0, 0, &pair_changed, err);
    if (rc)
        return rc;
    int maps = tf_changed || pair_changed;
    if (o && o->bars_table && o->bars_table[0]) {
        if (!name_ok(o->bars_table))
            return tr_fail(err, TR_ERR_INVALID, "bad --bars-from '%s'", o->bars_table);
        snprintf(cur.table, sizeof cur.table, "%s", o->bars_table);
    }
    if (o && o->bars_columns && o->bars_columns[0] && parse_map(o->bars_columns, set_column, &cur))
        return tr_fail(err, TR_ERR_INVALID,
                       "bad --bars-columns '%s' (KEY=COLUMN, comma-separated; keys pair, "
                       "timeframe, timestamp, open, high, low, close, volume)",
                       o->bars_columns);
    if ((cur.notify || tf_spec || pair_spec || (o && o->bars_columns && o->bars_columns[0])) &&
        !cur.table[0])
        return tr_fail(err, TR_ERR_INVALID,
                       "--bars-columns, --bars-timeframes, --bars-pairs "
                       "and --bars-notify need --bars-from TABLE");
    if (cur.views)
        cur.views_version = PG_VIEWS_VERSION;
    /* the views follow the backend schema when it changes */
    int move_views = found && old.views && strcmp(old.bschema, cur.bschema) != 0;
    if (found && !maps && memcmp(&old, &cur, sizeof cur) == 0)
        return TR_OK;
    if (!found && !maps && !cur.views && !cur.signals && !cur.table[0])
        return TR_OK; /* nothing asked, nothing set up */
    char S[140], B[140], OB[140];
    if (ident(s, s->schema, S, sizeof S) || ident(s, cur.bschema, B, sizeof B) ||
        ident(s, old.bschema, OB, sizeof OB))
        return tr_fail(err, TR_ERR_INVALID, "bad schema name");
    rc = begin(s, "linking to the backend's tables", err);
    if (!rc) /* no "does not exist, skipping" notices */
        rc = exec(s, "SET LOCAL client_min_messages = warning", NULL, "linking", err);
    if (rc) {
        rollback(s);
        return rc;
    }
    params p = {0};
    p_text(&p, cur.bschema);
    p_text(&p, cur.views ? "t" : "f");
    p_i64(&p, cur.views_version);
    p_text(&p, cur.signals ? "t" : "f");
    p_text(&p, cur.table);
    for (int i = 0; i < N_COLS; i++)
        p_text(&p, cur.col[i]);
    p_text(&p, cur.notify ? "t" : "f");
    rc = exec(s,
              "INSERT INTO backend_link (one, backend_schema, views, views_version, signals, "
              "bars_table, col_pair, col_timeframe, col_timestamp, col_open, col_high, col_low, "
              "col_close, col_volume, bars_notify) VALUES (true, $1::text, $2::bool, $3::int4, "
              "$4::bool, $5::text, $6::text, $7::text, $8::text, $9::text, $10::text, $11::text, "
              "$12::text, $13::text, $14::bool) ON CONFLICT (one) DO UPDATE SET backend_schema = "
              "EXCLUDED.backend_schema, views = EXCLUDED.views, views_version = "
              "EXCLUDED.views_version, signals = EXCLUDED.signals, bars_table = "
              "EXCLUDED.bars_table, col_pair = EXCLUDED.col_pair, col_timeframe = "
              "EXCLUDED.col_timeframe, col_timestamp = EXCLUDED.col_timestamp, col_open = "
              "EXCLUDED.col_open, col_high = EXCLUDED.col_high, col_low = EXCLUDED.col_low, "
              "col_close = EXCLUDED.col_close, col_volume = EXCLUDED.col_volume, bars_notify = "
              "EXCLUDED.bars_notify",
              &p, "recording backend_link", err);
    params_free(&p);
    int changed;
    if (!rc && tf_changed)
        rc = put_map(s, tf_spec, 1, 1, &changed, err);
    if (!rc && pair_changed)
        rc = put_map(s, pair_spec, 0, 1, &changed, err);
    tr_sb q = {0};
    if (move_views)
        put_sql(&q,
                "DROP VIEW IF EXISTS @B.model_versions; DROP VIEW IF EXISTS @B.model_ab_test; "
                "DROP VIEW IF EXISTS @B.model_training_log;\n",
                S, OB, "");
    if (cur.views && (move_views || !old.views || old.views_version != cur.views_version))
        for (size_t i = 0; i < tr_n_design_views && !rc; i++)
            rc = design_view_sql(&tr_design_views[i], &q, S, B, err);
    if (cur.signals && (!old.signals || strcmp(old.bschema, cur.bschema) != 0))
        put_sql(&q, backend_signals_sql, S, B, "");
    if (!rc && q.oom)
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory");
    if (!rc && q.p)
        rc = exec_script(s, q.p, "creating the design's views and columns", err);
    tr_sb_free(&q);
    if (!rc && cur.table[0])
        rc = bars_view(s, &cur, S, B, err);
    if (!rc)
        rc = commit(s, "linking to the backend's tables", err);
    if (rc) {
        rollback(s);
        return rc;
    }
    snprintf(res->backend, sizeof res->backend, "%s%s%s%s%s%s", cur.views ? "views in " : "",
             cur.views ? cur.bschema : "", cur.signals ? "; trading_signals columns" : "",
             cur.table[0] ? "; bars from " : "", cur.table[0] ? cur.table : "",
             cur.notify ? " (with the new_market_data trigger)" : "");
    return TR_OK;
}

tr_code tr_store_pg_open(const char *location, tr_store **out, tr_error *err)
{
    pg_store *s;
    *out = NULL;
    tr_code rc = connect_store(location, NULL, &s, err);
    if (rc)
        return rc;
    int v = 0, lv = 0, latest = latest_version();
    rc = schema_version(s, &v, err);
    if (!rc && v == 0)
        rc = legacy_version(s, &lv, err);
    if (!rc && v == 0 && lv > 0)
        rc = tr_fail(err, TR_ERR_VERSION,
                     "store %s: schema at version %d in schema %s (an earlier aifx-train), this "
                     "program needs %d in schema %s: run aifx-train db migrate",
                     s->base.safe, lv, s->legacy, latest, s->schema);
    if (!rc && v < latest && lv == 0)
        rc = tr_fail(err, TR_ERR_VERSION,
                     "store %s: schema at version %d, this program needs %d: run aifx-train db "
                     "migrate",
                     s->base.safe, v, latest);
    if (!rc && v > latest)
        rc = tr_fail(err, TR_ERR_VERSION,
                     "store %s: schema at version %d is newer than this program knows (%d): use "
                     "a newer aifx-train",
                     s->base.safe, v, latest);
    if (!rc) {
        link_cfg c;
        int found;
        rc = read_link(s, &c, &found, err);
        s->bars_backend = !rc && found && c.table[0];
    }
    if (rc) {
        pg_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return TR_OK;
}

/* Creates our schema when it does not exist (inside the first migration's transaction). */
static tr_code create_schema(pg_store *s, tr_error *err)
{
    params p = {0};
    p_text(&p, s->schema);
    PGresult *r;
    tr_code rc = query(s, "SELECT 1 FROM pg_namespace WHERE nspname = $1::text", &p, 1, &r,
                       "looking for the store's schema", err);
    params_free(&p);
    if (rc)
        return rc;
    int exists = PQntuples(r) > 0;
    PQclear(r);
    if (exists)
        return TR_OK;
    char S[140], sql[200];
    if (ident(s, s->schema, S, sizeof S))
        return tr_fail(err, TR_ERR_INVALID, "bad schema name");
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", S);
    return exec(s, sql, NULL, "creating the store's schema", err);
}

tr_code tr_store_pg_migrate(const char *location, const tr_migrate_options *o,
                            tr_migrate_result *res, tr_error *err)
{
    pg_store *s;
    memset(res, 0, sizeof *res);
    res->latest = latest_version();
    tr_code rc = connect_store(location, o ? o->schema : NULL, &s, err);
    if (rc)
        return rc;
    snprintf(res->location, sizeof res->location, "%s", s->base.safe);
    snprintf(res->schema, sizeof res->schema, "%s", s->schema);
    /* one migrate at a time: a second one waits here, then finds the schema current */
    rc = exec(s, "SELECT pg_advisory_lock(hashtextextended('aifx:migrate', 0))", NULL,
              "waiting for another migration", err);
    if (rc)
        goto out;
    int v = 0, lv = 0;
    rc = schema_version(s, &v, err);
    if (!rc && v == 0)
        rc = legacy_version(s, &lv, err);
    if (rc)
        goto unlock;
    if (lv > 0) {
        v = lv; /* an earlier store: its missing migrations there, then 003 moves it */
        snprintf(res->moved_from, sizeof res->moved_from, "%s", s->legacy);
    }
    res->from = res->to = v;
    if (v > res->latest) {
        rc = tr_fail(err, TR_ERR_VERSION,
                     "store %s: schema at version %d is newer than this program knows (%d): use "
                     "a newer aifx-train",
                     s->base.safe, v, res->latest);
        goto unlock;
    }
    tr_sb names = {0};
    for (size_t i = 0; i < tr_pg_n_migrations && !rc; i++) {
        const tr_pg_migration *m = &tr_pg_migrations[i];
        if (m->version <= v)
            continue;
        char what[128];
        snprintf(what, sizeof what, "applying migration %s", m->name);
        rc = begin(s, what, err);
        if (!rc)
            rc = create_schema(s, err);
        if (!rc && lv > 0 && m->version < PG_OWN_SCHEMA_VERSION)
            rc = set_path(s, s->legacy, 1, err);
        if (!rc && lv > 0 && m->version == PG_OWN_SCHEMA_VERSION) {
            params p = {0};
            p_text(&p, s->legacy);
            rc = exec(s, "SELECT set_config('aifx.legacy_schema', $1::text, true)", &p, what, err);
            params_free(&p);
        }
        if (rc) {
            rollback(s);
            break;
        }
        /* the migration's own text: several statements, no parameters (simple protocol) */
        PGresult *r = PQexec(s->conn, m->sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = pg_fail(s, r, what, err);
        PQclear(r);
        if (!rc) {
            params p = {0};
            p_i64(&p, m->version);
            p_text(&p, m->name);
            rc =
                exec(s, "INSERT INTO schema_migrations (version, name) VALUES ($1::int4, $2::text)",
                     &p, what, err);
            params_free(&p);
        }
        if (!rc)
            rc = commit(s, what, err);
        if (rc) {
            rollback(s);
            break;
        }
        res->to = m->version;
        tr_sb_printf(&names, "%s%s", names.n ? ", " : "", m->name);
    }
    snprintf(res->applied, sizeof res->applied, "%s", names.p && !names.oom ? names.p : "");
    tr_sb_free(&names);
    if (!rc)
        rc = apply_link(s, o, res, err);
unlock:
    if (PQstatus(s->conn) == CONNECTION_OK) {
        PGresult *r = PQexec(s->conn, "SELECT pg_advisory_unlock_all()");
        PQclear(r);
    }
out:
    pg_close(&s->base);
    return rc;
}
