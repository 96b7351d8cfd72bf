/*
 * backend.h - what a store backend implements, private to store/: the method table and the
 * fields every handle has. A backend embeds struct tr_store as the first member of its own
 * handle and fills the table with designated initialisers.
 */
#ifndef AIFXT_STORE_BACKEND_H
#define AIFXT_STORE_BACKEND_H

#include "store/store.h"

#define TR_STORE_PATH_MAX 4096

typedef struct tr_store_ops {
    const char *name; /* "dir", "postgresql" */
    void (*close)(tr_store *store);
    /* Merges bars (n, strictly ascending, valid, on the grid) into the series (pair, timeframe).
     * A bar at a time already stored must be identical unless replace is set; otherwise nothing
     * is written and TR_ERR_CONFLICT names the time. All or nothing, atomic and durable. */
    tr_code (*bars_put)(tr_store *store, const char *pair, int32_t timeframe, const tr_bar *bars,
                        size_t n, int replace, tr_put_stats *stats, tr_error *err);
    /* Appends to out the stored bars with from <= t < to, ascending. A series that does not
     * exist is TR_ERR_NOTFOUND; an existing series with no bar in the range gives zero bars. */
    tr_code (*bars_get)(tr_store *store, const char *pair, int32_t timeframe, int64_t from,
                        int64_t to, tr_bars *out, tr_error *err);
    /* Lists the stored series into a malloc'd array (*list, *n), sorted by pair then timeframe;
     * the caller frees *list. */
    tr_code (*series_list)(tr_store *store, tr_series_info **list, size_t *n, tr_error *err);
    /* Reads the whole registry into reg (initialised by the call; the caller frees it). An
     * empty store has an empty registry. A damaged registry is an error naming it. */
    tr_code (*registry_read)(tr_store *store, tr_registry *reg, tr_error *err);
    /* Applies txn with tr_registry_apply to the current registry and stores the result: all of
     * it or nothing, atomic and durable, serialised with other writers. */
    tr_code (*registry_commit)(tr_store *store, const tr_reg_txn *txn, tr_error *err);
    /* Records a signal, assigning sig->id; durable on return. */
    tr_code (*signal_put)(tr_store *store, tr_signal *sig, tr_error *err);
    /* The signals of pair (NULL: all) with from <= bar_time < to, in recording order, into a
     * malloc'd array the caller frees. */
    tr_code (*signals_get)(tr_store *store, const char *pair, int64_t from, int64_t to,
                           tr_signal **list, size_t *n, tr_error *err);
    /* Takes the lock of a cycle ("full", "incremental") without waiting: TR_ERR_CONFLICT when
     * another process holds it. *token is released with cycle_unlock (also released when the
     * process dies). */
    tr_code (*cycle_lock)(tr_store *store, const char *cycle, int *token, tr_error *err);
    void (*cycle_unlock)(tr_store *store, int token);
    /* TR_OK while the lock of token is still this process's; TR_ERR_CONFLICT once another took
     * it (PostgreSQL: the server dropped the session, and another run took the lock since). */
    tr_code (*cycle_lock_check)(tr_store *store, int token, tr_error *err);
    /* Records n signals at once, assigning their ids in order; one atomic, durable write. */
    tr_code (*signals_append)(tr_store *store, tr_signal *sigs, size_t n, tr_error *err);
    /* Replaces the outcome fields (outcome, exit_time, exit_price, pnl_pips, pnl_percent) of the
     * stored signals with the ids of sigs (n); one atomic, durable write. An unknown id is
     * TR_ERR_NOTFOUND and nothing is written. */
    tr_code (*signals_update)(tr_store *store, const tr_signal *sigs, size_t n, tr_error *err);
    /* Waits for events on the channels (n names: new_market_data, training_completed,
     * model_deployed) for at most timeout seconds (< 0: no limit), calling fn once with channel
     * NULL when listening has begun, then once per event as it arrives; returns TR_OK when fn
     * returns non-zero or the time is up. Events are sent by the commits that cause them, so
     * only committed changes are announced. The directory store has none: TR_ERR_UNSUPPORTED. */
    tr_code (*listen)(tr_store *store, const char *const *channels, size_t n, double timeout,
                      tr_listen_fn fn, void *user, tr_error *err);
    /* The outbox (store.h): claim a sink (register it on first use), list its due deliveries in
     * id order; record an attempt under the claim's fencing token (TR_ERR_CONFLICT once another
     * sender claimed the sink); release the claim; a sink's figures. Arguments were checked by
     * the wrappers (a valid sink id, max > 0). */
    tr_code (*outbox_claim)(tr_store *store, const char *sink, int64_t now, int64_t backlog,
                            double lease_seconds, size_t max, int64_t *lease,
                            tr_outbox_delivery **list, size_t *n, int64_t *next_due, tr_error *err);
    tr_code (*outbox_record)(tr_store *store, const char *sink, int64_t lease,
                             const tr_outbox_attempt *a, tr_error *err);
    void (*outbox_release)(tr_store *store, const char *sink, int64_t lease);
    tr_code (*outbox_info)(tr_store *store, const char *sink, tr_outbox_sink_info *info,
                           tr_error *err);
    /* The job queue (store.h; arguments checked by the wrappers: a family and cycle name,
     * lease_seconds > 0, a fence with id > 0). NULL in a backend without one: the wrappers
     * answer TR_ERR_UNSUPPORTED, and a registry commit carrying a job fence is refused. */
    tr_code (*job_enqueue)(tr_store *store, const char *family, const char *cycle,
                           int64_t slot_time, int max_attempts, int *inserted, int64_t *id,
                           tr_error *err);
    tr_code (*job_claim)(tr_store *store, const char *family, double lease_seconds, tr_job *job,
                         int *got, tr_error *err);
    tr_code (*job_heartbeat)(tr_store *store, const tr_job_fence *fence, double lease_seconds,
                             tr_error *err);
    tr_code (*job_complete)(tr_store *store, const tr_job_fence *fence, const char *result,
                            tr_error *err);
    tr_code (*job_fail)(tr_store *store, const tr_job_fence *fence, const char *error,
                        double backoff_base, tr_job_state *state, tr_error *err);
    tr_code (*job_list)(tr_store *store, const char *family, size_t max, tr_job **list, size_t *n,
                        tr_error *err);
    tr_code (*job_get)(tr_store *store, int64_t id, tr_job *job, tr_error *err);
    tr_code (*job_retry)(tr_store *store, int64_t id, tr_error *err);
    /* Model families (family.h; names checked by the wrappers, never "default"): add one
     * (TR_ERR_CONFLICT when the name exists with another definition; the same one again is a
     * no-op), read one (TR_ERR_NOTFOUND), list every one by name into a malloc'd array. */
    tr_code (*family_put)(tr_store *store, const tr_family *f, tr_error *err);
    tr_code (*family_get)(tr_store *store, const char *name, tr_family *f, tr_error *err);
    tr_code (*family_list)(tr_store *store, tr_family **list, size_t *n, tr_error *err);
    /* Model files (store.h; arguments checked by the wrappers: a valid name and kind). NULL in
     * a backend that keeps no files (the directory store): the wrappers answer
     * TR_ERR_UNSUPPORTED, and a registry commit ignores tr_reg_txn.files. */
    tr_code (*file_get)(tr_store *store, const char *name, char **data, size_t *len, uint32_t *crc,
                        tr_error *err);
    tr_code (*file_put)(tr_store *store, const char *name, const char *kind, const void *data,
                        size_t len, tr_error *err);
    tr_code (*file_delete)(tr_store *store, const char *name, tr_error *err);
    tr_code (*file_list)(tr_store *store, const char *prefix, tr_file_info **list, size_t *n,
                         tr_error *err);
} tr_store_ops;

struct tr_store {
    const tr_store_ops *ops;
    char location[TR_STORE_PATH_MAX];        /* as given; may hold a password: never print it */
    char safe[TR_STORE_PATH_MAX];            /* the location as tr_store_name prints it */
    char models_dir[TR_STORE_PATH_MAX];      /* set by tr_store_open (tr_store_options) */
    char files_dir[TR_STORE_PATH_MAX];       /* see TR_AREA_FILES */
    tr_job_fence job;                        /* tr_store_job_fence: id 0 for none */
    char base_models_dir[TR_STORE_PATH_MAX]; /* models_dir before the family's part */
    tr_family family;                        /* the family this handle works in (store.h) */
    char scope[TR_STORE_PATH_MAX];           /* directory store: the family's directory (the store's
                                                own for "default"), holding its registry, signals,
                                                cycle locks and outbox state */
};

/* The embedded directory backend (store_dir.c). */
tr_code tr_store_dir_open(const char *dir, int create, tr_store **out, tr_error *err);

/* flock(LOCK_EX) on <dir>/lock, the lock every writer of a directory store takes for its whole
 * read-merge-write (store_dir.c, and the job queue's jobs_dir.c); *fd is released by close. */
tr_code tr_store_dir_lock(const char *dir, int *fd, tr_error *err);

/* For the commit that carries a queued job's fence (both backends): 1 when txn logs the job's
 * cycle completed or skipped as of its slot, which ends the job, with its one-line outcome
 * ("completed v1.3: reason") in result; 0 otherwise. */
int tr_store_job_outcome(const tr_reg_txn *txn, const char *cycle, int64_t slot, char *result,
                         size_t size);

/* The PostgreSQL backend (store_pg.c; TR_ERR_UNSUPPORTED without AIFX_WITH_POSTGRESQL). Opening
 * needs the current schema: a missing or older one is TR_ERR_VERSION asking for db migrate. */
tr_code tr_store_pg_open(const char *location, tr_store **out, tr_error *err);
tr_code tr_store_pg_migrate(const char *location, const tr_migrate_options *o,
                            tr_migrate_result *res, tr_error *err);

#endif
