/*
 * drift.h - feature and prediction drift as Evidently computes it by default, plus PSI on the
 * training reference's deciles (docs/monitoring.md has the formulas and their sources).
 *
 * A model version stores, per feature, a tr_drift_ref built from its training rows: n, mean,
 * sd, min, max, the deciles, the reference's share in each of the 10 decile bins, and a sketch
 * of at most TR_DRIFT_SKETCH sorted values (the whole sample when n <= TR_DRIFT_SKETCH, else the
 * order statistics at the mid-ranks). At monitoring time a window of current rows is tested
 * against it:
 *  - reference n <= 1000 (Evidently's cut): two-sample Kolmogorov-Smirnov on the reference
 *    itself (the sketch is then the whole sample), p-value as scipy.stats.ks_2samp(method=
 *    'auto') of SciPy 1.10; drift when p <= 0.05 (Evidently's ks_stat_test compares <=);
 *  - reference n > 1000: Wasserstein-1 distance (scipy.stats.wasserstein_distance) between the
 *    sketch and the current rows, divided by max(sd, 0.001) with sd the full reference's
 *    population sd (np.std); drift when >= 0.1. The sketch costs at most ref.sketch_w1 / norm
 *    in the normed distance (triangle inequality), which the result reports;
 *  - a feature whose reference and current values hold <= 5 distinct values in total is not
 *    tested (Evidently would switch to a chi-square, Z or Jensen-Shannon test): method
 *    TR_DRIFT_FEW_VALUES, never drifted, counted in the share's denominator as Evidently does;
 *  - always, PSI over the 10 reference decile bins, for the record (psi_drift at >= 0.1).
 * The dataset drifts when the share of drifted features is >= 0.5 (Evidently's drift_share).
 * Predictions: a chi-square goodness-of-fit test of the current class counts against the
 * reference shares (Evidently's chisquare_stattest), drift when p < 0.05.
 *
 * Pure functions: no I/O, no global state, thread-safe. Functions that sort allocate a
 * workspace and free it before returning (TR_ERR_NOMEM when that fails).
 */
#ifndef AIFXT_DRIFT_H
#define AIFXT_DRIFT_H

#include <stddef.h>

#include "base/err.h"

#define TR_DRIFT_SKETCH  1000 /* values kept per feature; also Evidently's KS / Wasserstein cut */
#define TR_DRIFT_DECILES 9    /* inner decile edges q10..q90 */
#define TR_DRIFT_BINS    10   /* PSI bins */

/* ---- Reference summary ----------------------------------------------------------------------- */

typedef struct tr_drift_ref {
    size_t n;                        /* rows in the reference sample (finite values) */
    double mean, sd;                 /* sd: population (ddof 0), as np.std and Evidently */
    double min, max;                 /* extremes */
    double decile[TR_DRIFT_DECILES]; /* q = 0.1..0.9, numpy's default 'linear' quantile */
    double bin_share[TR_DRIFT_BINS]; /* reference share in each PSI bin (tr_drift_bin) */
    size_t n_distinct;               /* distinct values, counted up to TR_DRIFT_SKETCH + 1 */
    int n_sketch;                    /* values in sketch: min(n, TR_DRIFT_SKETCH) */
    double sketch_w1;                /* W1(reference, sketch); 0 when the sketch is exact */
    double sketch[TR_DRIFT_SKETCH];  /* (n_sketch) ascending */
} tr_drift_ref;

/* Builds the summary of x (n >= 1 finite values; any order). The sketch: all of x sorted when
 * n <= TR_DRIFT_SKETCH, else s[i] = x_(floor((2i + 1) n / (2 K))) (0-based order statistics,
 * K = TR_DRIFT_SKETCH), a deterministic subsample whose ECDF is within 1/K of the sample's.
 * TR_ERR_INVALID for n = 0 or a non-finite value; TR_ERR_NOMEM. */
tr_code tr_drift_ref_build(const double *x, size_t n, tr_drift_ref *out, tr_error *err);

/* numpy.quantile(x, q) with the default method 'linear' (Hyndman-Fan type 7): h = (n - 1) q,
 * x_(floor h) + (h - floor h)(x_(floor h + 1) - x_(floor h)) (evaluated as numpy's two-sided
 * lerp), on an ascending array of n >= 1 values, 0 <= q <= 1. */
double tr_drift_quantile(const double *sorted, size_t n, double q);

/* PSI bin of a value: 0 for v <= decile[0], i for decile[i-1] < v <= decile[i], 9 above
 * decile[8] (bins closed on the right, so a value equal to an edge falls below it). */
int tr_drift_bin(const tr_drift_ref *ref, double v);

/* ---- Two-sample statistics ------------------------------------------------------------------- */

typedef struct tr_drift_ks {
    double d;  /* sup |F1 - F2| of the ECDFs */
    double p;  /* two-sided p-value */
    int exact; /* 1: SciPy's exact method, 0: the asymptotic (kstwo.sf(d, round(n1 n2/(n1+n2)))) */
} tr_drift_ks;

/* scipy.stats.ks_2samp(a, b, alternative='two-sided', method='auto') of SciPy 1.10: exact when
 * max(n1, n2) <= 10000 (Hodges' lattice-path count, _compute_prob_outside_square for n1 = n2,
 * else Viehmann's inside recursion _compute_outer_prob_inside_method), falling back to the
 * asymptotic form where SciPy does (a probability outside [0, 1]); asymptotic otherwise, the
 * one-sample two-sided KS distribution kstwo of size round(n1 n2 / (n1 + n2)) (Simard and
 * L'Ecuyer 2011, as scipy.stats._ksstats). Ties are handled as SciPy does (ECDFs evaluated at
 * every value, right-continuous). Inputs need not be sorted; n1, n2 >= 1, at most 2^31 - 1,
 * finite. TR_ERR_INVALID, TR_ERR_NOMEM. */
tr_code tr_drift_ks_2samp(const double *a, size_t n1, const double *b, size_t n2, tr_drift_ks *out,
                          tr_error *err);

/* The same on ascending inputs, without allocating (no error checks beyond n >= 1). */
tr_drift_ks tr_drift_ks_sorted(const double *a, size_t n1, const double *b, size_t n2);

/* scipy.stats.kstwo.sf(d, n): Pr(D_n >= d) of the one-sample two-sided KS statistic, by the
 * branches of scipy.stats._ksstats._kolmogn (Ruben-Gambino ends, 2 smirnov(n, d) in the upper
 * tail, Durbin's matrix (Marsaglia-Tsang-Wang) in the body, Pelz-Good for large n). n >= 1. */
double tr_drift_kstwo_sf(double d, int n);

/* The one-sided Smirnov tail Pr(D_n^+ >= d), Birnbaum-Tingey's sum (scipy.special.smirnov). */
double tr_drift_smirnov(int n, double d);

/* scipy.stats.wasserstein_distance(u, v) (unweighted): the integral of |U(x) - V(x)| of the
 * two ECDFs, on ascending inputs (nu, nv >= 1); the sum is compensated (Neumaier). */
double tr_drift_wasserstein_sorted(const double *u, size_t nu, const double *v, size_t nv);

/* The same on unsorted finite inputs. TR_ERR_INVALID, TR_ERR_NOMEM. */
tr_code tr_drift_wasserstein(const double *u, size_t nu, const double *v, size_t nv, double *out,
                             tr_error *err);

/* Upper tail of the chi-square distribution with integer df >= 1 (closed forms: a Poisson sum
 * for even df, erfc plus a series for odd df; scipy.stats.chi2.sf). NAN for df < 1. */
double tr_drift_chi2_sf(double x, int df);

/* ---- PSI ------------------------------------------------------------------------------------- */

typedef struct tr_drift_psi {
    double ref_share[TR_DRIFT_BINS]; /* after the empty-bin fill */
    double cur_share[TR_DRIFT_BINS]; /* after the empty-bin fill */
    double psi;                      /* sum (ref - cur) ln(ref / cur) */
} tr_drift_psi;

/* PSI of the current values (n >= 1, finite) against the reference's decile bins. Empty bins
 * are filled as Evidently's get_binned_data(feel_zeroes=True) does, separately for each side:
 * a zero share becomes 0.0001, or min(non-zero share) / 10^6 when that minimum is <= 0.0001.
 * TR_ERR_INVALID. */
tr_code tr_drift_psi_compute(const tr_drift_ref *ref, const double *cur, size_t n,
                             tr_drift_psi *out, tr_error *err);

/* ---- Verdicts -------------------------------------------------------------------------------- */

typedef enum tr_drift_method {
    TR_DRIFT_NONE = 0,    /* not computed */
    TR_DRIFT_KS,          /* reference n <= ks_max_ref */
    TR_DRIFT_WASSERSTEIN, /* reference n > ks_max_ref: normed Wasserstein */
    TR_DRIFT_FEW_VALUES   /* <= 5 distinct values in reference + current: not tested */
} tr_drift_method;

/* "none", "ks", "wasserstein", "few-values". */
const char *tr_drift_method_text(tr_drift_method m);

typedef struct tr_drift_opts {
    double ks_alpha;      /* KS drift when p <= ks_alpha (0.05) */
    double wd_threshold;  /* normed Wasserstein drift when >= (0.1) */
    double psi_threshold; /* PSI drift when >= (0.1, Evidently's psi default) */
    double drift_share;   /* dataset drift when the drifted share >= (0.5) */
    size_t ks_max_ref;    /* KS up to this many reference rows, Wasserstein above (1000) */
} tr_drift_opts;

tr_drift_opts tr_drift_opts_default(void);

typedef struct tr_drift_feature {
    tr_drift_method method;
    size_t n_ref, n_cur;
    double stat;      /* KS D, or the normed Wasserstein distance; NAN when not tested */
    double p;         /* KS p-value; NAN otherwise */
    double threshold; /* ks_alpha or wd_threshold */
    double stat_err;  /* bound on |stat - the statistic against the whole reference| (normed
                         sketch_w1 for Wasserstein; 0 for KS on an exact sketch) */
    int drift;        /* the Evidently verdict */
    double psi;       /* PSI on the decile bins */
    int psi_drift;    /* psi >= psi_threshold */
} tr_drift_feature;

/* One feature: cur holds n >= 1 finite values. TR_ERR_INVALID (bad options, n = 0, a
 * non-finite value, an empty reference), TR_ERR_NOMEM. */
tr_code tr_drift_feature_test(const tr_drift_ref *ref, const double *cur, size_t n,
                              const tr_drift_opts *opt, tr_drift_feature *out, tr_error *err);

typedef struct tr_drift_dataset {
    int n_features, n_drifted;
    double share; /* n_drifted / n_features */
    int drift;    /* share >= drift_share */
    int n_psi_drifted;
} tr_drift_dataset;

/* Every feature of a window: rows (n_rows, n_features) row-major, feature j against refs[j];
 * non-finite values of a column are left out of that column (Evidently drops NaN), and a column
 * with no finite value is TR_ERR_INVALID. out: (n_features). TR_ERR_INVALID, TR_ERR_NOMEM. */
tr_code tr_drift_dataset_test(const tr_drift_ref *refs, int n_features, const double *rows,
                              size_t n_rows, const tr_drift_opts *opt, tr_drift_feature *out,
                              tr_drift_dataset *ds, tr_error *err);

/* ---- Prediction drift ------------------------------------------------------------------------ */

#define TR_DRIFT_MAX_CLASSES 8

typedef struct tr_drift_pred {
    int k;  /* classes given */
    int df; /* classes seen on either side, minus 1 */
    double ref_share[TR_DRIFT_MAX_CLASSES];
    double cur_share[TR_DRIFT_MAX_CLASSES];
    double chi2, p; /* scipy.stats.chisquare(f_obs, f_exp) */
    int drift;      /* p < alpha */
} tr_drift_pred;

/* Class counts (e.g. buy, sell, hold) of the reference and the current window (2 <= k <=
 * TR_DRIFT_MAX_CLASSES). As Evidently's chisquare_stattest: classes seen on neither side are
 * dropped, f_exp = ref_count * n_cur / n_ref, chi2 = sum (obs - exp)^2 / exp, p = chi2.sf(chi2,
 * classes - 1). A class absent from the reference but present now gives chi2 = INF, p = 0 (drift);
 * a single class seen in total gives chi2 = 0, p = 1 (SciPy answers NaN). TR_ERR_INVALID for bad
 * k or alpha or an empty side. */
tr_code tr_drift_predictions(const size_t *ref_counts, const size_t *cur_counts, int k,
                             double alpha, tr_drift_pred *out, tr_error *err);

#endif
