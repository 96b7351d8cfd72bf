/*
 * cycle.h - the training cycles (full: full.c, incremental: incremental.c), prediction
 * (predict.c), and what they share: options, progress events, the deploy gate, checkpoints that
 * are verified before a version is registered, and the failed-cycle log row.
 *
 * A cycle never prints: it reports through an optional event callback (main.c draws the progress
 * bar or prints JSON events). Its registry changes are one transaction (registry.h): a completed
 * cycle lands its version, log row and activation together; a failed one lands only a failed log
 * row with the error, and the active version is untouched.
 */
#ifndef AIFXT_CYCLE_H
#define AIFXT_CYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "aifxnn.h"
#include "cycles/cycledef.h"
#include "data/dataset.h"
#include "data/eval.h"
#include "data/models.h"
#include "registry/registry.h"
#include "store/store.h"

enum { TR_GATE_MACRO_F1 = 0, TR_GATE_ACCURACY = 1, TR_GATE_LOSS = 2 };

typedef struct tr_full_opts {
    int64_t as_of;            /* 0: now, or with resume the interrupted run's */
    int months;               /* data window before as_of (default 3) */
    int32_t timeframe;        /* default 900 */
    const char *version_base; /* NULL: the next minor version */
    int resume;               /* continue the interrupted run from its last epoch checkpoint */
    int n_layers, n_hidden, batch, max_epochs, patience;
    float lr, dropout;
    int monitor;               /* AIFX_MONITOR_* for early stopping and best weights */
    double class_weight_power; /* weights (n / (C n_c))^power: 1 balanced, 0.5 (default)
                                  the square root, 0 unweighted */
    uint64_t seed;
    /* --ab: the new version is registered together with an A/B test against the active one
     * (abtest.h); a running test whose planned end has come is concluded first */
    int ab;
    int ab_days;           /* default 7 */
    double ab_split;       /* share of bars to the new version, default 0.5 */
    int64_t ab_min_trades; /* default 0: the end date alone */
    tr_event_fn on_event;
    void *user;
    int labels;         /* appended: TR_LABELS_REVERSAL (default) or TR_LABELS_BARRIER (labels.h),
                           recorded in the version's hyper JSON ("labels":{"kind":...}) */
    int decision;       /* TR_DECISION_COST (default) or TR_DECISION_ARGMAX (decide.h) */
    int64_t min_trades; /* validation trades a threshold needs; 0: TR_RULE_MIN_TRADES */
} tr_full_opts;

tr_full_opts tr_full_opts_default(void);

typedef struct tr_incr_opts {
    int64_t as_of;
    int32_t timeframe;
    int min_samples; /* fine-tune windows required; default 0: tr_incr_min_samples */
    float lr;        /* default 1e-4 */
    int epochs;      /* default 10 */
    int batch;       /* default 32 */
    int gate_metric; /* TR_GATE_*, default macro-F1 */
    int gate_days;   /* default 7 */
    int force;       /* activate whatever the gate says (verdict "forced") */
    uint64_t seed;
    tr_event_fn on_event;
    void *user;
    int no_guard;   /* appended: 1 turns the guard against collapse off (tr_gate_decide_guarded);
                       for tests of the gate's mechanics on untrained nets */
    int64_t window; /* appended: seconds of bars fine-tuned on before as_of (default one day;
                       a family scales it with its timeframe, cycles/family_opts.h) */
} tr_incr_opts;

tr_incr_opts tr_incr_opts_default(void);

/* The daily fine-tune's default minimum of labeled windows in its 24 hours: half of what one
 * pair's full trading day can hold, per pair: n_pairs x max(1, (86400 / timeframe - H) / 2),
 * H the label horizon (tr_label_horizon). At 15 minutes with the default horizon of 16 bars:
 * (96 - 16) / 2 = 40 per pair (one pair: 40, two: 80). A normal weekday (80 windows a pair) and a
 * Friday (64) fine-tune; Monday's 02:00 run, which sees only the 4 hours since Sunday's 22:00
 * reopening (all of them in the unlabeled tail), and days cut by gaps are skipped. */
int tr_incr_min_samples(int n_pairs, int32_t timeframe, const tr_label_params *label);
/* The same for a fine-tune window of window seconds (tr_incr_opts.window; 0: one day). */
int tr_incr_min_samples_window(int n_pairs, int32_t timeframe, int64_t window,
                               const tr_label_params *label);

typedef struct tr_cycle_result {
    int status;                   /* TR_LOG_* */
    char version[TR_VERSION_MAX]; /* produced, "" if none */
    char verdict[16];
    double candidate_value, active_value;
    int activated;
    char reason[256];
    int resumed_epoch;               /* full --resume: epochs already done when it resumed */
    double seconds;                  /* wall time of the cycle */
    tr_version rec;                  /* the registered version */
    tr_bt_figs bt_pairs[8];          /* full: test-part backtest per pair */
    tr_reliability rel_raw, rel_cal; /* full: validation reliability before/after calibration */
    char pairs[8][TR_PAIR_MAX];
    int n_pairs;
} tr_cycle_result;

/* Runs the weekly full retrain (docs/registry.md). On success rc TR_OK and res->status
 * completed; on failure the error, a failed log row committed, nothing else changed. */
tr_code tr_cycle_full(tr_store *store, const tr_full_opts *o, tr_cycle_result *res, tr_error *err);

/* Runs the daily fine-tune and its deploy gate. A skip (too few samples) is TR_OK with
 * res->status skipped and a logged reason. */
tr_code tr_cycle_incremental(tr_store *store, const tr_incr_opts *o, tr_cycle_result *res,
                             tr_error *err);

/* The gate: 1 when the candidate is to be activated, with the verdict text ("blessed",
 * "not_blessed", "forced"). Higher is better for macro-F1 and accuracy, lower for loss; a tie
 * (within 1e-12) blesses the candidate ("at least as good"). A non-finite candidate value is
 * never blessed (but may be forced). */
int tr_gate_decide(int metric, double candidate, double active, int force, char *verdict,
                   size_t size);

/* The guard against collapse (docs/registry.md, "Guards"): a version whose predicted buy+sell
 * share lies outside [TR_GUARD_LOW, TR_GUARD_HIGH] x the labels' buy+sell share on the same
 * windows is never activated by the gate or the ranking. */
#define TR_GUARD_LOW  0.5
#define TR_GUARD_HIGH 2.0

/* 0 when figures f pass the guard (also when f holds no window, f->n == 0: no evidence, and when
 * neither the labels nor the predictions trade); 1 with verdict "collapsed" (below the band) or
 * "overtrades" (above it, or trades where the labels have none). why (optional) receives the
 * figures: "predicted buy+sell 0.041 vs labels 0.100 (0.41x, outside [0.5x, 2x]) on n windows". */
int tr_guard_check(const tr_cls_figs *f, char *verdict, size_t vsize, char *why, size_t wsize);

/* The figures of a version the guard reads: its validation part (full versions, figs[1]) or its
 * gate window (daily versions, figs[2]); *where (optional) names it. */
const tr_cls_figs *tr_guard_figs(const tr_version *v, const char **where);

/* The incremental gate with the guard: tr_gate_decide, then a candidate it blesses whose figures
 * figs (on the gate window; NULL: none) fail tr_guard_check is refused with the guard's verdict
 * ("collapsed", "overtrades"). force still activates ("forced"): the operator's override. why
 * (optional) receives the guard's figures when it fails, else "". */
int tr_gate_decide_guarded(int metric, double candidate, double active, const tr_cls_figs *figs,
                           int force, char *verdict, size_t size, char *why, size_t wsize);
const char *tr_gate_metric_name(int metric);
int tr_gate_metric_parse(const char *s, int *metric);
/* The gate metric's value in figures. */
double tr_gate_value(int metric, const tr_cls_figs *f);

/* Prediction for the newest bar of a pair (predict.c). */
typedef struct tr_predict_opts {
    const char *pair;
    int32_t timeframe;
    int64_t as_of;   /* bars that closed by then are visible */
    int64_t max_age; /* seconds: the newest bar may have closed at most this long before as_of */
    int record;      /* store the signal */
} tr_predict_opts;

typedef struct tr_prediction {
    tr_signal sig;
    int64_t bar_close; /* bar_time + timeframe */
    size_t n_history;  /* bars used */
    char note[1024];   /* "" or what loading the version repaired on the way (a damaged cache
                          file of a PostgreSQL store, named, fetched again: data/models.h) */
} tr_prediction;

#define TR_PREDICT_MIN_HISTORY 1000
#define TR_PREDICT_MAX_HISTORY 5000 /* bars the features are computed over */

tr_code tr_predict(tr_store *store, const tr_predict_opts *o, tr_prediction *out, tr_error *err);

/* The model's probabilities for the window that ends at the newest of n bars (n >= the feature
 * warm-up + T): the 38 features over the last min(n, TR_PREDICT_MAX_HISTORY) bars, by the same
 * code as training, then the last T rows through the model's scaler, then calibrated by the
 * version's rule (market/decide.h; NULL: the identity). feat: room for
 * min(n, TR_PREDICT_MAX_HISTORY) x TR_N_FEATURES doubles; x: T x TR_N_FEATURES floats (caller
 * buffers, so a loop need not allocate). *best is the rule's class (the argmax, unless the
 * threshold or no_edge make it hold). A non-finite feature is TR_ERR_DATA naming the pair, the
 * feature and the bar time. Used by predict, the replay and the service. */
/* The model's probabilities for one window x (T x TR_N_FEATURES floats, unscaled), calibrated
 * and decided by rule (NULL: the identity): the one ending of predict, the replay's stream and
 * aifx-serve's live features. */
tr_code tr_predict_rows(const aifx_model *m, const tr_rule *rule, const float *x, float probs[3],
                        int *best, tr_error *err);

tr_code tr_predict_window(const aifx_model *m, const tr_rule *rule, const char *pair,
                          const tr_bar *bars, size_t n, double *feat, float *x, float probs[3],
                          int *best, tr_error *err);

/* The one way an operator changes the active version: activates version (reason "manual") or,
 * with rollback (version NULL), the previous active version (reason "rollback"), recording from,
 * to, when, why and evidence (JSON; note is the operator's text). from_out receives the version
 * that was active. */
tr_code tr_activate(tr_store *store, const char *version, int rollback, const char *note,
                    char *from_out, char *to_out, tr_error *err);

/* ---- shared helpers ------------------------------------------------------------------------ */

/* A training cycle's run (full, incremental) into its own result. */
typedef tr_code (*tr_train_fn)(const tr_cycle_ctx *ctx, const void *opts, tr_cycle_result *res,
                               tr_error *err);
/* The table entry's run of a training cycle: runs train into out->figures (a tr_cycle_result)
 * or a result of its own, and fills the common outcome from it (detail: "verdict: reason",
 * noting a resumed run). */
/* ctx with the event sink fn/user of a cycle's options when ctx has none (the options' sink
 * serves only then). */
tr_cycle_ctx tr_cycle_ctx_sink(const tr_cycle_ctx *ctx, tr_event_fn fn, void *user);

tr_code tr_cycle_run_training(const tr_cycle_ctx *ctx, const void *opts, tr_train_fn train,
                              tr_cycle_outcome *out, tr_error *err);

/* Starts a training-log row: zeroed, then cycle, as-of, started and finished (now) times,
 * status, version and parent (NULL for none), candidate and active values NaN. */
void tr_log_row_begin(tr_log_row *row, const char *cycle, int64_t as_of, int64_t started,
                      int status, const char *version, const char *parent);
/* Commits a failed log row with cause's message (best effort: a failure to log is ignored, the
 * cause is what the caller reports). */
/* Commits one log row alone (its finished time stamped as the transaction's). */
tr_code tr_cycle_log(tr_store *store, const tr_log_row *row, tr_error *err);
void tr_cycle_log_failure(tr_store *store, const char *cycle, int64_t as_of, int64_t started,
                          const char *version, const char *parent, const tr_error *cause);

#endif
