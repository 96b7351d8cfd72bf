/* store.c - backend selection and argument checks in front of the store's function table. */
#include "store/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aifxnn.h" /* aifx_crc32 */
#include "base/strbuf.h"
#include "base/timeutil.h"

const char *tr_store_location(const char *explicit_location)
{
    if (explicit_location && explicit_location[0])
        return explicit_location;
    const char *env = getenv("AIFX_STORE");
    if (env && env[0])
        return env;
    return TR_STORE_DEFAULT_DIR;
}

int tr_store_location_is_pg(const char *location)
{
    if (strncmp(location, "postgresql://", 13) == 0 || strncmp(location, "postgres://", 11) == 0)
        return 1;
    /* a libpq keyword/value string: "key=value ..." with its '=' before any '/' */
    size_t eq = strcspn(location, "="), slash = strcspn(location, "/");
    return eq < slash && location[eq] == '=';
}

int tr_pg_schema_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 63 || (name[0] >= '0' && name[0] <= '9') || strncmp(name, "pg_", 3) == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_'))
            return 0;
    return 1;
}

#ifndef AIFX_WITH_POSTGRESQL
tr_code tr_store_pg_open(const char *location, tr_store **out, tr_error *err)
{
    *out = NULL;
    return tr_fail(err, TR_ERR_UNSUPPORTED,
                   "store %s: this build has no PostgreSQL backend (built with "
                   "AIFX_WITH_POSTGRESQL=OFF); use a directory",
                   location);
}

tr_code tr_store_pg_migrate(const char *location, const tr_migrate_options *o,
                            tr_migrate_result *res, tr_error *err)
{
    (void)o;
    memset(res, 0, sizeof *res);
    return tr_fail(err, TR_ERR_UNSUPPORTED,
                   "store %s: this build has no PostgreSQL backend (built with "
                   "AIFX_WITH_POSTGRESQL=OFF)",
                   location);
}
#endif

/* The models directory's parent ("." for a bare name). */
static void parent_dir(const char *path, char *out, size_t size)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        snprintf(out, size, ".");
    else if (slash == buf)
        snprintf(out, size, "/");
    else {
        *slash = '\0';
        snprintf(out, size, "%s", buf);
    }
}

tr_code tr_store_open(const char *location, const tr_store_options *o, tr_store **out,
                      tr_error *err)
{
    static const tr_store_options defaults = {0};
    if (!o)
        o = &defaults;
    *out = NULL;
    if (!location || !location[0])
        return tr_fail(err, TR_ERR_INVALID, "empty store location");
    if (o->models_dir && strlen(o->models_dir) >= TR_STORE_PATH_MAX - 64)
        return tr_fail(err, TR_ERR_INVALID, "models directory path too long");
    int named = !tr_family_is_default(o->family);
    if (named && !tr_family_name_valid(o->family))
        return tr_fail(err, TR_ERR_INVALID,
                       "bad family name '%.80s' (1 to 63 characters a-z 0-9 _ -, starting with a "
                       "letter)",
                       o->family);
    int pg = tr_store_location_is_pg(location);
    tr_code rc = pg ? tr_store_pg_open(location, out, err)
                    : tr_store_dir_open(location, o->create, out, err);
    if (rc)
        return rc;
    tr_store *s = *out;
    s->family = tr_family_default();
    snprintf(s->scope, sizeof s->scope, "%s", s->location);
    if (o->models_dir && o->models_dir[0])
        snprintf(s->models_dir, sizeof s->models_dir, "%s", o->models_dir);
    memcpy(s->base_models_dir, s->models_dir, sizeof s->base_models_dir);
    if (pg)
        parent_dir(s->models_dir, s->files_dir, sizeof s->files_dir);
    else
        snprintf(s->files_dir, sizeof s->files_dir, "%s", s->location);
    if (named) {
        /* a family's files live apart: its own checkpoints, runs, reports (family.h) */
        rc = s->ops->family_get(s, o->family, &s->family, err);
        if (rc == TR_ERR_NOTFOUND)
            rc = tr_fail(err, TR_ERR_NOTFOUND,
                         "store %s has no family '%s' (aifx-train family list; add it with "
                         "aifx-train family add)",
                         s->safe, o->family);
        char m[TR_STORE_PATH_MAX], f[TR_STORE_PATH_MAX];
        int n1 = snprintf(m, sizeof m, "%s/families/%s", s->models_dir, o->family);
        int n2 =
            snprintf(f, sizeof f, "%s/families/%s", pg ? s->files_dir : s->location, o->family);
        if (!rc && (n1 < 0 || (size_t)n1 >= sizeof m || n2 < 0 || (size_t)n2 >= sizeof f))
            rc = tr_fail(err, TR_ERR_INVALID, "store %s: family paths too long", s->safe);
        if (rc) {
            tr_store_close(s);
            *out = NULL;
            return rc;
        }
        memcpy(s->models_dir, m, (size_t)n1 + 1);
        memcpy(s->files_dir, f, (size_t)n2 + 1);
        if (!pg)
            memcpy(s->scope, f, (size_t)n2 + 1);
    }
    return TR_OK;
}

tr_code tr_store_reopen(const tr_store *store, tr_store **out, tr_error *err)
{
    return tr_store_open_family(store, store->family.name, out, err);
}

tr_code tr_store_open_family(const tr_store *store, const char *family, tr_store **out,
                             tr_error *err)
{
    tr_store_options o = {0};
    o.models_dir = store->base_models_dir;
    o.family = family;
    return tr_store_open(store->location, &o, out, err);
}

const tr_family *tr_store_family(const tr_store *store)
{
    return &store->family;
}

const char *tr_store_family_name(const tr_store *store)
{
    return store->family.name;
}

tr_code tr_store_family_add(tr_store *store, const tr_family *f, tr_error *err)
{
    if (!tr_family_name_valid(f->name) || tr_family_is_default(f->name))
        return tr_fail(err, TR_ERR_INVALID, "bad family name '%.80s'", f->name);
    return store->ops->family_put(store, f, err);
}

tr_code tr_store_family_get(tr_store *store, const char *name, tr_family *f, tr_error *err)
{
    if (tr_family_is_default(name)) {
        *f = tr_family_default();
        return TR_OK;
    }
    if (!tr_family_name_valid(name))
        return tr_fail(err, TR_ERR_INVALID, "bad family name '%.80s'", name);
    return store->ops->family_get(store, name, f, err); /* names it when it is not there */
}

tr_code tr_store_family_list(tr_store *store, tr_family **list, size_t *n, tr_error *err)
{
    return store->ops->family_list(store, list, n, err);
}

const char *tr_store_name(const tr_store *store)
{
    return store->safe;
}

tr_code tr_store_path(const tr_store *store, tr_store_area area, const char *name, char *buf,
                      size_t size, tr_error *err)
{
    const char *dir =
        area == TR_AREA_FILES || area == TR_AREA_REPORTS ? store->files_dir : store->models_dir;
    const char *sub = area == TR_AREA_RUNS      ? "/runs"
                      : area == TR_AREA_REPORTS ? "/reports"
                      : area == TR_AREA_CACHE   ? "/cache"
                                                : "";
    int has_name = name && name[0];
    int n = snprintf(buf, size, "%s%s%s%s", dir, sub, has_name ? "/" : "", has_name ? name : "");
    if (n < 0 || (size_t)n >= size)
        return tr_fail(err, TR_ERR_INVALID, "path of %s in store %s is too long",
                       has_name ? name : "a directory", store->safe);
    return TR_OK;
}

void tr_store_private_name(const tr_store *store, const char *stem, const char *ext, char *out,
                           size_t size)
{
    if (strcmp(store->files_dir, store->location) == 0)
        snprintf(out, size, "%s%s", stem, ext);
    else
        snprintf(out, size, "%s-%08x%s", stem,
                 (unsigned)aifx_crc32(0, store->location, strlen(store->location)), ext);
}

tr_code tr_store_signals_append(tr_store *store, tr_signal *sigs, size_t n, tr_error *err)
{
    return n ? store->ops->signals_append(store, sigs, n, err) : TR_OK;
}

tr_code tr_store_signals_update(tr_store *store, const tr_signal *sigs, size_t n, tr_error *err)
{
    return n ? store->ops->signals_update(store, sigs, n, err) : TR_OK;
}

/* Copies loc into out with any password replaced by "***": the "user:password@" of a URI, its
 * "password=" query parameter, and the "password = value" of a keyword/value string. */
void tr_store_location_redact(const char *loc, char *out, size_t size)
{
    tr_sb b = {0};
    const char *p = loc;
    const char *scheme = strstr(loc, "://");
    if (scheme &&
        (strncmp(loc, "postgresql://", 13) == 0 || strncmp(loc, "postgres://", 11) == 0)) {
        const char *auth = scheme + 3;
        size_t alen = strcspn(auth, "/?");
        const char *at = NULL;
        for (size_t i = 0; i < alen; i++)
            if (auth[i] == '@')
                at = auth + i;
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            tr_sb_put(&b, loc, (size_t)(colon - loc) + 1);
            tr_sb_put(&b, "***", 3);
            p = at;
        }
        /* the query string's password= */
        for (;;) {
            const char *pw = strstr(p, "password=");
            if (!pw || (pw > loc && pw[-1] != '?' && pw[-1] != '&')) {
                tr_sb_put(&b, p, strlen(p));
                break;
            }
            tr_sb_put(&b, p, (size_t)(pw - p) + 9);
            tr_sb_put(&b, "***", 3);
            p = pw + 9 + strcspn(pw + 9, "&");
        }
    } else {
        for (;;) {
            const char *pw = strstr(p, "password");
            if (!pw) {
                tr_sb_put(&b, p, strlen(p));
                break;
            }
            const char *q = pw + 8;
            while (*q == ' ' || *q == '\t')
                q++;
            int keyword = *q == '=' && (pw == loc || pw[-1] == ' ' || pw[-1] == '\t');
            if (!keyword) {
                tr_sb_put(&b, p, (size_t)(pw - p) + 8);
                p = pw + 8;
                continue;
            }
            q++;
            while (*q == ' ' || *q == '\t')
                q++;
            tr_sb_put(&b, p, (size_t)(q - p));
            tr_sb_put(&b, "***", 3);
            if (*q == '\'') { /* quoted value, with \' and \\ escapes */
                q++;
                while (*q && *q != '\'')
                    q += (*q == '\\' && q[1]) ? 2 : 1;
                if (*q)
                    q++;
            } else {
                while (*q && *q != ' ' && *q != '\t')
                    q++;
            }
            p = q;
        }
    }
    snprintf(out, size, "%s", b.p && !b.oom ? b.p : "(PostgreSQL store)");
    tr_sb_free(&b);
}

tr_code tr_store_migrate(const char *location, tr_migrate_result *res, tr_error *err)
{
    return tr_store_migrate_opts(location, NULL, res, err);
}

tr_code tr_store_migrate_opts(const char *location, const tr_migrate_options *o,
                              tr_migrate_result *res, tr_error *err)
{
    memset(res, 0, sizeof *res);
    if (!location || !location[0])
        return tr_fail(err, TR_ERR_INVALID, "empty store location");
    if (!tr_store_location_is_pg(location))
        return tr_fail(err, TR_ERR_UNSUPPORTED,
                       "store %s is a directory store, which has no schema to migrate (db "
                       "migrate is for PostgreSQL stores)",
                       location);
    return tr_store_pg_migrate(location, o, res, err);
}

tr_code tr_store_listen(tr_store *store, const char *const *channels, size_t n, double timeout,
                        tr_listen_fn fn, void *user, tr_error *err)
{
    if (n == 0)
        return tr_fail(err, TR_ERR_INVALID, "no channel to listen on");
    return store->ops->listen(store, channels, n, timeout, fn, user, err);
}

void tr_store_close(tr_store *store)
{
    if (store)
        store->ops->close(store);
}

static tr_code check_series(const char *pair, int32_t timeframe, tr_error *err)
{
    if (!tr_pair_valid(pair))
        return tr_fail(err, TR_ERR_INVALID,
                       "bad pair name '%s' (3 to 15 characters A-Z, 0-9, e.g. EURUSD)",
                       pair ? pair : "(null)");
    if (timeframe <= 0 || timeframe > 86400 || 86400 % timeframe != 0)
        return tr_fail(err, TR_ERR_INVALID, "bad timeframe of %d seconds", (int)timeframe);
    return TR_OK;
}

tr_code tr_store_bars_put(tr_store *store, const char *pair, int32_t timeframe, const tr_bar *bars,
                          size_t n, int replace, tr_put_stats *stats, tr_error *err)
{
    tr_put_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    tr_code rc = check_series(pair, timeframe, err);
    if (rc)
        return rc;
    if (n > 0 && !bars)
        return tr_fail(err, TR_ERR_INVALID, "no bars given");
    /* every bar valid, on the grid, strictly ascending: checked once here for every backend */
    char tfn[16], ts[32];
    tr_timeframe_name(timeframe, tfn, sizeof tfn);
    for (size_t i = 0; i < n; i++) {
        const char *why = tr_bar_invalid(&bars[i]);
        if (why)
            return tr_fail(err, TR_ERR_DATA, "%s %s bar %s: %s", pair, tfn,
                           tr_time_format(bars[i].t, ts, sizeof ts), why);
        if (bars[i].t % timeframe != 0)
            return tr_fail(err, TR_ERR_DATA, "%s %s bar %s is off the bar grid", pair, tfn,
                           tr_time_format(bars[i].t, ts, sizeof ts));
        if (i > 0 && bars[i].t <= bars[i - 1].t)
            return tr_fail(err, TR_ERR_INVALID, "%s %s bars are not strictly ascending at %s", pair,
                           tfn, tr_time_format(bars[i].t, ts, sizeof ts));
    }
    return store->ops->bars_put(store, pair, timeframe, bars, n, replace, stats, err);
}

tr_code tr_store_bars_get(tr_store *store, const char *pair, int32_t timeframe, int64_t from,
                          int64_t to, tr_bars *out, tr_error *err)
{
    tr_code rc = check_series(pair, timeframe, err);
    if (rc)
        return rc;
    if (from > to)
        return tr_fail(err, TR_ERR_INVALID, "empty time range (from after to)");
    return store->ops->bars_get(store, pair, timeframe, from, to, out, err);
}

tr_code tr_store_series_list(tr_store *store, tr_series_info **list, size_t *n, tr_error *err)
{
    *list = NULL;
    *n = 0;
    return store->ops->series_list(store, list, n, err);
}

tr_code tr_store_registry_read(tr_store *store, tr_registry *reg, tr_error *err)
{
    tr_registry_init(reg);
    return store->ops->registry_read(store, reg, err);
}

tr_code tr_store_registry_commit(tr_store *store, const tr_reg_txn *txn, tr_error *err)
{
    if (!txn)
        return tr_fail(err, TR_ERR_INVALID, "no registry change given");
    tr_reg_txn fenced = *txn;
    if (!txn->job && store->job.id > 0)
        fenced.job = &store->job; /* the job this handle works for (a worker's) */
    if (!txn->family)
        fenced.family = store->family.name;
    txn = &fenced;
    if (txn->job && !store->ops->job_claim)
        return tr_fail(err, TR_ERR_UNSUPPORTED,
                       "store %s: a commit for a queued job needs a backend with a job queue",
                       tr_store_name(store));
    for (size_t i = 0; i < txn->n_files; i++) {
        const tr_reg_file *f = &txn->files[i];
        if (!tr_file_name_valid(f->name) || !tr_file_kind_valid(f->kind) || !f->path || !f->path[0])
            return tr_fail(err, TR_ERR_INVALID,
                           "registry change with a bad file (name '%.300s', kind '%.40s'): "
                           "nothing committed",
                           f->name ? f->name : "(null)", f->kind ? f->kind : "(null)");
    }
    return store->ops->registry_commit(store, txn, err);
}

tr_code tr_store_signal_put(tr_store *store, tr_signal *sig, tr_error *err)
{
    tr_code rc = check_series(sig->pair, sig->timeframe, err);
    if (rc)
        return rc;
    if (!tr_version_name_valid(sig->model_version))
        return tr_fail(err, TR_ERR_INVALID, "signal with a bad model version '%s'",
                       sig->model_version);
    return store->ops->signal_put(store, sig, err);
}

tr_code tr_store_signals_get(tr_store *store, const char *pair, int64_t from, int64_t to,
                             tr_signal **list, size_t *n, tr_error *err)
{
    *list = NULL;
    *n = 0;
    return store->ops->signals_get(store, pair, from, to, list, n, err);
}

tr_code tr_store_cycle_lock(tr_store *store, const char *cycle, int *token, tr_error *err)
{
    return store->ops->cycle_lock(store, cycle, token, err);
}

void tr_store_cycle_unlock(tr_store *store, int token)
{
    store->ops->cycle_unlock(store, token);
}

tr_code tr_store_cycle_lock_check(tr_store *store, int token, tr_error *err)
{
    return store->ops->cycle_lock_check(store, token, err);
}

tr_code tr_store_pairs(tr_store *store, int32_t tf, char (*pairs)[TR_PAIR_MAX], int max, int *n,
                       tr_error *err)
{
    tr_series_info *list;
    size_t nl;
    *n = 0;
    tr_code rc = tr_store_series_list(store, &list, &nl, err);
    if (rc)
        return rc;
    const tr_family *f = &store->family;
    for (size_t i = 0; i < nl && *n < max; i++) {
        if (list[i].timeframe != tf)
            continue;
        int in = f->n_pairs == 0;
        for (int k = 0; k < f->n_pairs && !in; k++)
            in = strcmp(f->pairs[k], list[i].pair) == 0;
        if (in)
            snprintf(pairs[(*n)++], TR_PAIR_MAX, "%s", list[i].pair);
    }
    free(list);
    /* a family's pairs are all required: a cycle never trains on part of them silently */
    for (int k = 0; k < f->n_pairs; k++) {
        int found = 0;
        for (int j = 0; j < *n && !found; j++)
            found = strcmp(pairs[j], f->pairs[k]) == 0;
        if (!found) {
            char tfn[16];
            *n = 0;
            return tr_fail(err, TR_ERR_NOTFOUND, "store %s has no %s bars at %s for family %s",
                           store->safe, f->pairs[k], tr_timeframe_name(tf, tfn, sizeof tfn),
                           f->name);
        }
    }
    if (*n == 0) {
        char tfn[16];
        return tr_fail(err, TR_ERR_NOTFOUND, "store %s has no series at %s", store->safe,
                       tr_timeframe_name(tf, tfn, sizeof tfn));
    }
    return TR_OK;
}

/* ---- the outbox ---------------------------------------------------------------------------- */

int tr_outbox_sink_valid(const char *id)
{
    size_t n = 0;
    while (n < TR_OUTBOX_SINK_MAX && id[n])
        n++;
    if (n == 0 || n >= TR_OUTBOX_SINK_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

tr_code tr_store_outbox_claim(tr_store *store, const char *sink, int64_t now, int64_t backlog,
                              double lease_seconds, size_t max, int64_t *lease,
                              tr_outbox_delivery **list, size_t *n, int64_t *next_due,
                              tr_error *err)
{
    *list = NULL;
    *n = 0;
    *next_due = 0;
    if (!tr_outbox_sink_valid(sink))
        return tr_fail(err, TR_ERR_INVALID, "bad sink id '%.63s'", sink);
    if (max == 0 || !(lease_seconds > 0))
        return tr_fail(err, TR_ERR_INVALID, "outbox claim of %s: nothing to claim", sink);
    return store->ops->outbox_claim(store, sink, now, backlog, lease_seconds, max, lease, list, n,
                                    next_due, err);
}

tr_code tr_store_outbox_record(tr_store *store, const char *sink, int64_t lease,
                               const tr_outbox_attempt *a, tr_error *err)
{
    if (!tr_outbox_sink_valid(sink))
        return tr_fail(err, TR_ERR_INVALID, "bad sink id '%.63s'", sink);
    if (a->event_id <= 0 || (int)a->state < 0 || a->state > TR_OUTBOX_GIVEN_UP)
        return tr_fail(err, TR_ERR_INVALID, "sink %s: bad attempt on event %lld", sink,
                       (long long)a->event_id);
    return store->ops->outbox_record(store, sink, lease, a, err);
}

void tr_store_outbox_release(tr_store *store, const char *sink, int64_t lease)
{
    if (tr_outbox_sink_valid(sink))
        store->ops->outbox_release(store, sink, lease);
}

tr_code tr_store_outbox_info(tr_store *store, const char *sink, tr_outbox_sink_info *info,
                             tr_error *err)
{
    memset(info, 0, sizeof *info);
    if (!tr_outbox_sink_valid(sink))
        return tr_fail(err, TR_ERR_INVALID, "bad sink id '%.63s'", sink);
    return store->ops->outbox_info(store, sink, info, err);
}

/* ---- the job queue ----------------------------------------------------------------------- */

static const char *const job_state_names[TR_JOB_STATE_COUNT] = {"queued", "running", "done",
                                                                "failed", "dead"};

const char *tr_job_state_name(tr_job_state s)
{
    return (int)s >= 0 && s < TR_JOB_STATE_COUNT ? job_state_names[s] : "?";
}

static tr_code no_queue(tr_store *store, tr_error *err)
{
    return tr_fail(err, TR_ERR_UNSUPPORTED, "store %s: this backend has no job queue",
                   tr_store_name(store));
}

/* A family or cycle name: 1..max-1 characters a-z 0-9 _ -. */
static int job_name_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return 0;
    return 1;
}

static tr_code check_family(const char *family, tr_error *err)
{
    if (family && family[0] && !job_name_ok(family, TR_JOB_FAMILY_MAX))
        return tr_fail(err, TR_ERR_INVALID, "bad family name '%.63s' (a-z, 0-9, _, -)", family);
    return TR_OK;
}

static tr_code check_fence(const tr_job_fence *f, tr_error *err)
{
    if (!f || f->id <= 0 || f->lease <= 0)
        return tr_fail(err, TR_ERR_INVALID, "no job claimed");
    return TR_OK;
}

tr_code tr_store_job_enqueue(tr_store *store, const char *family, const char *cycle,
                             int64_t slot_time, int max_attempts, int *inserted, int64_t *id,
                             tr_error *err)
{
    *inserted = 0;
    *id = 0;
    if (!family || !family[0])
        family = TR_JOB_DEFAULT_FAMILY;
    tr_code rc = check_family(family, err);
    if (rc)
        return rc;
    if (!job_name_ok(cycle, TR_JOB_CYCLE_MAX))
        return tr_fail(err, TR_ERR_INVALID, "bad cycle name '%.31s'", cycle ? cycle : "");
    if (max_attempts < 1)
        return tr_fail(err, TR_ERR_INVALID, "a job needs at least one attempt");
    if (!store->ops->job_enqueue)
        return no_queue(store, err);
    return store->ops->job_enqueue(store, family, cycle, slot_time, max_attempts, inserted, id,
                                   err);
}

tr_code tr_store_job_claim(tr_store *store, const char *family, double lease_seconds, tr_job *job,
                           int *got, tr_error *err)
{
    *got = 0;
    tr_code rc = check_family(family, err);
    if (rc)
        return rc;
    if (!(lease_seconds > 0) || lease_seconds > 86400)
        return tr_fail(err, TR_ERR_INVALID, "a job lease is 0 to 86400 seconds");
    if (!store->ops->job_claim)
        return no_queue(store, err);
    return store->ops->job_claim(store, family, lease_seconds, job, got, err);
}

tr_code tr_store_job_heartbeat(tr_store *store, const tr_job_fence *fence, double lease_seconds,
                               tr_error *err)
{
    tr_code rc = check_fence(fence, err);
    if (rc)
        return rc;
    if (!(lease_seconds > 0) || lease_seconds > 86400)
        return tr_fail(err, TR_ERR_INVALID, "a job lease is 0 to 86400 seconds");
    if (!store->ops->job_heartbeat)
        return no_queue(store, err);
    return store->ops->job_heartbeat(store, fence, lease_seconds, err);
}

tr_code tr_store_job_complete(tr_store *store, const tr_job_fence *fence, const char *result,
                              tr_error *err)
{
    tr_code rc = check_fence(fence, err);
    if (rc)
        return rc;
    if (!store->ops->job_complete)
        return no_queue(store, err);
    return store->ops->job_complete(store, fence, result ? result : "", err);
}

tr_code tr_store_job_fail(tr_store *store, const tr_job_fence *fence, const char *error,
                          double backoff_base, tr_job_state *state, tr_error *err)
{
    tr_job_state st;
    if (!state)
        state = &st;
    tr_code rc = check_fence(fence, err);
    if (rc)
        return rc;
    if (!(backoff_base >= 0) || backoff_base > 86400)
        return tr_fail(err, TR_ERR_INVALID, "a backoff is 0 to 86400 seconds");
    if (!store->ops->job_fail)
        return no_queue(store, err);
    return store->ops->job_fail(store, fence, error ? error : "", backoff_base, state, err);
}

tr_code tr_store_job_list(tr_store *store, const char *family, size_t max, tr_job **list, size_t *n,
                          tr_error *err)
{
    *list = NULL;
    *n = 0;
    tr_code rc = check_family(family, err);
    if (rc)
        return rc;
    if (!store->ops->job_list)
        return no_queue(store, err);
    return store->ops->job_list(store, family, max, list, n, err);
}

tr_code tr_store_job_get(tr_store *store, int64_t id, tr_job *job, tr_error *err)
{
    if (id <= 0)
        return tr_fail(err, TR_ERR_INVALID, "bad job id %lld", (long long)id);
    if (!store->ops->job_get)
        return no_queue(store, err);
    return store->ops->job_get(store, id, job, err);
}

tr_code tr_store_job_retry(tr_store *store, int64_t id, tr_error *err)
{
    if (id <= 0)
        return tr_fail(err, TR_ERR_INVALID, "bad job id %lld", (long long)id);
    if (!store->ops->job_retry)
        return no_queue(store, err);
    return store->ops->job_retry(store, id, err);
}

int tr_store_job_outcome(const tr_reg_txn *txn, const char *cycle, int64_t slot, char *result,
                         size_t size)
{
    for (size_t i = 0; i < txn->n_log; i++) {
        const tr_log_row *row = &txn->log[i];
        if (strcmp(row->cycle, cycle) != 0 || row->as_of != slot ||
            (row->status != TR_LOG_COMPLETED && row->status != TR_LOG_SKIPPED))
            continue;
        snprintf(result, size, "%s%s%s%s%s",
                 row->status == TR_LOG_COMPLETED ? "completed" : "skipped",
                 row->version[0] ? " " : "", row->version, row->reason[0] ? ": " : "", row->reason);
        return 1;
    }
    return 0;
}

void tr_store_job_fence(tr_store *store, const tr_job_fence *fence)
{
    if (fence)
        store->job = *fence;
    else
        memset(&store->job, 0, sizeof store->job);
}

/* ---- model files ----------------------------------------------------------------------------- */

int tr_file_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= TR_FILE_NAME_MAX || name[0] == '/')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (name[i] < 0x21 || name[i] > 0x7e || name[i] == '\\')
            return 0;
    /* no "." or ".." component */
    for (const char *c = name; *c;) {
        size_t len = strcspn(c, "/");
        if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        c += len;
        if (*c == '/')
            c++;
    }
    return name[n - 1] != '/';
}

int tr_file_kind_valid(const char *kind)
{
    static const char *const kinds[] = {"checkpoint", "reference", "report", "picture"};
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return 1;
    return 0;
}

int tr_store_has_files(const tr_store *store)
{
    return store->ops->file_get != NULL;
}

static tr_code check_file(const tr_store *store, const char *name, tr_error *err)
{
    if (!store->ops->file_get)
        return tr_fail(err, TR_ERR_UNSUPPORTED,
                       "store %s keeps its files in its directories, not in a database",
                       tr_store_name(store));
    if (!tr_file_name_valid(name))
        return tr_fail(err, TR_ERR_INVALID,
                       "bad file name '%.300s' (1 to 255 printable characters, relative, no . or "
                       ".. component)",
                       name ? name : "(null)");
    return TR_OK;
}

tr_code tr_store_file_get(tr_store *store, const char *name, char **data, size_t *len,
                          uint32_t *crc, tr_error *err)
{
    *data = NULL;
    *len = 0;
    uint32_t ignored;
    tr_code rc = check_file(store, name, err);
    return rc ? rc : store->ops->file_get(store, name, data, len, crc ? crc : &ignored, err);
}

tr_code tr_store_file_put(tr_store *store, const char *name, const char *kind, const void *data,
                          size_t len, tr_error *err)
{
    tr_code rc = check_file(store, name, err);
    if (rc)
        return rc;
    if (!tr_file_kind_valid(kind))
        return tr_fail(err, TR_ERR_INVALID,
                       "bad kind '%.40s' of file %s (checkpoint, reference, report, picture)",
                       kind ? kind : "(null)", name);
    if (len > TR_FILE_MAX_BYTES || (len > 0 && !data))
        return tr_fail(err, TR_ERR_INVALID, "file %s: %zu bytes (at most %zu MiB are stored)", name,
                       len, TR_FILE_MAX_BYTES >> 20);
    return store->ops->file_put(store, name, kind, data, len, err);
}

tr_code tr_store_file_delete(tr_store *store, const char *name, tr_error *err)
{
    tr_code rc = check_file(store, name, err);
    return rc ? rc : store->ops->file_delete(store, name, err);
}

tr_code tr_store_file_list(tr_store *store, const char *prefix, tr_file_info **list, size_t *n,
                           tr_error *err)
{
    *list = NULL;
    *n = 0;
    if (!store->ops->file_list)
        return check_file(store, "x", err);
    return store->ops->file_list(store, prefix ? prefix : "", list, n, err);
}
