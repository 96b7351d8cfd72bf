/*
 * outcome.c - resolving signals into outcomes (outcome.h). The walk is tr_backtest's loop
 * (backtest.c) over the signals' bars, each position's exit found by the same trade rule
 * (tr_bt_exit_walk), with the live differences stated in outcome.h: no exit at
 * the end of the data, and a signal on the newest bar waits for the next one. check_outcome.c
 * checks that it yields tr_backtest's trades on the same path.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/backtest.h"
#include "market/labels.h"
#include "market/outcome.h"
#include "market/ta.h"

int tr_outcome_final(const tr_signal *sig)
{
    return sig->reported || strcmp(sig->outcome, "win") == 0 || strcmp(sig->outcome, "loss") == 0 ||
           strcmp(sig->outcome, "none") == 0;
}

tr_code tr_outcome_atr(const tr_bar *bars, size_t n, double *atr, tr_error *err)
{
    if (n == 0)
        return TR_OK;
    double *w = malloc(3 * n * sizeof *w);
    if (!w)
        return tr_fail(err, TR_ERR_NOMEM, "out of memory for the ATR of %zu bars", n);
    double *h = w, *l = w + n, *c = w + 2 * n;
    for (size_t k = 0; k < n; k++)
        h[k] = bars[k].high, l[k] = bars[k].low, c[k] = bars[k].close;
    ta_atr(n, h, l, c, 14, atr);
    free(w);
    return TR_OK;
}

static int cmp_sig(const void *a, const void *b)
{
    const tr_signal *x = a, *y = b;
    if (x->bar_time != y->bar_time)
        return (x->bar_time > y->bar_time) - (x->bar_time < y->bar_time);
    return (x->id > y->id) - (x->id < y->id);
}

void tr_signals_sort(tr_signal *sigs, size_t n)
{
    if (n > 1)
        qsort(sigs, n, sizeof *sigs, cmp_sig);
}

const char *tr_outcome_report_refused(const tr_signal *sig, const char *outcome, double pnl_pips,
                                      int64_t closed_at)
{
    if (!outcome || (strcmp(outcome, "win") != 0 && strcmp(outcome, "loss") != 0))
        return "outcome";
    if (!isfinite(pnl_pips))
        return "pnl_pips";
    if (closed_at <= sig->bar_time)
        return "closed_at";
    if (sig->signal != TR_LABEL_BUY && sig->signal != TR_LABEL_SELL)
        return "id";
    return NULL;
}

tr_code tr_outcome_report(tr_signal *sig, const char *outcome, double pnl_pips, int64_t closed_at,
                          tr_error *err)
{
    const char *bad = tr_outcome_report_refused(sig, outcome, pnl_pips, closed_at);
    long long id = (long long)sig->id;
    if (bad && strcmp(bad, "outcome") == 0)
        return tr_fail(err, TR_ERR_INVALID, "signal %lld: outcome must be \"win\" or \"loss\"", id);
    if (bad && strcmp(bad, "pnl_pips") == 0)
        return tr_fail(err, TR_ERR_INVALID, "signal %lld: pnl_pips must be a finite number", id);
    if (bad && strcmp(bad, "closed_at") == 0)
        return tr_fail(err, TR_ERR_INVALID,
                       "signal %lld: closed_at must be after the signal's bar time", id);
    if (bad)
        return tr_fail(err, TR_ERR_INVALID,
                       "signal %lld is a hold: it opened no position to report", id);
    snprintf(sig->outcome, sizeof sig->outcome, "%s", outcome);
    /* pnl_percent is pips x pip / entry x 100: the simulated trade's entry scales the
     * reported pips; without a simulated trade there is no entry price, so 0 */
    sig->pnl_percent = sig->pnl_pips != 0 ? sig->pnl_percent / sig->pnl_pips * pnl_pips : 0.0;
    sig->pnl_pips = pnl_pips;
    sig->exit_time = closed_at;
    sig->reported = 1;
    return TR_OK;
}

void tr_prod_figs_compute(const tr_signal *sigs, size_t n, const char *version, tr_prod_figs *out)
{
    memset(out, 0, sizeof *out);
    double sum = 0, sum2 = 0;
    for (size_t k = 0; k < n; k++) {
        const tr_signal *g = &sigs[k];
        if (strcmp(g->model_version, version) != 0)
            continue;
        out->predictions++;
        int win = strcmp(g->outcome, "win") == 0;
        if (!win && strcmp(g->outcome, "loss") != 0) {
            out->open += !tr_outcome_final(g);
            continue;
        }
        out->trades++;
        out->wins += win;
        out->reported += g->reported != 0;
        sum += g->pnl_pips;
        sum2 += g->pnl_pips * g->pnl_pips;
    }
    out->total_pips = sum;
    out->win_rate = out->avg_pnl = out->sharpe = NAN;
    if (out->trades) {
        double t = (double)out->trades, mean = sum / t;
        out->win_rate = (double)out->wins / t;
        out->avg_pnl = mean;
        if (out->trades >= 2) {
            double var = (sum2 - t * mean * mean) / (t - 1.0);
            if (var > 1e-18 * (mean * mean + 1.0))
                out->sharpe = mean / sqrt(var);
        }
    }
}

typedef struct {
    tr_bt_position pos; /* the trade rule's position (backtest.h) */
    size_t sig;         /* index of the signal that opened it */
    int has_exit;       /* its own exit (tr_bt_exit_walk) lies within the visible bars */
    size_t exit_i;
    double exit_price;
} position;

static void set_outcome(tr_signal *g, const char *what, unsigned char *changed, size_t k,
                        size_t *n_changed)
{
    if (strcmp(g->outcome, what) != 0) {
        snprintf(g->outcome, sizeof g->outcome, "%s", what);
        if (changed)
            changed[k] = 1;
        (*n_changed)++;
    }
}

static void close_pos(tr_signal *sigs, const position *pos, const tr_bar *b, double price,
                      const tr_bt_params *p, unsigned char *changed, size_t *n_changed)
{
    tr_signal *g = &sigs[pos->sig];
    double pips = tr_bt_pnl_pips(pos->pos.dir, pos->pos.entry, price, p);
    g->exit_time = b->t;
    g->exit_price = price;
    g->pnl_pips = pips;
    g->pnl_percent = pips * p->pip / pos->pos.entry * 100.0;
    snprintf(g->outcome, sizeof g->outcome, "%s", pips > 0 ? "win" : "loss");
    if (changed)
        changed[pos->sig] = 1;
    (*n_changed)++;
}

/* The first bar with t >= x among bars[0..n). */
static size_t lower_bound(const tr_bar *bars, size_t n, int64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bars[mid].t < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

tr_code tr_outcomes_resolve(const tr_bar *bars, size_t n, const double *atr, int32_t timeframe,
                            const tr_bt_params *p, int64_t as_of, tr_signal *sigs, size_t n_sigs,
                            unsigned char *changed, size_t *n_changed, tr_error *err)
{
    size_t local = 0;
    if (!n_changed)
        n_changed = &local;
    *n_changed = 0;
    if ((n && (!bars || !atr)) || (n_sigs && !sigs) || !p || timeframe <= 0)
        return tr_fail(err, TR_ERR_INVALID, "outcomes: missing input");
    if (!(p->sl_atr > 0) || !(p->tp_atr > 0) || p->max_hold < 1 || !(p->spread_pips >= 0) ||
        !(p->pip > 0) || !(p->threshold >= 0 && p->threshold <= 1) || !isfinite(p->sl_atr) ||
        !isfinite(p->tp_atr) || !isfinite(p->spread_pips))
        return tr_fail(err, TR_ERR_INVALID, "outcomes: invalid parameters");
    for (size_t k = 1; k < n_sigs; k++)
        if (sigs[k].bar_time < sigs[k - 1].bar_time)
            return tr_fail(err, TR_ERR_INVALID, "outcomes: signals not in bar order (id %lld)",
                           (long long)sigs[k].id);
    /* the visible bars: closed by as_of */
    size_t nv = n;
    while (nv > 0 && bars[nv - 1].t + timeframe > as_of)
        nv--;
    size_t k = 0;
    while (k < n_sigs && tr_outcome_final(&sigs[k]))
        k++;
    if (k == n_sigs)
        return TR_OK;
    position pos;
    memset(&pos, 0, sizeof pos);
    int pending = 0, pending_exit = 0;
    size_t pending_sig = 0;
    double pending_atr = 0;
    for (size_t i = lower_bound(bars, nv, sigs[k].bar_time); i < nv; i++) {
        const tr_bar *b = &bars[i];
        /* signals on bars missing from the series open nothing */
        while (k < n_sigs && sigs[k].bar_time < b->t) {
            if (!tr_outcome_final(&sigs[k]))
                set_outcome(&sigs[k], "none", changed, k, n_changed);
            k++;
        }
        if (pending_exit && pos.pos.dir) {
            close_pos(sigs, &pos, b, b->open, p, changed, n_changed);
            pos.pos.dir = 0;
        }
        if (pending && !pos.pos.dir) {
            pos.pos = tr_bt_open(bars, i, pending, pending_atr, p);
            pos.sig = pending_sig;
            /* its exit on the visible bars; none yet: it stays open, a later call walks on */
            pos.has_exit =
                tr_bt_exit_walk(bars, nv, &pos.pos, p, &pos.exit_i, &pos.exit_price, NULL);
        }
        pending = pending_exit = 0;
        if (pos.pos.dir && pos.has_exit && pos.exit_i == i) {
            close_pos(sigs, &pos, b, pos.exit_price, p, changed, n_changed);
            pos.pos.dir = 0;
        }
        /* the signals at this bar's close (a second one on the same bar opens nothing) */
        int first = 1;
        for (; k < n_sigs && sigs[k].bar_time == b->t; k++, first = 0) {
            tr_signal *g = &sigs[k];
            if (tr_outcome_final(g)) /* only possible for a duplicate; the walk passes it */
                continue;
            int s = g->signal == TR_LABEL_BUY ? 1 : (g->signal == TR_LABEL_SELL ? -1 : 0);
            if (s && !(g->confidence >= p->threshold))
                s = 0;
            if (!s || !first || pos.pos.dir == s || !isfinite(atr[i]) || !(atr[i] > 0)) {
                set_outcome(g, "none", changed, k, n_changed);
                continue;
            }
            if (i + 1 >= nv) /* the next open has not come yet */
                continue;
            pending = s;
            pending_exit = pos.pos.dir == -s;
            pending_sig = k;
            pending_atr = atr[i];
        }
    }
    return TR_OK;
}

/* The book of a signal: "" for production signals, else the A/B test and the arm's version. */
static int same_book(const tr_signal *a, const tr_signal *b)
{
    if (!a->ab_test_id[0] || !b->ab_test_id[0])
        return !a->ab_test_id[0] && !b->ab_test_id[0];
    return strcmp(a->ab_test_id, b->ab_test_id) == 0 &&
           strcmp(a->model_version, b->model_version) == 0;
}

tr_code tr_outcomes_resolve_books(const tr_bar *bars, size_t n, const double *atr,
                                  int32_t timeframe, const tr_bt_params *p, int64_t as_of,
                                  tr_signal *sigs, size_t n_sigs, unsigned char *changed,
                                  size_t *n_changed, tr_error *err)
{
    size_t local = 0;
    if (!n_changed)
        n_changed = &local;
    *n_changed = 0;
    int tested = 0;
    for (size_t i = 0; i < n_sigs && !tested; i++)
        tested = sigs[i].ab_test_id[0] != '\0';
    if (!tested)
        return tr_outcomes_resolve(bars, n, atr, timeframe, p, as_of, sigs, n_sigs, changed,
                                   n_changed, err);
    size_t *idx = malloc(n_sigs * sizeof *idx);
    tr_signal *book = malloc(n_sigs * sizeof *book);
    unsigned char *done = calloc(n_sigs, 1), *ch = malloc(n_sigs);
    tr_code rc = TR_OK;
    if (!idx || !book || !done || !ch)
        rc = tr_fail(err, TR_ERR_NOMEM, "out of memory resolving outcomes");
    for (size_t first = 0; !rc && first < n_sigs; first++) {
        if (done[first])
            continue;
        size_t m = 0;
        for (size_t i = first; i < n_sigs; i++)
            if (!done[i] && same_book(&sigs[first], &sigs[i])) {
                done[i] = 1;
                idx[m] = i;
                book[m++] = sigs[i];
            }
        memset(ch, 0, m);
        size_t nc = 0;
        rc = tr_outcomes_resolve(bars, n, atr, timeframe, p, as_of, book, m, ch, &nc, err);
        for (size_t j = 0; !rc && j < m; j++) {
            sigs[idx[j]] = book[j];
            if (changed && ch[j])
                changed[idx[j]] = 1;
        }
        *n_changed += nc;
    }
    free(idx);
    free(book);
    free(done);
    free(ch);
    return rc;
}
