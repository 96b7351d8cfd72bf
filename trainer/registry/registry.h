/*
 * registry.h - the model registry: versions (model_versions), the training log
 * (model_training_log), the append-only activation history (model_activations), and the
 * transactions through which a cycle changes them all at once (docs/registry.md).
 *
 * The records are plain values; a backend stores them (store.h: registry_read and
 * registry_commit). A transaction (tr_reg_txn) collects what a cycle adds or changes: new
 * versions, updated versions, log rows, and at most one activation. tr_registry_apply is the one
 * function that changes the active version: it checks the transaction against the registry (new
 * names unused, updated names present, the activated version usable, the active version still
 * the one the caller saw; A/B tests: ids unused, both versions usable, at most one running test
 * per overlapping pair set, an ended test never changes, a version under a running test is not
 * deprecated) and applies all of it or nothing. Every backend runs it (the directory
 * store under its lock on the loaded registry), so the rules are the same on every backend.
 *
 * Version names: v<major>.<minor> for full versions (v1.0, then v1.1, ...; --version-base starts
 * another line), <full version>-daily-YYYYMMDD for daily fine-tunes. A name is 1..63 characters
 * of A-Z a-z 0-9 . - _ and starts with a letter or digit (so it is safe in a file name).
 */
#ifndef AIFXT_REGISTRY_H
#define AIFXT_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "base/bars.h" /* TR_VERSION_MAX */
#include "base/err.h"
#include "market/decide.h" /* tr_rule */

#define TR_HISTORY_MAX  256 /* epochs of training curves kept per version */
#define TR_AB_PAIRS_MAX 128 /* bytes of an A/B test's pair set, with the NUL */
#define TR_AB_LOOKS_MAX 64  /* interim looks recorded per A/B test */

/* The enumerations stored in the records, each with its one name table in schema.c (the names
 * are those of the line format, the JSON and the PostgreSQL enum types). *_COUNT is the number
 * of values, not a value. */
typedef enum tr_version_type { TR_VT_FULL = 0, TR_VT_INCREMENTAL = 1, TR_VT_COUNT } tr_version_type;
typedef enum tr_version_status {
    TR_VS_TRAINING = 0,
    TR_VS_COMPLETED = 1,
    TR_VS_FAILED = 2,
    TR_VS_DEPLOYED = 3,
    TR_VS_COUNT
} tr_version_status;
typedef enum tr_log_status {
    TR_LOG_COMPLETED = 0,
    TR_LOG_SKIPPED = 1,
    TR_LOG_FAILED = 2,
    TR_LOG_COUNT
} tr_log_status;
/* Of an A/B test. */
typedef enum tr_ab_status {
    TR_AB_RUNNING = 0,
    TR_AB_COMPLETED = 1,
    TR_AB_STOPPED = 2,
    TR_AB_COUNT
} tr_ab_status;
/* The field tables (schema.h) read and write these members as int. */
_Static_assert(sizeof(tr_version_type) == sizeof(int) && sizeof(tr_version_status) == sizeof(int) &&
                   sizeof(tr_log_status) == sizeof(int) && sizeof(tr_ab_status) == sizeof(int),
               "stored enumerations have the size of an int");

/* Classification figures of one window (a split, or the gate window). */
typedef struct tr_cls_figs {
    int64_t n;
    double loss, accuracy, macro_f1;
    double precision[3], recall[3], f1[3];  /* hold, buy, sell */
    int64_t confusion[3][3];                /* [true][predicted] */
    double buy_share, sell_share;           /* of the predictions */
    double true_buy_share, true_sell_share; /* of the labels */
} tr_cls_figs;

/* Backtest figures (docs/backtest.md), over all pairs: trades, wins and PnL summed; Sharpe and
 * Sortino the mean of the pairs' values; drawdown the worst pair's. */
typedef struct tr_bt_figs {
    int64_t trades, wins, n_signals, n_bars;
    double win_rate, total_pips, avg_pips, total_return, sharpe, sortino, max_drawdown;
    double profit_factor, signal_freq;
} tr_bt_figs;

typedef struct tr_version {
    char version[TR_VERSION_MAX];
    tr_version_type type;
    char parent[TR_VERSION_MAX]; /* "" for a full version */
    tr_version_status status;    /* usable: completed or deployed */
    int64_t trained_at;          /* wall clock when it was registered */
    int64_t as_of;               /* the cycle's as-of time */
    int64_t data_from, data_to;  /* the sample window [from, to) it was trained on */
    int64_t n_samples[3];        /* train, val, test (incremental: fine-tune, 0, gate) */
    char hyper[2048];            /* JSON: architecture, optimiser, epochs, label settings */
    double class_weight[3];
    int epochs, best_epoch;
    double seconds;       /* training wall time */
    tr_cls_figs figs[3];  /* train, val, test (incremental: fine-tune data, -, gate window) */
    tr_bt_figs bt;        /* on the test part (incremental: the gate window) */
    char checkpoint[256]; /* relative to the store's models directory */
    uint32_t ckpt_crc;    /* CRC-32 of the whole checkpoint file */
    int64_t ckpt_size;
    int is_active;
    int64_t deployed_at, deprecated_at; /* 0 when never */
    char deprecation_reason[256];
    char error[512];
    /* training curves (full versions): one entry per epoch of the whole run, 1..n_history */
    int n_history;
    float hist_train_loss[TR_HISTORY_MAX], hist_val_loss[TR_HISTORY_MAX];
    float hist_val_macro_f1[TR_HISTORY_MAX], hist_lr[TR_HISTORY_MAX];
    /* the decision rule from probabilities to signals (market/decide.h), chosen on the
     * validation part of a full version and inherited by its fine-tunes; all zero in a record
     * from before rules: the identity (argmax) */
    tr_rule rule;
} tr_version;

typedef struct tr_log_row {
    int64_t id;     /* assigned on commit, 1, 2, ... */
    char cycle[16]; /* "full", "incremental" */
    int64_t as_of, started_at, finished_at;
    tr_log_status status;
    char reason[256];             /* why skipped, or a note */
    char version[TR_VERSION_MAX]; /* produced, "" if none */
    char parent[TR_VERSION_MAX];  /* fine-tuned from / active at the time */
    char verdict[16];             /* "blessed", "not_blessed", "first_model", "forced", "" */
    char gate_metric[16];         /* "macro_f1", "accuracy", "loss" */
    double candidate_value, active_value; /* NAN when not evaluated */
    char error[1024];
} tr_log_row;

typedef struct tr_activation {
    int64_t id;                /* assigned on commit */
    char from[TR_VERSION_MAX]; /* "" when nothing was active */
    char to[TR_VERSION_MAX];
    int64_t at;
    char reason[32];     /* "first_model", "manual", "rollback", "gate", "forced" */
    char evidence[1024]; /* JSON: the figures that justified it */
} tr_activation;

/* An A/B test between two versions (model_ab_test, docs/abtest.md). Tests live in the registry
 * so that a test's end and the activation of its winner commit in one transaction. */
typedef struct tr_ab_test {
    char id[TR_VERSION_MAX]; /* "ab1", "ab2", ...: chosen by the program, unique */
    char version_a[TR_VERSION_MAX], version_b[TR_VERSION_MAX]; /* a: control, b: challenger */
    char pairs[TR_AB_PAIRS_MAX]; /* comma-separated sorted pair set; "" = every pair */
    double split;                /* share of bars assigned to B, in (0, 1) */
    uint64_t seed;               /* of the assignment hash */
    int64_t started_at;          /* simulated or wall time the test began */
    int64_t planned_end;         /* started_at + days */
    int64_t min_trades;          /* planned resolved trades per arm; 0: the end date alone */
    tr_ab_status status;
    int64_t ended_at;                  /* 0 while running */
    char origin[16];                   /* "manual", "full" (started by full --ab) */
    char verdict[16];                  /* "" while running, then "a", "b", "tie", "insufficient" */
    char end_reason[64];               /* "planned_end", "min_trades", "early_stop", "stopped" */
    int n_looks;                       /* interim analyses made so far */
    double look_frac[TR_AB_LOOKS_MAX]; /* their information fractions, ascending */
    int64_t n_pred_a, n_pred_b;        /* predictions assigned to each arm (last analysis) */
    char result[4096];                 /* JSON: the figures of the last analysis */
} tr_ab_test;

/* An event of the outbox (docs/operations.md "Notifications", docs/schema.md): what a committed
 * change announces, stored in the same transaction as the change. The kinds derived by
 * tr_registry_apply: training_completed, training_failed, model_deployed, model_rolled_back,
 * ab_concluded, monthly_report; others come from the caller (tr_reg_txn.events). */
#define TR_OUTBOX_KIND_MAX    32
#define TR_OUTBOX_PAYLOAD_MAX 4096
typedef struct tr_outbox_event {
    int64_t id;                          /* assigned on commit: 1, 2, ... per store, ascending */
    char kind[TR_OUTBOX_KIND_MAX];       /* 1..31 characters a-z 0-9 _, starting with a letter */
    int64_t created_at;                  /* the transaction's time (tr_reg_txn.now) */
    char payload[TR_OUTBOX_PAYLOAD_MAX]; /* a JSON object */
} tr_outbox_event;

typedef struct tr_registry {
    tr_version *versions; /* in registration order */
    size_t n_versions;
    tr_log_row *log;
    size_t n_log;
    tr_activation *activations;
    size_t n_activations;
    tr_ab_test *abtests; /* in creation order */
    size_t n_abtests;
    /* The outbox: events in id order. tr_store_registry_read leaves it empty (n_events 0; the
     * sender reads it through tr_store_outbox_claim); tr_registry_apply appends the events of a
     * transaction here. last_event_id is the highest id assigned so far (0: none). */
    tr_outbox_event *events;
    size_t n_events;
    int64_t last_event_id;
} tr_registry;

/* A file stored with a registry change (a version's checkpoint, its drift reference). On
 * PostgreSQL its bytes enter the model_files table in the same transaction as the change, read
 * from path and checked against crc and size first (docs/schema.md 5.16); the directory store
 * keeps it where it is, in its models directory, and ignores the list. */
typedef struct tr_reg_file {
    const char *name; /* relative to the models directory: "v1.2.ckpt", "v1.2.ref" */
    const char *kind; /* "checkpoint", "reference" */
    const char *path; /* the local file that holds the bytes */
    uint32_t crc;     /* CRC-32 and size the bytes must have; size < 0: not checked (the CRC */
    int64_t size;     /* is then computed) */
} tr_reg_file;

/* What one cycle changes, applied together or not at all. */
typedef struct tr_reg_txn {
    const tr_version *put; /* new versions (names must be unused) */
    size_t n_put;
    const tr_version *update; /* replacements of existing versions, by name */
    size_t n_update;
    const tr_log_row *log; /* rows to append */
    size_t n_log;
    const tr_activation *activate; /* NULL, or: make activate->to active; from must equal the
                                      active version when applied ("" for none) */
    int64_t now;                   /* the time stamped on activations and deployed_at */
    const tr_ab_test *ab_put;      /* new A/B tests (ids unused, versions usable, no running
                                      test on an overlapping pair set) */
    size_t n_ab_put;
    const tr_ab_test *ab_update; /* replacements of existing tests, by id */
    size_t n_ab_update;
    /* Events announced with the change besides those derived from it (drift, pause, alerts):
     * kind and payload are the caller's (a valid kind, a JSON object); id and created_at are
     * assigned on commit. A transaction of events alone is valid. */
    const tr_outbox_event *events;
    size_t n_events;
    const char *report; /* NULL, or the path of the report the change produced (a rank log row's
                           monthly_report event carries it) */
    /* NULL, or the queued job the change is made for (store.h, the job queue): the commit is
     * refused unless the job is still held under that lease generation, and marks the job done
     * in the same transaction when it logs the job's cycle completed or skipped at the job's
     * slot time. */
    const struct tr_job_fence *job;
    /* NULL or "default", or the model family the registry belongs to (family.h): set by
     * tr_store_registry_commit; the payload of each event it causes then names it first
     * ("family":"..."), so one sink can tell the families apart. */
    const char *family;
    /* Files stored with the change (tr_reg_file): on PostgreSQL in the same transaction, so a
     * registered version never lacks its checkpoint in the database. */
    const tr_reg_file *files;
    size_t n_files;
} tr_reg_txn;

void tr_registry_init(tr_registry *reg);
void tr_registry_free(tr_registry *reg);

/* A version by name, or NULL. */
const tr_version *tr_registry_find(const tr_registry *reg, const char *version);
/* The active version, or NULL. */
const tr_version *tr_registry_active(const tr_registry *reg);
/* TR_ERR_NOTFOUND naming the version when it is not registered. */
tr_code tr_registry_get(const tr_registry *reg, const char *version, const tr_version **out,
                        tr_error *err);

/* 1 when the name is a valid version name. */
int tr_version_name_valid(const char *name);
/* Parses "v<major>.<minor>" exactly; 0 on success. */
int tr_version_parse_full(const char *name, int *major, int *minor);
/* The next full version: base if given (it must be a valid v<major>.<minor> not yet used),
 * else v1.0 for an empty line, else the highest full version's minor + 1. */
tr_code tr_registry_next_full(const tr_registry *reg, const char *base, char *out, size_t size,
                              tr_error *err);
/* The daily name for a fine-tune of parent at time as_of: <root>-daily-YYYYMMDD, root being the
 * full version parent descends from (a daily of a daily keeps the full root). */
tr_code tr_registry_daily_name(const char *parent, int64_t as_of, char *out, size_t size,
                               tr_error *err);
/* The version that rollback returns to: the activation history replayed as a stack (an
 * activation pushes its target, a rollback pops), the entry below the top. TR_ERR_NOTFOUND when
 * there is none. */
tr_code tr_registry_rollback_target(const tr_registry *reg, char *out, size_t size, tr_error *err);

/* Checks txn against reg and applies it: all of it (TR_OK) or nothing (an error naming the
 * version: TR_ERR_CONFLICT for a name in use or an active version that changed, TR_ERR_NOTFOUND
 * for an unknown one, TR_ERR_INVALID for an unusable one or a bad name). Ids of the appended log
 * rows and activation are assigned here. An update that deprecates the version that is active
 * after the transaction is TR_ERR_INVALID (the active version is never retired). The events the
 * transaction announces (tr_registry_txn_events) are appended to reg->events with the ids after
 * reg->last_event_id; a bad explicit event (kind, payload) is TR_ERR_INVALID. */
tr_code tr_registry_apply(tr_registry *reg, const tr_reg_txn *txn, tr_error *err);

/* The events a transaction announces, derived from its contents in this order: per new usable
 * version training_completed (its figures, the cycle and verdict of its log row); per failed log
 * row training_failed (cycle, error); per rank log row monthly_report (with txn->report); per A/B
 * update that ends a test ab_concluded (verdict, winner); the activation model_deployed (reason
 * rollback: model_rolled_back); then txn->events. tr_registry_apply appends them, numbered, to
 * reg->events; this is the derivation alone, into a malloc'd array (*n may be 0, *out NULL). */
tr_code tr_registry_txn_events(const tr_reg_txn *txn, tr_outbox_event **out, size_t *n,
                               tr_error *err);
/* 1 when kind is a valid event kind. */
int tr_outbox_kind_valid(const char *kind);
/* The event as the generic JSON sink posts it: {"id":..,"kind":..,"created_at":"..","payload":
 * {...}}, malloc'd (NULL when out of memory). */
char *tr_outbox_event_json(const tr_outbox_event *ev);

/* An A/B test by id, or NULL. */
const tr_ab_test *tr_registry_find_ab(const tr_registry *reg, const char *id);
/* 1 when two pair sets (comma-separated; "" = every pair) share a pair. */
int tr_ab_pairs_overlap(const char *a, const char *b);

/* Text forms (the name tables of schema.c; "?" out of range). */
const char *tr_ab_status_name(int status);
const char *tr_version_type_name(int type);
const char *tr_version_status_name(int status);
const char *tr_log_status_name(int status);
/* 1 for completed or deployed (its checkpoint was written and verified). */
int tr_version_usable(const tr_version *v);

/* JSON of one version (for `versions --json` and `versions show`), of one log row and of one
 * activation, into a malloc'd string; members in the order of the field tables (schema.h). */
char *tr_version_json(const tr_version *v);
char *tr_log_row_json(const tr_log_row *r);
char *tr_activation_json(const tr_activation *a);
char *tr_ab_test_json(const tr_ab_test *t);

/* The kind of labels a version was trained on, from its hyper JSON ("labels":{"kind":"barrier"
 * ...}); TR_LABELS_REVERSAL when it names none (versions registered before barrier labels). */
int tr_hyper_label_kind(const char *hyper);

#endif
