/*
 * cmd_ab.h - `aifx-train ab ...`, the A/B test commands (docs/cli.md). Part of the program, not
 * of aifxtrain: it prints.
 */
#ifndef AIFXT_CMD_AB_H
#define AIFXT_CMD_AB_H

/* Runs `ab <subcommand> ...` on argv (argv[1] is "ab"); returns the exit status. */
int tr_cmd_ab(int argc, char **argv);

#endif
