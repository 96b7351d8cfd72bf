/*
 * timeline.c - the replay's timeline as Markdown (timeline.h): the cycles run, activations,
 * A/B tests, retirements, and figures per month of the replayed period.
 */
#define _POSIX_C_SOURCE 200809L

#include "report/timeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "market/labels.h"

static int64_t month_key(int64_t t)
{
    int64_t y;
    int m, d;
    tr_civil_from_days(t >= 0 ? t / 86400 : -((-t + 86399) / 86400), &y, &m, &d);
    return y * 12 + (m - 1);
}

/* When an activation happened on the simulated clock: the ranking's and an A/B test's (stamped
 * with their slot time), else the as-of time of the version it activated (the gate's and the
 * first model's). */
static int64_t activation_time(const tr_registry *reg, const tr_activation *a)
{
    if (strcmp(a->reason, "rank") == 0 || strcmp(a->reason, "ab_test") == 0)
        return a->at;
    const tr_version *v = tr_registry_find(reg, a->to);
    return v ? v->as_of : a->at;
}

static void fmt_short(int64_t t, char *buf, size_t size)
{
    tr_time_format(t, buf, size);
    size_t n = strlen(buf);
    if (n >= 4 && strcmp(buf + n - 4, ":00Z") == 0)
        buf[n - 4] = '\0'; /* 2025-01-05T01:00 */
}

static void cell(tr_sb *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            tr_sb_put(b, "\\|", 2);
        else if (*s == '\n')
            tr_sb_put(b, " ", 1);
        else
            tr_sb_put(b, s, 1);
    }
}

typedef struct month_figs {
    int full, daily, blessed, not_blessed, skipped, failed, ranks, activations, retired;
    int64_t signals, buys, sells, trades, wins;
    double pips, percent;
} month_figs;

tr_code tr_timeline_render(const tr_timeline *o, tr_sb *b, tr_error *err)
{
    const tr_registry *reg = o->reg;
    char t0[40], t1[40];
    tr_sb_printf(b, "# Replay");
    for (int i = 0; i < o->n_pairs; i++)
        tr_sb_printf(b, "%s %s", i ? "," : "", o->pair[i]);
    tr_time_format(o->from, t0, sizeof t0);
    tr_time_format(o->to, t1, sizeof t1);
    tr_sb_printf(b, ", %s .. %s\n\n", t0, t1);
    tr_sb_printf(b,
                 "%zu steps of %d s (this run: %zu%s), %.1f s wall (cycles %.1f s, "
                 "predictions %.1f s). Active at the end: %s.\n\n",
                 o->n_steps, (int)o->timeframe, o->n_steps_run, o->resumed ? ", resumed" : "",
                 o->seconds, o->seconds_cycles, o->seconds_predict,
                 o->active && o->active[0] ? o->active : "none");

    tr_sb_printf(b, "## Cycles\n\n| scheduled (UTC) | cycle | status | version | verdict | "
                    "candidate | active | note |\n|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < reg->n_log; i++) {
        const tr_log_row *l = &reg->log[i];
        fmt_short(l->as_of, t0, sizeof t0);
        tr_sb_printf(b, "| %s | %s | %s | %s | %s | ", t0, l->cycle, tr_log_status_name(l->status),
                     l->version[0] ? l->version : "-", l->verdict[0] ? l->verdict : "-");
        if (isfinite(l->candidate_value))
            tr_sb_printf(b, "%.4f | ", l->candidate_value);
        else
            tr_sb_printf(b, "- | ");
        if (isfinite(l->active_value))
            tr_sb_printf(b, "%.4f | ", l->active_value);
        else
            tr_sb_printf(b, "- | ");
        char note[200];
        snprintf(note, sizeof note, "%.190s", l->status == TR_LOG_FAILED ? l->error : l->reason);
        cell(b, note);
        tr_sb_printf(b, " |\n");
    }

    tr_sb_printf(b, "\n## Activations\n\n| when (simulated) | from | to | reason |\n"
                    "|---|---|---|---|\n");
    for (size_t i = 0; i < reg->n_activations; i++) {
        const tr_activation *a = &reg->activations[i];
        fmt_short(activation_time(reg, a), t0, sizeof t0);
        tr_sb_printf(b, "| %s | %s | %s | %s |\n", t0, a->from[0] ? a->from : "-", a->to,
                     a->reason);
    }
    if (reg->n_abtests) {
        tr_sb_printf(b, "\n## A/B tests\n\n| test | A | B | started | ended | status | "
                        "verdict | trades A / B | win rate A / B | avg pips A / B | Welch p | "
                        "looks |\n|---|---|---|---|---|---|---|---:|---:|---:|---:|---:|\n");
        for (size_t i = 0; i < reg->n_abtests; i++) {
            const tr_ab_test *t = &reg->abtests[i];
            const tr_ab_report *rep = &o->ab[i];
            if (!o->ab_ok[i])
                continue;
            fmt_short(t->started_at, t0, sizeof t0);
            if (t->ended_at)
                fmt_short(t->ended_at, t1, sizeof t1);
            else
                snprintf(t1, sizeof t1, "-");
            tr_sb_printf(b,
                         "| %s | %s | %s | %s | %s | %s | %s%s%s | %zu / %zu | %.3f / %.3f | "
                         "%.2f / %.2f | ",
                         t->id, t->version_a, t->version_b, t0, t1, tr_ab_status_name(t->status),
                         t->verdict[0] ? t->verdict : "-", t->end_reason[0] ? ", " : "",
                         t->end_reason, rep->arm[0].n, rep->arm[1].n, rep->win_rate[0],
                         rep->win_rate[1], rep->avg_pips[0], rep->avg_pips[1]);
            if (rep->stats_ok && rep->v.t.ok)
                tr_sb_printf(b, "%.3g | %d |\n", rep->v.t.p, t->n_looks);
            else
                tr_sb_printf(b, "- | %d |\n", t->n_looks);
        }
    }
    tr_sb_printf(b, "\n## Retired\n\n");
    int any = 0;
    for (size_t i = 0; i < reg->n_versions; i++) {
        const tr_version *v = &reg->versions[i];
        if (!v->deprecated_at)
            continue;
        if (!any)
            tr_sb_printf(b, "| version | retired (simulated) | reason |\n|---|---|---|\n");
        any = 1;
        fmt_short(v->deprecated_at, t0, sizeof t0);
        tr_sb_printf(b, "| %s | %s | ", v->version, t0);
        cell(b, v->deprecation_reason);
        tr_sb_printf(b, " |\n");
    }
    if (!any)
        tr_sb_printf(b, "None.\n");

    /* figures per month of the replayed period */
    int64_t m0 = month_key(o->from), m1 = month_key(o->to - 1);
    size_t nm = (size_t)(m1 - m0 + 1);
    month_figs *mf = calloc(nm ? nm : 1, sizeof *mf);
    if (!mf)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory");
#define MONTH(t) (month_key(t) >= m0 && month_key(t) <= m1 ? &mf[month_key(t) - m0] : NULL)
    for (size_t i = 0; i < reg->n_log; i++) {
        const tr_log_row *l = &reg->log[i];
        month_figs *f = MONTH(l->as_of);
        if (!f)
            continue;
        if (l->status == TR_LOG_SKIPPED)
            f->skipped++;
        else if (l->status == TR_LOG_FAILED)
            f->failed++;
        else if (strcmp(l->cycle, "full") == 0)
            f->full++;
        else if (strcmp(l->cycle, "rank") == 0)
            f->ranks++;
        else if (strcmp(l->cycle, "incremental") == 0) {
            f->daily++;
            f->blessed += strcmp(l->verdict, "blessed") == 0 || strcmp(l->verdict, "forced") == 0;
            f->not_blessed += strcmp(l->verdict, "not_blessed") == 0;
        }
    }
    for (size_t i = 0; i < reg->n_activations; i++) {
        month_figs *f = MONTH(activation_time(reg, &reg->activations[i]));
        if (f)
            f->activations++;
    }
    for (size_t i = 0; i < reg->n_versions; i++) {
        month_figs *f =
            reg->versions[i].deprecated_at ? MONTH(reg->versions[i].deprecated_at) : NULL;
        if (f)
            f->retired++;
    }
    for (int p = 0; p < o->n_pairs; p++)
        for (size_t k = 0; k < o->n_sigs[p]; k++) {
            const tr_signal *g = &o->sigs[p][k];
            month_figs *f = MONTH(g->bar_time);
            if (!f || g->bar_time < o->from)
                continue;
            f->signals++;
            f->buys += g->signal == TR_LABEL_BUY;
            f->sells += g->signal == TR_LABEL_SELL;
            int win = strcmp(g->outcome, "win") == 0;
            if (win || strcmp(g->outcome, "loss") == 0) {
                f->trades++;
                f->wins += win;
                f->pips += g->pnl_pips;
                f->percent += g->pnl_percent;
            }
        }
#undef MONTH
    tr_sb_printf(b,
                 "\n## Per month\n\nCycles by their scheduled time; signals by their bar; "
                 "trades are the signals that opened a position and exited (outcome.h), PnL "
                 "net of the spread, summed over the pairs.\n\n"
                 "| month | full | daily | blessed | not blessed | skipped | failed | rankings | "
                 "activations | retired | signals | buy / sell | trades | win rate | pips | "
                 "sum %% |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < nm; i++) {
        const month_figs *f = &mf[i];
        int64_t key = m0 + (int64_t)i;
        tr_sb_printf(b,
                     "| %04lld-%02d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %lld | "
                     "%lld / %lld | %lld | ",
                     (long long)(key / 12), (int)(key % 12) + 1, f->full, f->daily, f->blessed,
                     f->not_blessed, f->skipped, f->failed, f->ranks, f->activations, f->retired,
                     (long long)f->signals, (long long)f->buys, (long long)f->sells,
                     (long long)f->trades);
        if (f->trades)
            tr_sb_printf(b, "%.3f | %.1f | %.3f |\n", (double)f->wins / (double)f->trades, f->pips,
                         f->percent);
        else
            tr_sb_printf(b, "- | 0.0 | 0.000 |\n");
    }
    free(mf);
    return b->oom ? tr_fail(err, TR_ERR_NOMEM, "out of memory") : TR_OK;
}
