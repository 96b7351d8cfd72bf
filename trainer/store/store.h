/*
 * store.h - the trainer's store: one small table of functions, one implementation per backend.
 *
 * The cycles reach persistent data only through tr_store_* calls, so a backend can be swapped
 * without touching them. Implemented today: the embedded directory store (store_dir.c), the
 * default, at --store DIR, else $AIFX_STORE, else ./aifx-data; and PostgreSQL (store_pg.c) at a
 * postgresql:// or postgres:// URI or a libpq keyword/value string (built with
 * AIFX_WITH_POSTGRESQL; otherwise such a location is TR_ERR_UNSUPPORTED).
 *
 * The table holds only what is implemented: market data (bars); the registry (model versions,
 * the training log, the activation history and A/B tests, read as a whole and changed by
 * transactions, registry.h); trading signals; locks; events; on PostgreSQL, model files.
 * Checkpoints are written to a directory on disk on every backend (TR_AREA_MODELS); the registry
 * records their paths and checksums, and a PostgreSQL store also keeps their bytes (model files
 * below), which other hosts load through a local cache.
 *
 * The handle is opaque: backends keep their fields in store/backend.h. A path in one of the
 * store's directories comes from tr_store_path; the location is printed only as tr_store_name,
 * which never shows a password.
 *
 * Concurrency: writers serialise on a store-wide lock; readers need no lock because every write
 * replaces a file atomically (a reader sees the old or the new series, never a mix). A store
 * handle is not thread-safe; open one per thread.
 */
#ifndef AIFXT_STORE_H
#define AIFXT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/bars.h"
#include "base/err.h"
#include "market/signal.h"
#include "registry/family.h"
#include "registry/registry.h"

#define TR_STORE_DEFAULT_DIR "./aifx-data"

typedef struct tr_store tr_store;

/* What a bars_put did. */
typedef struct tr_put_stats {
    size_t n_added;     /* bars new to the store */
    size_t n_unchanged; /* bars identical to stored ones (a no-op) */
    size_t n_replaced;  /* stored bars overwritten (only with replace) */
    size_t conflict;    /* on TR_ERR_CONFLICT: index in the input of the first conflicting bar */
} tr_put_stats;

/* One stored series. */
typedef struct tr_series_info {
    char pair[TR_PAIR_MAX];
    int32_t timeframe; /* seconds */
    size_t count;
    int64_t first, last; /* open times of the first and last bars */
} tr_series_info;

/* An event callback (listen): channel and payload (JSON) of one event, or channel NULL once when
 * listening has begun. Returns non-zero to stop listening. */
typedef int (*tr_listen_fn)(const char *channel, const char *payload, void *user);

/* The location to use: explicit (if non-NULL and non-empty), else $AIFX_STORE, else the
 * default. Returns a pointer to one of those strings (never NULL). */
const char *tr_store_location(const char *explicit_location);

/* How to open a store. */
typedef struct tr_store_options {
    int create;             /* create a missing directory store */
    const char *models_dir; /* checkpoints and runs in progress; NULL or "": the backend's
                               default (<store>/models for a directory, ./aifx-models for
                               PostgreSQL) */
    const char *family;     /* the model family the handle works in (family.h); NULL, "" or
                               "default": the implicit one. Another must be defined in the
                               store (tr_store_family_add), else TR_ERR_NOTFOUND. Its registry,
                               signals, cycle locks and outbox are its own; its checkpoints and
                               reports live in <models_dir>/families/<name> and
                               <files>/families/<name>; the bars are shared. */
} tr_store_options;

/* Opens the store at location, choosing the backend from its form. o NULL: defaults (no
 * create). With create, a missing embedded store directory is created; without it, a missing
 * store is TR_ERR_NOTFOUND. The caller closes *out with tr_store_close. */
tr_code tr_store_open(const char *location, const tr_store_options *o, tr_store **out,
                      tr_error *err);

/* Opens a second handle on the store of an open one (same location and models directory), for
 * another thread (a handle is not thread-safe). */
tr_code tr_store_reopen(const tr_store *store, tr_store **out, tr_error *err);

/* The store's location as it may be printed: a password (in a URI's user info or query, or a
 * keyword/value string's password=) replaced by "***". Never NULL. */
const char *tr_store_name(const tr_store *store);

/* The same redaction for a location not opened (yet): copies loc into out. */
void tr_store_location_redact(const char *loc, char *out, size_t size);

/* The store's local directories. */
typedef enum tr_store_area {
    TR_AREA_MODELS = 0, /* <models_dir>: checkpoints <version>.ckpt */
    TR_AREA_RUNS,       /* <models_dir>/runs: training runs in progress */
    TR_AREA_FILES,      /* the store's other files: the store directory itself, or for
                           PostgreSQL the models directory's parent */
    TR_AREA_REPORTS,    /* <files>/reports: Markdown reports and pictures */
    TR_AREA_CACHE       /* <models_dir>/cache: files of a PostgreSQL store fetched from the
                           database, named by checksum (data/models.h) */
} tr_store_area;

/* "<area directory>/<name>" (name NULL or "": the directory itself) into buf; TR_ERR_INVALID
 * when it does not fit. */
tr_code tr_store_path(const tr_store *store, tr_store_area area, const char *name, char *buf,
                      size_t size, tr_error *err);

/* A file name of the files area private to this store: "<stem><ext>" for a directory store,
 * "<stem>-<crc of the location><ext>" for a database (whose files directory may be shared by
 * several databases). */
void tr_store_private_name(const tr_store *store, const char *stem, const char *ext, char *out,
                           size_t size);

/* Opens another handle on the store of an open one, in the model family named (NULL: the
 * default one). */
tr_code tr_store_open_family(const tr_store *store, const char *family, tr_store **out,
                             tr_error *err);

/* The family of the handle (tr_store_options.family; "default" when none was named). */
const tr_family *tr_store_family(const tr_store *store);
const char *tr_store_family_name(const tr_store *store);

/* Adds a family's definition to the store (a name other than "default"): TR_ERR_CONFLICT when
 * the name is taken by another definition, TR_OK (nothing changed) for the same one again. */
tr_code tr_store_family_add(tr_store *store, const tr_family *f, tr_error *err);
/* One family's definition ("default": tr_family_default()); TR_ERR_NOTFOUND naming it. */
tr_code tr_store_family_get(tr_store *store, const char *name, tr_family *f, tr_error *err);
/* Every defined family (not "default"), by name, into a malloc'd array the caller frees. */
tr_code tr_store_family_list(tr_store *store, tr_family **list, size_t *n, tr_error *err);

/* Closes the store; NULL does nothing. */
void tr_store_close(tr_store *store);

/* Thin wrappers over the table, which also check arguments (pair name, timeframe, ranges). */
tr_code tr_store_bars_put(tr_store *store, const char *pair, int32_t timeframe, const tr_bar *bars,
                          size_t n, int replace, tr_put_stats *stats, tr_error *err);
tr_code tr_store_bars_get(tr_store *store, const char *pair, int32_t timeframe, int64_t from,
                          int64_t to, tr_bars *out, tr_error *err);
tr_code tr_store_series_list(tr_store *store, tr_series_info **list, size_t *n, tr_error *err);

tr_code tr_store_registry_read(tr_store *store, tr_registry *reg, tr_error *err);
tr_code tr_store_registry_commit(tr_store *store, const tr_reg_txn *txn, tr_error *err);
tr_code tr_store_signal_put(tr_store *store, tr_signal *sig, tr_error *err);
tr_code tr_store_signals_get(tr_store *store, const char *pair, int64_t from, int64_t to,
                             tr_signal **list, size_t *n, tr_error *err);
tr_code tr_store_cycle_lock(tr_store *store, const char *cycle, int *token, tr_error *err);
void tr_store_cycle_unlock(tr_store *store, int token);
/* TR_OK while the cycle lock of token is still held by this process; TR_ERR_CONFLICT when it was
 * lost to another run (a PostgreSQL server that restarted dropped it and another run took it);
 * a long cycle checks before each write of its run files. Every registry commit of a process
 * that holds cycle locks checks them too, in its own transaction, and is refused when one was
 * lost (a fencing token), so two runs never both commit. */
tr_code tr_store_cycle_lock_check(tr_store *store, int token, tr_error *err);

/* The batch forms used by the replay (signals_append, signals_update above). */
tr_code tr_store_signals_append(tr_store *store, tr_signal *sigs, size_t n, tr_error *err);
tr_code tr_store_signals_update(tr_store *store, const tr_signal *sigs, size_t n, tr_error *err);

/* Every pair stored at the timeframe (at most max), sorted. TR_ERR_NOTFOUND when none. */
tr_code tr_store_pairs(tr_store *store, int32_t tf, char (*pairs)[TR_PAIR_MAX], int max, int *n,
                       tr_error *err);

/* 1 when location names a PostgreSQL database: a postgresql:// or postgres:// URI, or a libpq
 * keyword/value string (an '=' before any '/', e.g. "host=/run/pg dbname=aifx"). */
int tr_store_location_is_pg(const char *location);

/* Waits for events on the channels (n names: new_market_data, training_completed,
 * model_deployed) for at most timeout seconds (< 0: no limit), calling fn once with channel NULL
 * when listening has begun, then once per event; TR_OK when fn returns non-zero or the time is
 * up. Only committed changes are announced. The directory store has none: TR_ERR_UNSUPPORTED. */
tr_code tr_store_listen(tr_store *store, const char *const *channels, size_t n, double timeout,
                        tr_listen_fn fn, void *user, tr_error *err);

/* ---- the outbox: delivering committed events to notification sinks -------------------------
 *
 * Events enter the outbox in the registry commit that causes them (registry.h: tr_reg_txn,
 * tr_registry_apply). A sink (a webhook, data/notify.h) is named by an id of 1..63 characters
 * a-z 0-9 _ -; every sink receives every event, in id order: an event is not sent before the
 * sink's earlier events are delivered or given up. A sender claims a sink (a lease with a fencing
 * token), lists its due deliveries, records each attempt's result, and releases the sink. Two
 * senders (two threads, processes or hosts) never hold one sink at a time. Delivery is
 * at-least-once: a sender that dies between a webhook's answer and its record sends the event
 * again; the event id makes a stable idempotency key. */

#define TR_OUTBOX_SINK_MAX 64

/* One event due for a sink, with what was tried so far. */
typedef struct tr_outbox_delivery {
    tr_outbox_event ev;
    int attempts;             /* made so far for this sink (0: never tried) */
    int64_t first_attempt_at; /* 0 when never tried */
    int64_t next_attempt_at;  /* not before (0: at once) */
    char last_error[256];     /* of the last failed attempt, "" for none */
} tr_outbox_delivery;

/* What an attempt left the delivery in. */
typedef enum tr_outbox_state {
    TR_OUTBOX_RETRY = 0,     /* failed; try again at next_at */
    TR_OUTBOX_DELIVERED = 1, /* the sink answered 2xx */
    TR_OUTBOX_GIVEN_UP = 2   /* failed for good (a 4xx, or retried past the give-up time) */
} tr_outbox_state;

/* The result of one attempt, as the sender records it. */
typedef struct tr_outbox_attempt {
    int64_t event_id;
    tr_outbox_state state;
    int64_t at;      /* when the attempt was made */
    int64_t next_at; /* TR_OUTBOX_RETRY: not before */
    int http_status; /* the answer's status, 0 for none (a network error, a timeout) */
    char error[256]; /* "" when delivered; never a URL */
} tr_outbox_attempt;

/* A sink's delivery figures (for notify --status and the tests). */
typedef struct tr_outbox_sink_info {
    int64_t start_after;  /* events up to this id predate the sink (never sent to it) */
    int64_t done_through; /* events up to this id are delivered or given up */
    int64_t delivered, given_up;
    int64_t pending;      /* events after done_through */
    int head_attempts;    /* attempts made on the first pending event */
    int64_t head_next_at; /* its next attempt (0: at once, or none pending) */
    char head_error[256];
} tr_outbox_sink_info;

/* 1 when id can name a sink. */
int tr_outbox_sink_valid(const char *id);

/* Claims sink for this handle and lists its due deliveries: the events after the last one
 * delivered or given up, in id order, at most max, when the first of them is due at now
 * (next_attempt_at <= now); else none, with *next_due its next attempt time (0 when nothing is
 * pending). The first claim of a sink registers it: the events created more than backlog seconds
 * before now are not sent to it (backlog < 0: every event). Another sender holding the sink is
 * TR_ERR_CONFLICT (nothing listed, *lease unchanged). On TR_OK *lease is the claim's fencing
 * token: give it to tr_store_outbox_record and tr_store_outbox_release. A claim lapses after
 * lease_seconds (PostgreSQL) or when the process ends (both). The caller frees *list. */
tr_code tr_store_outbox_claim(tr_store *store, const char *sink, int64_t now, int64_t backlog,
                              double lease_seconds, size_t max, int64_t *lease,
                              tr_outbox_delivery **list, size_t *n, int64_t *next_due,
                              tr_error *err);
/* Records one attempt on event a->event_id for sink, durably. The sender records in id order; a
 * delivered or given-up event ends the sink's wait on it. TR_ERR_CONFLICT when the claim lease
 * was lost (another sender claimed the sink since): nothing recorded. */
tr_code tr_store_outbox_record(tr_store *store, const char *sink, int64_t lease,
                               const tr_outbox_attempt *a, tr_error *err);
/* Releases a claim; a lost one is left alone. */
void tr_store_outbox_release(tr_store *store, const char *sink, int64_t lease);
/* The delivery figures of sink (zeros for a sink never claimed: TR_OK). */
tr_code tr_store_outbox_info(tr_store *store, const char *sink, tr_outbox_sink_info *info,
                             tr_error *err);

/* ---- the job queue: cycles run by workers, on several hosts (PostgreSQL) or one (a directory)
 *
 * One job per (family, cycle, slot time), enqueued by a scheduler step (enqueue-due) and run by
 * workers (docs/operations.md section 8, "A job queue"; docs/schema.md 5.14). A worker claims a
 * job with a lease (on the server's clock; a directory store's on the local one) and a fencing
 * generation (tr_job.lease, one more at every claim), renews it by heartbeat, and completes it in
 * the same transaction as the cycle's registry commit (tr_store_job_fence). A job whose lease
 * lapsed is claimed again by another worker; its first worker's heartbeat, completion, failure
 * and registry commit are then refused (TR_ERR_CONFLICT). On a directory store a claim also holds
 * a file lock, so the job of a worker that died is claimed again at once (store/jobs_dir.h). */

#define TR_JOB_FAMILY_MAX     64
#define TR_JOB_CYCLE_MAX      32
#define TR_JOB_DEFAULT_FAMILY "default"
#define TR_JOB_BACKOFF_BASE   30.0 /* seconds: a failed attempt n runs again after 30 * 2^n */

typedef enum tr_job_state {
    TR_JOB_QUEUED = 0,  /* waiting for run_after */
    TR_JOB_RUNNING = 1, /* claimed, under a lease */
    TR_JOB_DONE = 2,
    TR_JOB_FAILED = 3, /* an attempt failed; claimed again at run_after */
    TR_JOB_DEAD = 4,   /* max_attempts failed: kept with its error until retried by hand */
    TR_JOB_STATE_COUNT
} tr_job_state;

/* The state's name ("queued", ...; "?" out of range). */
const char *tr_job_state_name(tr_job_state s);

typedef struct tr_job {
    int64_t id;
    char family[TR_JOB_FAMILY_MAX];
    char cycle[TR_JOB_CYCLE_MAX];
    int64_t slot_time;
    tr_job_state state;
    int attempts, max_attempts;
    int64_t run_after;
    int64_t lease;        /* fencing generation of the last claim */
    int64_t leased_until; /* 0: not leased */
    char leased_by[128];  /* host:pid */
    char last_error[512];
    int64_t created_at, finished_at;
    char result[512];
} tr_job;

/* A worker's hold on a job: its id and the generation it claimed. */
typedef struct tr_job_fence {
    int64_t id;
    int64_t lease;
} tr_job_fence;

/* Adds the job (family NULL: "default"; max_attempts >= 1) unless one of (family, cycle,
 * slot_time) exists: *inserted 1 and *id the new job's, or 0 and the existing one's. Wakes the
 * workers listening on the channel "jobs" when it inserted. */
tr_code tr_store_job_enqueue(tr_store *store, const char *family, const char *cycle,
                             int64_t slot_time, int max_attempts, int *inserted, int64_t *id,
                             tr_error *err);
/* Claims the first runnable job (family NULL or "": any) in slot order: a queued or failed job
 * whose run_after has come, or a running one whose lease lapsed (its attempts exhausted: made
 * dead instead), of a family that has no other job running under a live lease: a family's jobs
 * run one at a time in slot order, as run-due runs its slots (the fine-tune needs the retrain's
 * version, the ranking both); families run side by side. Rows being written by others are
 * skipped, never waited for. *got 1 and *job the claimed job (state running, attempts and lease
 * incremented, leased for lease_seconds), or 0. */
tr_code tr_store_job_claim(tr_store *store, const char *family, double lease_seconds, tr_job *job,
                           int *got, tr_error *err);
/* Extends the lease to now + lease_seconds: TR_ERR_CONFLICT when fence's generation is no longer
 * the job's or the job is no longer running (another worker took it). */
tr_code tr_store_job_heartbeat(tr_store *store, const tr_job_fence *fence, double lease_seconds,
                               tr_error *err);
/* Marks the job done with result (a one-line outcome), or only records result when its fenced
 * registry commit marked it done already. TR_ERR_CONFLICT when the lease was lost. */
tr_code tr_store_job_complete(tr_store *store, const tr_job_fence *fence, const char *result,
                              tr_error *err);
/* Records a failed attempt with its error (never a secret): failed, claimed again after
 * backoff_base * 2^attempts seconds, or dead when attempts reached max_attempts (*state, which
 * may be NULL, says which). TR_ERR_CONFLICT when the lease was lost. */
tr_code tr_store_job_fail(tr_store *store, const tr_job_fence *fence, const char *error,
                          double backoff_base, tr_job_state *state, tr_error *err);
/* The jobs (family NULL or "": all), newest slot first, at most max (0: all), into a malloc'd
 * array the caller frees. */
tr_code tr_store_job_list(tr_store *store, const char *family, size_t max, tr_job **list, size_t *n,
                          tr_error *err);
/* One job; TR_ERR_NOTFOUND naming it. */
tr_code tr_store_job_get(tr_store *store, int64_t id, tr_job *job, tr_error *err);
/* Queues a dead or failed job again at once with its attempts reset (aifx-train jobs retry);
 * TR_ERR_NOTFOUND for an unknown id, TR_ERR_CONFLICT for a job in another state. */
tr_code tr_store_job_retry(tr_store *store, int64_t id, tr_error *err);
/* Sets (fence non-NULL) or clears (NULL) the job this handle works for: every registry commit
 * through the handle then carries it (tr_reg_txn.job, unless the transaction names one), is
 * refused with TR_ERR_CONFLICT ("lost its job lease") when the job's generation moved on, and
 * marks the job done in its own transaction when it logs the job's cycle completed or skipped
 * as of the job's slot time. */
void tr_store_job_fence(tr_store *store, const tr_job_fence *fence);

/* ---- model files in the database (PostgreSQL; docs/schema.md 5.16) -------------------------
 *
 * A PostgreSQL store keeps the files every host needs in its model_files table: a version's
 * checkpoint and drift reference, stored by the registry commit that registers the version
 * (tr_reg_txn.files, in the same transaction), and the ranking's reports (Markdown and
 * pictures), stored once written. Names are relative ("v1.2.ckpt", "reports/rank-....png");
 * each row keeps its CRC-32 and size, checked whenever it is read. Hosts read them through a
 * local cache (data/models.h), so no shared file system is needed. The directory store keeps its
 * files in its own directories: it has no such table, and these calls answer
 * TR_ERR_UNSUPPORTED there (tr_store_has_files says which). */

#define TR_FILE_NAME_MAX  256
#define TR_FILE_KIND_MAX  16
#define TR_FILE_MAX_BYTES ((size_t)256 << 20) /* a stored file: 256 MiB at most */

/* One stored file, without its bytes. */
typedef struct tr_file_info {
    char name[TR_FILE_NAME_MAX];
    char kind[TR_FILE_KIND_MAX]; /* checkpoint, reference, report, picture */
    uint32_t crc;
    int64_t size;
    int64_t created_at;
} tr_file_info;

/* 1 when name can name a stored file: 1..255 characters, printable ASCII, relative (no leading
 * '/'), no "." or ".." component. */
int tr_file_name_valid(const char *name);
/* 1 when kind is checkpoint, reference, report or picture. */
int tr_file_kind_valid(const char *kind);
/* 1 when the store keeps files (PostgreSQL); 0 for a directory store. */
int tr_store_has_files(const tr_store *store);
/* The stored file name: its bytes into a malloc'd *data (*len bytes, NUL-terminated, the NUL
 * not counted) that the caller frees, its recorded CRC-32 into *crc (may be NULL). A name not
 * stored is TR_ERR_NOTFOUND naming it; bytes that do not match their recorded CRC-32 and size
 * are TR_ERR_CHECKSUM. */
tr_code tr_store_file_get(tr_store *store, const char *name, char **data, size_t *len,
                          uint32_t *crc, tr_error *err);
/* Stores the bytes as file name of kind, replacing a file of that name, in a transaction of its
 * own (durable on return). Files that must land with a registry change go in tr_reg_txn.files
 * instead. */
tr_code tr_store_file_put(tr_store *store, const char *name, const char *kind, const void *data,
                          size_t len, tr_error *err);
/* Deletes the stored file name; TR_OK when there is none. */
tr_code tr_store_file_delete(tr_store *store, const char *name, tr_error *err);
/* The stored files whose names start with prefix (NULL or "": all), sorted by name, into a
 * malloc'd array the caller frees. */
tr_code tr_store_file_list(tr_store *store, const char *prefix, tr_file_info **list, size_t *n,
                           tr_error *err);

/* What a migration did. */
typedef struct tr_migrate_result {
    int from, to;        /* schema versions before and after */
    int latest;          /* the newest this program knows */
    char applied[512];   /* names of the migrations applied, comma-separated ("" for none) */
    char location[4096]; /* the store, without its password */
    char schema[64];     /* the store's schema */
    char moved_from[64]; /* the schema an earlier store was moved from ("" for none) */
    char backend[512];   /* what was set up beside the backend's tables ("" when nothing changed) */
} tr_migrate_result;

/* The PostgreSQL schema of a store's objects when neither --pg-schema nor $AIFX_PG_SCHEMA names
 * one (docs/schema.md 5.11). */
#define TR_PG_DEFAULT_SCHEMA "aifx"

/* 1 when name can be a store's schema: 1 to 63 characters a-z, 0-9, _, not starting with a digit
 * or pg_. */
int tr_pg_schema_name_valid(const char *name);

/* What db migrate sets up besides the schema (docs/schema.md 5.12); NULL or zeroed: nothing new
 * (what an earlier db migrate set up stays, and is brought up to date). */
typedef struct tr_migrate_options {
    const char *schema;          /* the store's schema; NULL: $AIFX_PG_SCHEMA, else aifx */
    const char *backend_schema;  /* the backend's schema (views, trading_signals); default public */
    int backend_views;           /* the design's model_training_log, model_ab_test and
                                    model_versions as views in the backend's schema */
    int backend_signals;         /* the design's model_version and ab_test_id columns on the
                                    backend's trading_signals */
    const char *bars_table;      /* read bars from this table of the backend's schema */
    const char *bars_columns;    /* "pair=symbol,timestamp=ts,...": its column names */
    const char *bars_timeframes; /* "15min=15m,1h=3600,...": its timeframe labels */
    const char *bars_pairs;      /* "EUR/USD=EURUSD,...": its pair labels */
    int bars_notify;             /* a trigger on that table sends new_market_data */
} tr_migrate_options;

/* Brings the schema of the PostgreSQL store at location up to this program's version (aifx-train
 * db migrate): each missing migration in order, each in its own transaction, one migrating
 * process at a time. A schema newer than the program is TR_ERR_VERSION; a directory store has no
 * schema (TR_ERR_UNSUPPORTED). */
tr_code tr_store_migrate(const char *location, tr_migrate_result *res, tr_error *err);
/* The same with options (o NULL: none). */
tr_code tr_store_migrate_opts(const char *location, const tr_migrate_options *o,
                              tr_migrate_result *res, tr_error *err);

#endif
