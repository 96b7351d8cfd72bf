/*
 * family_opts.c - a model family's settings applied to the cycles' options (family_opts.h).
 */
#include "cycles/family_opts.h"

#include <string.h>

tr_code tr_family_check(const tr_family *f, tr_error *err)
{
    tr_schedule scratch = tr_schedule_default();
    return tr_family_schedule(f, &scratch, err);
}

void tr_family_full_opts(const tr_family *f, tr_full_opts *o)
{
    int s = tr_family_scale(f);
    o->timeframe = tr_family_timeframe(f);
    o->months = f->months ? f->months : o->months * s;
    o->ab_days *= s;
    if (f->labels)
        o->labels = f->labels - 1;
    if (f->decision)
        o->decision = f->decision - 1;
    if (f->n_layers)
        o->n_layers = f->n_layers;
    if (f->n_hidden)
        o->n_hidden = f->n_hidden;
    if (f->max_epochs)
        o->max_epochs = f->max_epochs;
    if (f->batch)
        o->batch = f->batch;
}

void tr_family_incr_opts(const tr_family *f, tr_incr_opts *o)
{
    int s = tr_family_scale(f);
    o->timeframe = tr_family_timeframe(f);
    o->window *= s;
    o->gate_days *= s;
}

void tr_family_rank_opts(const tr_family *f, tr_rank_opts *o)
{
    o->timeframe = tr_family_timeframe(f);
    o->window_days *= tr_family_scale(f);
}

void tr_family_drift_opts(const tr_family *f, tr_driftcheck_opts *o)
{
    o->timeframe = tr_family_timeframe(f);
    o->window = (o->window > 0 ? o->window : (int64_t)7 * 86400) * tr_family_scale(f);
}

tr_code tr_family_due_opts(const tr_family *f, tr_due_opts *o, tr_error *err)
{
    tr_code rc = tr_family_schedule(f, &o->sched, err);
    if (rc)
        return rc;
    tr_family_full_opts(f, &o->full);
    tr_family_incr_opts(f, &o->incr);
    tr_family_rank_opts(f, &o->rank);
    return TR_OK;
}

tr_code tr_family_schedule(const tr_family *f, tr_schedule *sched, tr_error *err)
{
    const char *p = f->disable;
    while (*p) {
        size_t n = strcspn(p, ",");
        char name[32];
        if (n == 0 || n >= sizeof name)
            return tr_fail(err, TR_ERR_INVALID, "family %s: disable: bad list '%s'", f->name,
                           f->disable);
        memcpy(name, p, n);
        name[n] = '\0';
        int slot = tr_slot_of_cycle(name);
        if (slot < 0 || tr_slot_every_call(slot))
            return tr_fail(err, TR_ERR_INVALID,
                           "family %s: disable: '%s' is not a scheduled cycle (incremental, full, "
                           "rank, abtest, drift)",
                           f->name, name);
        sched->enabled[slot] = 0;
        p += n;
        if (*p == ',')
            p++;
    }
    if (f->weekday)
        sched->weekday = f->weekday - 1;
    return TR_OK;
}
