/*
 * decide.c - temperature calibration, its reliability table and the decision rule (decide.h).
 *
 * The temperature is found by golden-section search on u = log T over [log 0.05, log 20]: the
 * mean NLL of softmax(log p / T) is convex in b = 1/T (log-sum-exp of b log p is convex in b and
 * the label's term is linear), so it is unimodal in u = -log b. The search runs in double on the
 * float probabilities, so a result depends only on the inputs.
 */
#include "market/decide.h"

#include <math.h>
#include <string.h>

#include "market/labels.h"

#define P_FLOOR 1e-12 /* log of a zero probability */

tr_rule tr_rule_identity(void)
{
    return (tr_rule){.temperature = 1.0,
                     .min_trades = TR_RULE_MIN_TRADES,
                     .val_pips = NAN,
                     .ece_raw = NAN,
                     .ece_cal = NAN};
}

/* Calibrated probabilities in double. */
static void calibrate_d(double t, const float in[3], double out[3])
{
    if (!(t > 0) || t == 1.0) {
        for (int c = 0; c < 3; c++)
            out[c] = in[c];
        return;
    }
    double z[3], m = -INFINITY;
    for (int c = 0; c < 3; c++) {
        z[c] = in[c] > 0 ? log((double)in[c]) / t : -INFINITY;
        if (z[c] > m)
            m = z[c];
    }
    if (!isfinite(m)) { /* no positive probability: leave them */
        for (int c = 0; c < 3; c++)
            out[c] = in[c];
        return;
    }
    double s = 0;
    for (int c = 0; c < 3; c++) {
        out[c] = isfinite(z[c]) ? exp(z[c] - m) : 0.0;
        s += out[c];
    }
    for (int c = 0; c < 3; c++)
        out[c] /= s;
}

void tr_calibrate(double temperature, const float in[3], float out[3])
{
    double d[3];
    calibrate_d(temperature, in, d);
    for (int c = 0; c < 3; c++)
        out[c] = (float)d[c];
}

static int argmax3(const float p[3])
{
    int b = 0;
    for (int c = 1; c < 3; c++)
        if (p[c] > p[b])
            b = c;
    return b;
}

int tr_rule_decide(const tr_rule *r, const float probs[3], float calibrated[3])
{
    tr_rule id = tr_rule_identity();
    if (!r)
        r = &id;
    float cal[3];
    tr_calibrate(r->temperature, probs, cal);
    if (calibrated)
        for (int c = 0; c < 3; c++)
            calibrated[c] = cal[c];
    if (r->no_edge)
        return TR_LABEL_HOLD;
    int b = argmax3(cal);
    if (b != TR_LABEL_HOLD && !((double)cal[b] >= r->threshold))
        return TR_LABEL_HOLD;
    return b;
}

double tr_nll(const float *probs, const int32_t *labels, size_t n, double temperature)
{
    if (n == 0)
        return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double p[3];
        calibrate_d(temperature, probs + 3 * i, p);
        double q = p[labels[i]];
        s -= log(q > P_FLOOR ? q : P_FLOOR);
    }
    return s / (double)n;
}

double tr_temperature_fit(const float *probs, const int32_t *labels, size_t n)
{
    if (n == 0)
        return 1.0;
    const double g = (sqrt(5.0) - 1) / 2; /* 0.618... */
    double a = log(0.05), b = log(20.0);
    double c = b - g * (b - a), d = a + g * (b - a);
    double fc = tr_nll(probs, labels, n, exp(c)), fd = tr_nll(probs, labels, n, exp(d));
    while (b - a > 1e-6) {
        if (fc <= fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = tr_nll(probs, labels, n, exp(c));
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = tr_nll(probs, labels, n, exp(d));
        }
    }
    return exp((a + b) / 2);
}

void tr_reliability_compute(const float *probs, const int32_t *labels, size_t n, double temperature,
                            tr_reliability *out)
{
    double sc[TR_ECE_BINS] = {0}, sa[TR_ECE_BINS] = {0};
    for (int b = 0; b < TR_ECE_BINS; b++)
        out->n[b] = 0;
    for (size_t i = 0; i < n; i++) {
        double p[3];
        calibrate_d(temperature, probs + 3 * i, p);
        int k = 0;
        for (int c = 1; c < 3; c++)
            if (p[c] > p[k])
                k = c;
        int b = (int)(p[k] * TR_ECE_BINS); /* bins (b/B, (b+1)/B], the top one closed */
        if (b >= TR_ECE_BINS)
            b = TR_ECE_BINS - 1;
        if (b > 0 && p[k] * TR_ECE_BINS == (double)b)
            b--; /* a confidence on a bin edge belongs to the bin below, as (lo, hi] */
        out->n[b]++;
        sc[b] += p[k];
        sa[b] += k == labels[i];
    }
    double ece = 0;
    for (int b = 0; b < TR_ECE_BINS; b++) {
        out->conf[b] = out->n[b] ? sc[b] / (double)out->n[b] : 0;
        out->acc[b] = out->n[b] ? sa[b] / (double)out->n[b] : 0;
        if (n)
            ece += (double)out->n[b] / (double)n * fabs(out->acc[b] - out->conf[b]);
    }
    out->ece = n ? ece : NAN;
}

double tr_rule_candidate(int i)
{
    return i <= 0 ? 0.0 : 0.40 + 0.02 * (double)(i - 1);
}

void tr_rule_apply(const tr_rule *r, size_t n, const float *probs, int8_t *pred, float *cal)
{
    for (size_t i = 0; i < n; i++)
        pred[i] = (int8_t)tr_rule_decide(r, probs + 3 * i, cal ? cal + 3 * i : NULL);
}

const char *tr_decision_name(int decision)
{
    return decision == TR_DECISION_ARGMAX ? "argmax" : "cost";
}

int tr_decision_parse(const char *s, int *decision)
{
    if (strcmp(s, "cost") == 0)
        *decision = TR_DECISION_COST;
    else if (strcmp(s, "argmax") == 0)
        *decision = TR_DECISION_ARGMAX;
    else
        return -1;
    return 0;
}
