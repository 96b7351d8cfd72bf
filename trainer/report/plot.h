/*
 * plot.h - PNG pictures for the reports (line charts and a confusion matrix), drawn with PLplot's
 * pngcairo device. plot.c is the only file that includes plplot.h.
 *
 * PLplot keeps global state and, on a fatal error, calls exit(). So each picture is drawn in a
 * forked child process into <path>.tmp.<pid>, and the parent renames it over path only when the
 * child exited cleanly: a failed picture is an error naming the file, never a dead trainer or a
 * half-written PNG. Nothing here prints.
 */
#ifndef AIFXT_PLOT_H
#define AIFXT_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

typedef struct tr_plot_series {
    const char *name; /* legend text */
    size_t n;
    const double *x, *y; /* non-finite y values break the line */
} tr_plot_series;

typedef struct tr_plot_panel {
    const char *title, *xlabel, *ylabel;
    int time_x; /* x are UTC seconds since the epoch: labelled as dates */
    const tr_plot_series *series;
    int n_series;
} tr_plot_panel;

/* A PNG of width x height pixels with the panels stacked vertically (1 to 4). A panel without
 * any finite point is drawn empty with "no data". */
tr_code tr_plot_lines(const char *path, int width, int height, const tr_plot_panel *panels,
                      int n_panels, tr_error *err);

/* A PNG of a 3x3 confusion matrix, counts[3 * true + predicted] (row-major, as tr_cls_figs'
 * confusion), each cell shaded by its share of its true class (a row) and labelled with the count
 * and that share. */
tr_code tr_plot_confusion(const char *path, const char *title, const int64_t *counts,
                          const char *const names[3], tr_error *err);

/* 1 when path starts with the 8-byte PNG signature (for tests and the report). */
int tr_plot_is_png(const char *path);

#endif
