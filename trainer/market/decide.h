/*
 * decide.h - from a model's probabilities to a signal: temperature calibration and the
 * cost-aware decision rule (docs/backtest.md, "The decision rule").
 *
 * Calibration is temperature scaling (Guo et al. 2017): p_T = softmax(log(p) / T), one T > 0
 * fitted on the validation part by minimising the mean negative log-likelihood; T = 1 leaves
 * the probabilities as they are. It changes no argmax, only the confidence.
 *
 * The rule: the argmax class of the calibrated probabilities; when it is buy or sell, it is
 * traded only if its calibrated probability reaches the threshold, else hold. Threshold 0 is
 * the plain argmax. The threshold is chosen on the validation part only: the one of a fixed grid
 * whose backtest (the backtest's own trade rule, net of the spread) earns the most pips with at
 * least min_trades trades. A version whose best rule does not earn (net pips <= 0, or no
 * candidate with enough trades) is marked no_edge: its signals are all hold.
 *
 * A version's rule is part of its registry record (tr_version.rule); a record stored before
 * rules existed reads as the identity (T 0 or 1, threshold 0, no_edge 0): plain argmax.
 */
#ifndef AIFXT_DECIDE_H
#define AIFXT_DECIDE_H

#include <stddef.h>
#include <stdint.h>

typedef struct tr_rule {
    double temperature; /* > 0; 0 (a record from before rules) counts as 1 */
    double threshold;   /* minimum calibrated probability of a traded class; 0: argmax */
    int no_edge;        /* 1: every signal is hold */
    int cost_aware;     /* 1: the threshold was chosen on validation PnL; 0: argmax by choice */
    int64_t min_trades; /* the constraint the threshold was chosen under */
    int64_t val_trades; /* the chosen rule's trades on the validation part */
    double val_pips;    /* and its net pips there */
    double ece_raw;     /* expected calibration error on the validation part, before and after */
    double ece_cal;
} tr_rule;

/* The identity rule: T 1, threshold 0, no edge 0 (plain argmax of the probabilities). */
tr_rule tr_rule_identity(void);

/* Calibrated probabilities out = softmax(log(in) / T) (in and out may alias). T <= 0 counts as
 * 1, and T = 1 copies the probabilities as they are (not renormalised). A zero probability stays
 * zero. */
void tr_calibrate(double temperature, const float in[3], float out[3]);

/* The class (TR_LABEL_HOLD, _BUY, _SELL) the rule r (NULL: the identity) takes for
 * probabilities probs (raw, as the model gives them). calibrated (optional) receives the calibrated
 * probabilities. */
int tr_rule_decide(const tr_rule *r, const float probs[3], float calibrated[3]);

/* tr_rule_decide over n rows of probabilities (n x 3): the classes into pred (n) and, when cal
 * is not NULL, the calibrated probabilities into cal (n x 3). */
void tr_rule_apply(const tr_rule *r, size_t n, const float *probs, int8_t *pred, float *cal);

/* The temperature minimising the mean negative log-likelihood of labels (0..2) under probs
 * (n x 3, raw), on [0.05, 20] (golden-section search on log T to 1e-6 relative); 1 when n is 0. */
double tr_temperature_fit(const float *probs, const int32_t *labels, size_t n);

/* Mean negative log-likelihood of labels under probs calibrated with T (probabilities floored
 * at 1e-12). */
double tr_nll(const float *probs, const int32_t *labels, size_t n, double temperature);

/* The reliability table of calibrated probabilities: TR_ECE_BINS equal-width bins of the
 * confidence (the largest probability) on [0, 1]; per bin the count, the mean confidence and
 * the accuracy (share where the argmax is the label). ECE = sum_b n_b / n |acc_b - conf_b|. */
#define TR_ECE_BINS 15
typedef struct tr_reliability {
    int64_t n[TR_ECE_BINS];
    double conf[TR_ECE_BINS], acc[TR_ECE_BINS]; /* 0 for an empty bin */
    double ece;
} tr_reliability;

void tr_reliability_compute(const float *probs, const int32_t *labels, size_t n, double temperature,
                            tr_reliability *out);

/* The thresholds the rule is chosen from: 0 (argmax), then 0.40, 0.42, ..., 0.90. */
#define TR_RULE_N_CANDIDATES 27
double tr_rule_candidate(int i);

/* The default minimum of validation trades for a threshold to be chosen. */
#define TR_RULE_MIN_TRADES 30

/* How a full version decides (its rule): the threshold chosen on validation PnL, or the plain
 * argmax of the calibrated probabilities. Names "cost" and "argmax"; parse returns -1 for others.
 */
enum { TR_DECISION_COST = 0, TR_DECISION_ARGMAX = 1 };
const char *tr_decision_name(int decision);
int tr_decision_parse(const char *s, int *decision);

#endif
