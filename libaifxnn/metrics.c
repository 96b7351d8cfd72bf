/*
 * metrics.c - classification figures from a confusion matrix (rows true, columns predicted):
 *   precision_c = TP / (TP + FP), recall_c = TP / (TP + FN), F1_c = 2 P R / (P + R),
 * each 0 where its denominator is 0 (scikit-learn's zero_division=0); accuracy = trace / n;
 * macro-F1 = mean of F1_c over the classes present in the labels or the predictions
 * (scikit-learn's label set for f1_score(average="macro")).
 */
#include "internal.h"

void aifx__metrics_finish(aifx_metrics *out)
{
    const int C = out->n_classes;
    int64_t correct = 0, n = 0;
    double f1_sum = 0.0;
    int n_present = 0;
    for (int c = 0; c < C; c++) {
        int64_t tp = out->confusion[c][c], row = 0, col = 0;
        for (int k = 0; k < C; k++) {
            row += out->confusion[c][k];
            col += out->confusion[k][c];
        }
        out->support[c] = row;
        out->predicted[c] = col;
        out->precision[c] = col ? (double)tp / (double)col : 0.0;
        out->recall[c] = row ? (double)tp / (double)row : 0.0;
        double pr = out->precision[c] + out->recall[c];
        out->f1[c] = pr > 0.0 ? 2.0 * out->precision[c] * out->recall[c] / pr : 0.0;
        correct += tp;
        n += row;
        if (row || col) {
            f1_sum += out->f1[c];
            n_present++;
        }
    }
    out->n = n;
    out->accuracy = n ? (double)correct / (double)n : 0.0;
    out->macro_f1 = n_present ? f1_sum / n_present : 0.0;
}
