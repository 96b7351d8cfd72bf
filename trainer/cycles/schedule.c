/*
 * schedule.c - due cycles and run-due (schedule.h, docs/operations.md).
 *
 * Latest slot time at or before t (d = t's day start, m = the slot's minute of the day):
 *   daily    d + m, or one day earlier when that is after t
 *   weekly   d - ((weekday(t) - W + 7) mod 7) days + m, or one week earlier when after t
 *   monthly  day D of t's month + m, or of the month before when after t
 */
#define _POSIX_C_SOURCE 200809L

#include "cycles/schedule.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "cycles/marketpause.h"

/* The slot table: the cycle each slot runs (an entry of tr_cycles[]), its time rule, and where
 * its options sit in tr_due_opts (SIZE_MAX: none). A slot's minute, weekday or day of the month
 * come from tr_schedule. */
enum { RULE_DAILY, RULE_WEEKLY, RULE_MONTHLY, RULE_EVERY /* due at every call, not logged */ };

typedef struct slot_def {
    const char *cycle;
    int rule;
    size_t opts;
    int minute;      /* the default time of day */
    size_t pause_tf; /* training: where the timeframe the pause checks sits (SIZE_MAX: none) */
} slot_def;

static const slot_def slots[TR_N_SLOTS] = {
    [TR_SLOT_DAILY] = {"incremental", RULE_DAILY, offsetof(tr_due_opts, incr), 2 * 60,
                       offsetof(tr_due_opts, incr.timeframe)},
    [TR_SLOT_WEEKLY] = {"full", RULE_WEEKLY, offsetof(tr_due_opts, full), 1 * 60,
                        offsetof(tr_due_opts, full.timeframe)},
    [TR_SLOT_MONTHLY] = {"rank", RULE_MONTHLY, offsetof(tr_due_opts, rank), 0, SIZE_MAX},
    [TR_SLOT_ABTEST] = {"abtest", RULE_DAILY, SIZE_MAX, 30, SIZE_MAX},
    [TR_SLOT_MONITOR] = {"monitor", RULE_EVERY, SIZE_MAX, 0, SIZE_MAX},
    [TR_SLOT_DRIFT] = {"drift", RULE_DAILY, SIZE_MAX, 3 * 60, SIZE_MAX},
};

/* A training slot in an extreme market: logged skipped with the reason (it covers the slot, so
 * training resumes at the next slot where nothing pauses). 1 when paused, 0 when not, -1 when
 * the check failed (the slot then runs: a failed check must not stop training). */
static int paused(tr_store *store, const tr_due_opts *o, int slot, int64_t t, int64_t started,
                  tr_due_item *it)
{
    if (o->force_training || slots[slot].pause_tf == SIZE_MAX)
        return 0;
    int32_t tf;
    memcpy(&tf, (const char *)o + slots[slot].pause_tf, sizeof tf);
    int p = 0;
    char pair[TR_PAIR_MAX], reason[240];
    tr_error e;
    tr_error_clear(&e);
    if (tr_market_pause(store, tf > 0 ? tf : 900, t, &p, NULL, pair, sizeof pair, reason,
                        sizeof reason, &e) != TR_OK)
        return -1;
    if (!p)
        return 0;
    tr_log_row row;
    tr_log_row_begin(&row, slots[slot].cycle, t, started, TR_LOG_SKIPPED, NULL, NULL);
    snprintf(row.reason, sizeof row.reason, "paused: %s", reason);
    /* the skip and its "pause" event in one commit (the outbox, docs/operations.md) */
    tr_outbox_event ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.kind, sizeof ev.kind, "pause");
    tr_sb pl = {0};
    char ts[32];
    tr_sb_printf(&pl, "{\"cycle\":\"%s\",\"slot\":\"%s\",\"pair\":", slots[slot].cycle,
                 tr_time_format(t, ts, sizeof ts));
    tr_sb_json_str(&pl, pair);
    tr_sb_printf(&pl, ",\"reason\":");
    tr_sb_json_str(&pl, reason);
    tr_sb_printf(&pl, "}");
    snprintf(ev.payload, sizeof ev.payload, "%s", pl.oom ? "{}" : pl.p);
    tr_sb_free(&pl);
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.log = &row;
    txn.n_log = 1;
    txn.now = row.finished_at;
    txn.events = &ev;
    txn.n_events = 1;
    if (tr_store_registry_commit(store, &txn, &e) != TR_OK)
        return -1;
    it->outcome = TR_RUN_SKIPPED;
    snprintf(it->detail, sizeof it->detail, "%s", row.reason);
    return 1;
}

tr_schedule tr_schedule_default(void)
{
    tr_schedule s;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < TR_N_SLOTS; i++) {
        s.minute[i] = slots[i].minute;
        s.enabled[i] = 1;
    }
    s.weekday = 6; /* Sunday */
    s.monthday = 1;
    s.max_retries = 3;
    return s;
}

const char *tr_slot_cycle(int slot)
{
    return slot >= 0 && slot < TR_N_SLOTS ? slots[slot].cycle : "?";
}

static int64_t day_start(int64_t t)
{
    int64_t d = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    return d * 86400;
}

int64_t tr_sched_latest(const tr_schedule *s, int slot, int64_t t)
{
    int64_t d = day_start(t), m = (int64_t)s->minute[slot] * 60, x;
    switch (slots[slot].rule) {
    case RULE_EVERY:
        return t;
    case RULE_DAILY:
        x = d + m;
        return x > t ? x - 86400 : x;
    case RULE_WEEKLY:
        x = d - (int64_t)((tr_weekday(t) - s->weekday + 7) % 7) * 86400 + m;
        return x > t ? x - 7 * 86400 : x;
    default: {
        int64_t y;
        int mo, dd;
        tr_civil_from_days(d / 86400, &y, &mo, &dd);
        x = tr_days_from_civil(y, mo, s->monthday) * 86400 + m;
        if (x > t) {
            if (--mo == 0) {
                mo = 12;
                y--;
            }
            x = tr_days_from_civil(y, mo, s->monthday) * 86400 + m;
        }
        return x;
    }
    }
}

int tr_sched_due(const tr_registry *reg, const char *cycle, int64_t latest, int max_retries,
                 int *n_failed, const char **last_error)
{
    int failed = 0;
    const char *last = NULL;
    const tr_cycle_def *def = tr_cycle_find(cycle);
    if (def && def->idle && def->idle(reg, latest)) {
        if (n_failed)
            *n_failed = 0;
        if (last_error)
            *last_error = NULL;
        return TR_DUE_NO;
    }
    for (size_t i = 0; i < reg->n_log; i++) {
        const tr_log_row *r = &reg->log[i];
        if (strcmp(r->cycle, cycle) != 0 || r->as_of < latest)
            continue;
        if (r->status == TR_LOG_COMPLETED || r->status == TR_LOG_SKIPPED) {
            if (n_failed)
                *n_failed = failed;
            if (last_error)
                *last_error = last;
            return TR_DUE_NO;
        }
        failed++;
        last = r->error;
    }
    if (n_failed)
        *n_failed = failed;
    if (last_error)
        *last_error = last;
    return failed >= max_retries ? TR_DUE_GAVE_UP : TR_DUE_YES;
}

tr_due_opts tr_due_opts_default(void)
{
    tr_due_opts o;
    memset(&o, 0, sizeof o);
    o.sched = tr_schedule_default();
    o.full = tr_full_opts_default();
    o.incr = tr_incr_opts_default();
    o.rank = tr_rank_opts_default();
    return o;
}

static const char *const outcome_names[] = {"not_due", "completed", "skipped",
                                            "failed",  "gave_up",   "disabled"};

const char *tr_run_outcome_name(int outcome)
{
    return outcome >= 0 && outcome <= TR_RUN_DISABLED ? outcome_names[outcome] : "?";
}

/* Runs the slot's cycle through its table entry as of t; fills item. Returns the cycle's code. */
static tr_code run_cycle(tr_store *store, const tr_due_opts *o, int slot, int64_t t,
                         tr_due_item *it, tr_error *err)
{
    const tr_cycle_def *def = tr_cycle_find(slots[slot].cycle);
    if (!def)
        return tr_fail(err, TR_ERR_INVALID, "no cycle named %s", slots[slot].cycle);
    tr_cycle_ctx ctx = {store, t, o->clock, 0, NULL, NULL};
    ctx.resume = def->pending && def->pending(&ctx); /* a killed run of this slot continues */
    const void *opts = slots[slot].opts == SIZE_MAX ? NULL : (const char *)o + slots[slot].opts;
    tr_cycle_outcome out;
    memset(&out, 0, sizeof out);
    tr_code rc = def->run(&ctx, opts, &out, err);
    if (!rc) {
        it->outcome = out.status == TR_LOG_SKIPPED ? TR_RUN_SKIPPED : TR_RUN_COMPLETED;
        snprintf(it->version, sizeof it->version, "%s", out.version);
        snprintf(it->detail, sizeof it->detail, "%s", out.detail);
    }
    return rc;
}

/* Runs a due slot of the log as of t: the extreme-market pause first (a skip covers the slot),
 * then the cycle; a failure is the item's outcome and is in the log (added here when the cycle
 * could not log it: a lock held by a manual run, a version name in use, ...), or the attempt
 * would never count. last_id: the newest log row's id before the run. Returns the cycle's code
 * with its error in err. */
static tr_code run_slot(tr_store *store, const tr_due_opts *o, int k, int64_t t, int64_t last_id,
                        tr_due_item *it, tr_error *err)
{
    int64_t started = tr_wall_now();
    if (paused(store, o, k, t, started, it) == 1)
        return TR_OK;
    tr_code crc = run_cycle(store, o, k, t, it, err);
    if (!crc)
        return TR_OK;
    it->outcome = TR_RUN_FAILED;
    snprintf(it->detail, sizeof it->detail, "%s", err->msg);
    tr_registry reg;
    tr_error re;
    if (tr_store_registry_read(store, &reg, &re) == TR_OK) {
        int logged = 0;
        for (size_t j = 0; j < reg.n_log; j++)
            logged |= reg.log[j].id > last_id && reg.log[j].status == TR_LOG_FAILED &&
                      reg.log[j].as_of == t && strcmp(reg.log[j].cycle, tr_slot_cycle(k)) == 0;
        tr_registry_free(&reg);
        if (!logged)
            tr_cycle_log_failure(store, tr_slot_cycle(k), t, started, "", "", err);
    }
    return crc;
}

tr_code tr_run_due(tr_store *store, const tr_due_opts *o, tr_due_result *res, tr_error *err)
{
    tr_error local;
    if (!err)
        err = &local;
    memset(res, 0, sizeof *res);
    const tr_schedule *s = &o->sched;
    if (s->max_retries < 1 || s->weekday < 0 || s->weekday > 6 || s->monthday < 1 ||
        s->monthday > 28)
        return tr_fail(err, TR_ERR_INVALID, "bad schedule (retries %d, weekday %d, day %d)",
                       s->max_retries, s->weekday, s->monthday);
    for (int k = 0; k < TR_N_SLOTS; k++)
        if (s->minute[k] < 0 || s->minute[k] >= 1440)
            return tr_fail(err, TR_ERR_INVALID, "bad schedule time for the %s cycle",
                           tr_slot_cycle(k));
    int lock = -1;
    tr_code rc = tr_store_cycle_lock(store, "run-due", &lock, err);
    if (rc) {
        if (rc == TR_ERR_CONFLICT)
            tr_fail(err, TR_ERR_CONFLICT, "another run-due is running on store %s",
                    tr_store_name(store));
        return rc;
    }
    /* temporary files left by killed writers (this program's earlier runs, a picture's child)
     * in the store's directories go first: a covered slot's cycle does not write there again */
    static const int areas[5] = {TR_AREA_FILES, TR_AREA_MODELS, TR_AREA_RUNS, TR_AREA_REPORTS,
                                 TR_AREA_CACHE};
    for (int k = 0; k < 5; k++) {
        char dir[4400];
        if (tr_store_path(store, areas[k], NULL, dir, sizeof dir, NULL) == TR_OK)
            (void)tr_tmp_sweep_dead(dir);
    }
    /* the slots in the order of their times */
    int order[TR_N_SLOTS];
    int64_t when[TR_N_SLOTS];
    int64_t key[TR_N_SLOTS]; /* the order: the slots due at every call first, then by time */
    for (int k = 0; k < TR_N_SLOTS; k++) {
        when[k] = tr_sched_latest(s, k, o->as_of);
        key[k] = slots[k].rule == RULE_EVERY ? INT64_MIN : when[k];
        order[k] = k;
    }
    for (int i = 1; i < TR_N_SLOTS; i++)
        for (int j = i; j > 0 && key[order[j]] < key[order[j - 1]]; j--) {
            int x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    for (int i = 0; i < TR_N_SLOTS; i++) {
        int k = order[i];
        tr_due_item *it = &res->items[res->n_items++];
        it->slot = k;
        it->latest = when[k];
        if (!s->enabled[k]) {
            it->outcome = TR_RUN_DISABLED;
            continue;
        }
        tr_registry reg;
        if (slots[k].rule == RULE_EVERY) {
            it->attempt = 1;
            tr_error ce;
            tr_error_clear(&ce);
            tr_code crc = run_cycle(store, o, k, when[k], it, &ce);
            if (crc) {
                it->outcome = TR_RUN_FAILED;
                snprintf(it->detail, sizeof it->detail, "%s", ce.msg);
                if (!res->first_error)
                    res->first_error = crc;
            }
            continue;
        }
        rc = tr_store_registry_read(store, &reg, err);
        if (rc)
            break;
        int n_failed = 0;
        const char *last = NULL;
        int due = tr_sched_due(&reg, tr_slot_cycle(k), when[k], s->max_retries, &n_failed, &last);
        int64_t last_id = reg.n_log ? reg.log[reg.n_log - 1].id : 0;
        it->attempt = n_failed + 1;
        if (due == TR_DUE_NO) {
            it->outcome = TR_RUN_NOT_DUE;
        } else if (due == TR_DUE_GAVE_UP) {
            it->outcome = TR_RUN_GAVE_UP;
            snprintf(it->detail, sizeof it->detail, "%d failed attempts; last error: %s", n_failed,
                     last ? last : "");
        }
        tr_registry_free(&reg);
        if (due == TR_DUE_NO) {
            /* covered: a run of it that completed but was killed before its cleanup leaves
             * files; remove them (the run itself counts, it is not run again) */
            const tr_cycle_def *def = tr_cycle_find(tr_slot_cycle(k));
            tr_cycle_ctx tctx = {store, when[k], o->clock, 0, NULL, NULL};
            if (def && def->tidy)
                def->tidy(&tctx);
        }
        if (due != TR_DUE_YES)
            continue;
        tr_error ce;
        tr_error_clear(&ce);
        tr_code crc = run_slot(store, o, k, when[k], last_id, it, &ce);
        if (crc && !res->first_error)
            res->first_error = crc;
    }
    tr_store_cycle_unlock(store, lock);
    return rc;
}

int tr_slot_of_cycle(const char *cycle)
{
    for (int k = 0; k < TR_N_SLOTS; k++)
        if (cycle && strcmp(slots[k].cycle, cycle) == 0)
            return k;
    return -1;
}

int tr_slot_every_call(int slot)
{
    return slot >= 0 && slot < TR_N_SLOTS && slots[slot].rule == RULE_EVERY;
}

tr_code tr_run_slot(tr_store *store, const tr_due_opts *o, int slot, int64_t t, tr_due_item *it,
                    tr_error *err)
{
    memset(it, 0, sizeof *it);
    it->slot = slot;
    it->latest = t;
    if (slot < 0 || slot >= TR_N_SLOTS || slots[slot].rule == RULE_EVERY)
        return tr_fail(err, TR_ERR_INVALID, "slot %d is not a logged slot", slot);
    tr_registry reg;
    tr_code rc = tr_store_registry_read(store, &reg, err);
    if (rc)
        return rc;
    int64_t last_id = reg.n_log ? reg.log[reg.n_log - 1].id : 0;
    tr_registry_free(&reg);
    return run_slot(store, o, slot, t, last_id, it, err);
}
