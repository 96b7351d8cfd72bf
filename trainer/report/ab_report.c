/* ab_report.c - an A/B test's analysis as Markdown (ab_report.h). */
#include "report/ab_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/strbuf.h"
#include "base/timeutil.h"

/* v with the given decimals, or "-" when not finite. */
static void md_num(tr_sb *b, int decimals, double v)
{
    if (isfinite(v))
        tr_sb_printf(b, "%.*f", decimals, v);
    else
        tr_sb_printf(b, "-");
}

/* A p-value with 3 significant digits, or "-". */
static void md_p(tr_sb *b, double p)
{
    if (isfinite(p))
        tr_sb_printf(b, "%.3g", p);
    else
        tr_sb_printf(b, "-");
}

char *tr_ab_report_markdown(const tr_ab_report *r)
{
    const tr_ab_test *t = &r->test;
    char a0[32], a1[32], a2[32];
    tr_sb b = {0};
    tr_sb_printf(&b, "# A/B test %s: %s (A) vs %s (B)\n\n", t->id, t->version_a, t->version_b);
    tr_sb_printf(&b,
                 "Pairs %s, %.0f%% of bars to B by a seeded hash (seed %016llx), started %s, "
                 "planned end %s%s; status **%s**%s%s.\n\n",
                 t->pairs[0] ? t->pairs : "all", 100 * t->split, (unsigned long long)t->seed,
                 tr_time_format(t->started_at, a0, sizeof a0),
                 tr_time_format(t->planned_end, a1, sizeof a1),
                 t->min_trades ? " or the planned trades per arm" : "",
                 tr_ab_status_name(t->status), t->end_reason[0] ? ", " : "", t->end_reason);
    tr_sb_printf(&b, "Analysis as of %s: information fraction %.3f%s, %d look(s) recorded.\n\n",
                 tr_time_format(r->as_of, a2, sizeof a2), r->info_frac,
                 r->at_end ? " (the planned end)" : "", t->n_looks);
    tr_sb_printf(&b, "| arm | version | predictions | trades | open | win rate | total pips | "
                     "avg pips | Sharpe/trade |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int k = 0; k < 2; k++) {
        tr_sb_printf(&b, "| %s | %s | %lld | %zu | %lld | ", k ? "B" : "A",
                     k ? t->version_b : t->version_a, (long long)r->n_pred[k], r->arm[k].n,
                     (long long)r->n_open[k]);
        md_num(&b, 4, r->win_rate[k]);
        tr_sb_printf(&b, " | ");
        md_num(&b, 1, r->total_pips[k]);
        tr_sb_printf(&b, " | ");
        md_num(&b, 2, r->avg_pips[k]);
        tr_sb_printf(&b, " | ");
        md_num(&b, 3, k ? r->v.sharpe_b : r->v.sharpe_a);
        tr_sb_printf(&b, " |\n");
    }
    const tr_ab_verdict *v = &r->v;
    tr_sb_printf(&b, "\n- win rate, two-proportion z-test: z ");
    md_num(&b, 3, v->z.z);
    tr_sb_printf(&b, ", p ");
    md_p(&b, v->z.p);
    tr_sb_printf(&b, "\n- mean PnL (primary), Welch's t-test: t ");
    md_num(&b, 3, v->t.t);
    tr_sb_printf(&b, ", df ");
    md_num(&b, 1, v->t.df);
    tr_sb_printf(&b, ", p ");
    md_p(&b, v->t.p);
    tr_sb_printf(&b, "\n- early-stopping boundary at this look (O'Brien-Fleming-type spending): "
                     "|z| >= ");
    md_num(&b, 3, v->boundary);
    tr_sb_printf(&b, " (Welch's t as a normal deviate: ");
    md_num(&b, 3, v->z_welch);
    tr_sb_printf(&b, ")\n- trades per arm needed at 80%% power for the observed difference: ");
    md_num(&b, 0, v->n_props);
    tr_sb_printf(&b, " (win rate), ");
    md_num(&b, 0, v->n_means);
    tr_sb_printf(&b, " (mean PnL)\n\n");
    const char *call = r->stats_ok ? tr_ab_call_text(v->call) : "";
    if (t->status == TR_AB_COMPLETED)
        tr_sb_printf(&b, "**Verdict: %s** (final, %s).\n", t->verdict, t->end_reason);
    else if (t->status == TR_AB_STOPPED)
        tr_sb_printf(&b, "**Stopped by hand**: no verdict.\n");
    else if (!r->stats_ok)
        tr_sb_printf(&b, "**Not enough data** for the statistics: %s.\n", r->stats_error);
    else if (call[0])
        tr_sb_printf(&b, "**Verdict at this look: %s** (recorded when the scheduler looks).\n",
                     call);
    else
        tr_sb_printf(&b, "**Running**: no boundary crossed; the verdict is final only at the "
                         "planned end.\n");
    if (b.oom) {
        tr_sb_free(&b);
        return NULL;
    }
    return b.p;
}
