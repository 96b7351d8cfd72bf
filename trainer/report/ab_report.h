/*
 * ab_report.h - one analysis of an A/B test (the figures cycles/abtest.c computes at a look or
 * for `ab report`) and its Markdown rendering (docs/abtest.md).
 */
#ifndef AIFXT_AB_REPORT_H
#define AIFXT_AB_REPORT_H

#include <stdint.h>

#include "market/abstat.h"
#include "registry/registry.h"

/* One analysis of a test. */
typedef struct tr_ab_report {
    tr_ab_test test; /* as stored (with this look appended when recorded) */
    int64_t as_of;
    double info_frac;  /* of this analysis */
    int at_end;        /* the planned end is reached */
    tr_ab_arm arm[2];  /* resolved trades of A and B */
    int64_t n_pred[2]; /* signals served by A and B */
    int64_t n_open[2]; /* signals still open */
    double total_pips[2], avg_pips[2], win_rate[2];
    tr_ab_verdict v; /* the statistics and the call */
    int stats_ok;    /* 0 when tr_ab_decide refused (then v.call is CONTINUE) */
    char stats_error[256];
} tr_ab_report;

/* The analysis as Markdown, into a malloc'd string (NULL when out of memory). */
char *tr_ab_report_markdown(const tr_ab_report *r);

#endif
