/*
 * err.h - the trainer's result codes and the error record that names what was wrong.
 *
 * Every trainer function that can fail returns a tr_code and, when it fails, fills a tr_error
 * (if the caller passed one) with a message naming the file, line, pair or object at fault.
 * Only main.c prints these messages and maps codes to exit statuses (docs/cli.md).
 */
#ifndef AIFXT_ERR_H
#define AIFXT_ERR_H

typedef enum tr_code {
    TR_OK = 0,
    TR_ERR_NOMEM,       /* an allocation failed */
    TR_ERR_INVALID,     /* an invalid argument or option (bad pair name, from >= to, ...) */
    TR_ERR_DATA,        /* input data rejected by validation (a CSV line, a bar's values) */
    TR_ERR_CONFLICT,    /* an ingested bar differs from the stored bar at the same time */
    TR_ERR_IO,          /* reading or writing a file or directory failed */
    TR_ERR_FORMAT,      /* a store file is not in the expected format (magic, size, order) */
    TR_ERR_VERSION,     /* a store file or layout is newer than this program reads */
    TR_ERR_CHECKSUM,    /* a store file's checksum does not match its contents */
    TR_ERR_NOTFOUND,    /* the requested series, pair or range holds nothing */
    TR_ERR_UNSUPPORTED, /* a feature not built into this program (e.g. a PostgreSQL store) */
    TR_ERR_STALE,       /* the newest data is older than the allowed age (predict) */
    TR_ERR_STORE        /* the database server failed or cannot be reached (PostgreSQL store) */
} tr_code;

typedef struct tr_error {
    tr_code code;
    char msg[1024];
} tr_error;

#if defined(__GNUC__)
#define TR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TR_PRINTF(a, b)
#endif

/* Records code and the formatted message in err (which may be NULL) and returns code. */
tr_code tr_fail(tr_error *err, tr_code code, const char *fmt, ...) TR_PRINTF(3, 4);

/* Resets err to TR_OK with an empty message; err may be NULL. */
void tr_error_clear(tr_error *err);

/* A static name for a code, e.g. "bad input data"; never NULL. */
const char *tr_code_text(tr_code code);

#endif
