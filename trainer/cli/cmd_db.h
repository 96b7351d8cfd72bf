/*
 * cmd_db.h - the commands of the PostgreSQL store: `aifx-train db migrate` and
 * `aifx-train listen` (docs/cli.md). Part of the program, not of aifxtrain: they print.
 */
#ifndef AIFXT_CMD_DB_H
#define AIFXT_CMD_DB_H

#include "base/err.h"

/* Each runs the command on argv[2..argc) (argv[1] is the command's name) and returns the
 * process's exit status; errors go through fail (main.c's printer and exit-code map). */
int tr_cmd_db(int argc, char **argv, int (*fail)(const tr_error *e));
int tr_cmd_listen(int argc, char **argv, int (*fail)(const tr_error *e));

#endif
