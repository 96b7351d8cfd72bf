/*
 * migrations.h - the numbered SQL migrations of the PostgreSQL store (trainer/store/sql/NNN_*.sql),
 * embedded into the program at build time by cmake/AifxEmbedSql.cmake. Used by store_pg.c.
 */
#ifndef AIFXT_SQL_MIGRATIONS_H
#define AIFXT_SQL_MIGRATIONS_H

#include <stddef.h>

typedef struct tr_pg_migration {
    int version;      /* 1, 2, ... */
    const char *name; /* "001_initial" */
    const char *sql;  /* the file's text */
} tr_pg_migration;

extern const tr_pg_migration tr_pg_migrations[]; /* (tr_pg_n_migrations) in version order */
extern const size_t tr_pg_n_migrations;

#endif
