/*
 * plot.c - PNG pictures with PLplot's pngcairo device (plot.h). Each picture is drawn in a forked
 * child: PLplot's global state stays out of the trainer and its exit() on a fatal error ends only
 * the child.
 */
#define _POSIX_C_SOURCE 200809L

#include "report/plot.h"

#include <errno.h>
#include <math.h>
#include <plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fsutil.h"

/* ---- the child --------------------------------------------------------------------------------
 */

enum { COL_BG = 0, COL_FG = 15, COL_GRID = 7 };

/* Line colours (cmap0 indices, redefined in setup): blue, orange, green, red, purple, brown. */
static const int line_cols[] = {1, 2, 3, 4, 5, 6};
#define N_LINE_COLS ((int)(sizeof line_cols / sizeof line_cols[0]))

static int on_plexit(PLCHAR_VECTOR msg)
{
    /* never return into PLplot's exit(): other libraries' exit handlers do not belong here */
    fprintf(stderr, "PLplot: %s\n", msg ? msg : "fatal error");
    fflush(stderr);
    _exit(3);
}

static void setup(const char *file, int width, int height)
{
    plsexit(on_plexit);
    plsdev("pngcairo");
    plsfnam(file);
    plspage(0.0, 0.0, width, height, 0, 0);
    /* white background, black text, a palette readable in print */
    plscol0(COL_BG, 255, 255, 255);
    plscol0(COL_FG, 0, 0, 0);
    plscol0(COL_GRID, 200, 200, 200);
    plscol0(1, 31, 119, 180);
    plscol0(2, 255, 127, 14);
    plscol0(3, 44, 160, 44);
    plscol0(4, 214, 39, 40);
    plscol0(5, 148, 103, 189);
    plscol0(6, 140, 86, 75);
    /* UTC seconds since the epoch on time axes */
    plconfigtime(1.0 / 86400.0, 0.0, 0.0, 0x0, 1, 1970, 0, 1, 0, 0, 0.0);
}

static void draw_panel(const tr_plot_panel *p)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int s = 0; s < p->n_series; s++)
        for (size_t i = 0; i < p->series[s].n; i++) {
            double x = p->series[s].x[i], y = p->series[s].y[i];
            if (!isfinite(x) || !isfinite(y))
                continue;
            x0 = fmin(x0, x);
            x1 = fmax(x1, x);
            y0 = fmin(y0, y);
            y1 = fmax(y1, y);
        }
    int empty = !(x0 <= x1);
    if (empty) {
        x0 = 0;
        x1 = 1;
        y0 = 0;
        y1 = 1;
    }
    if (x1 - x0 <= 0) {
        x0 -= 0.5;
        x1 += 0.5;
    }
    double pad = (y1 - y0) * 0.05;
    if (pad <= 0)
        pad = fabs(y0) * 0.05 + 1e-9;
    y0 -= pad;
    y1 += pad;
    pladv(0);
    plvsta();
    plwind(x0, x1, y0, y1);
    plcol0(COL_GRID);
    plwidth(0.5);
    if (p->time_x) {
        pltimefmt(x1 - x0 > 40 * 86400 ? "%Y-%m-%d" : "%m-%d");
        plbox("gdt", 0.0, 0, "g", 0.0, 0);
    } else {
        plbox("g", 0.0, 0, "g", 0.0, 0);
    }
    plcol0(COL_FG);
    plwidth(1.0);
    plbox(p->time_x ? "bcdnst" : "bcnst", 0.0, 0, "bcnstv", 0.0, 0);
    pllab(p->xlabel ? p->xlabel : "", p->ylabel ? p->ylabel : "", p->title ? p->title : "");
    if (empty) {
        plptex(0.5, 0.5, 1.0, 0.0, 0.5, "no data");
        return;
    }
    PLINT opt[16], tcol[16], lcol[16], lsty[16];
    PLFLT lwid[16];
    const char *text[16];
    int nl = 0;
    for (int s = 0; s < p->n_series; s++) {
        const tr_plot_series *se = &p->series[s];
        int col = line_cols[s % N_LINE_COLS];
        plcol0(col);
        plwidth(1.6);
        /* draw each run of finite points as one line */
        size_t i = 0;
        while (i < se->n) {
            while (i < se->n && !(isfinite(se->x[i]) && isfinite(se->y[i])))
                i++;
            size_t j = i;
            while (j < se->n && isfinite(se->x[j]) && isfinite(se->y[j]))
                j++;
            if (j - i == 1) {
                PLFLT px = se->x[i], py = se->y[i];
                plpoin(1, &px, &py, 17);
            } else if (j > i) {
                plline((PLINT)(j - i), se->x + i, se->y + i);
            }
            i = j;
        }
        if (nl < 16 && se->name) {
            opt[nl] = PL_LEGEND_LINE;
            tcol[nl] = COL_FG;
            lcol[nl] = col;
            lsty[nl] = 1;
            lwid[nl] = 1.6;
            text[nl] = se->name;
            nl++;
        }
    }
    plwidth(1.0);
    if (nl > 0) {
        PLFLT lw, lh;
        pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, 0, 0.0, 0.0, 0.06, COL_BG,
                 COL_FG, 1, 0, 0, nl, opt, 1.0, 0.7, 1.6, 0.0, tcol, text, NULL, NULL, NULL, NULL,
                 lcol, lsty, lwid, NULL, NULL, NULL, NULL);
    }
}

typedef struct lines_job {
    int width, height;
    const tr_plot_panel *panels;
    int n_panels;
} lines_job;

static void draw_lines(const void *ctx, const char *file)
{
    const lines_job *j = ctx;
    setup(file, j->width, j->height);
    plssub(1, j->n_panels);
    plinit();
    plschr(0.0, 0.85);
    for (int k = 0; k < j->n_panels; k++)
        draw_panel(&j->panels[k]);
    plend();
}

typedef struct confusion_job {
    const char *title;
    const int64_t *counts; /* [3 * true + predicted] */
    const char *const *names;
} confusion_job;

static void draw_confusion(const void *ctx, const char *file)
{
    const confusion_job *j = ctx;
    setup(file, 560, 520);
    /* white to dark blue */
    PLFLT pos[2] = {0.0, 1.0}, r[2] = {1.0, 0.03}, g[2] = {1.0, 0.19}, b[2] = {1.0, 0.42};
    plscmap1l(1, 2, pos, r, g, b, NULL);
    plinit();
    pladv(0);
    plvpor(0.2, 0.9, 0.15, 0.85);
    plwind(0.0, 3.0, 0.0, 3.0);
    for (int t = 0; t < 3; t++) {
        int64_t row = 0;
        for (int p = 0; p < 3; p++)
            row += j->counts[3 * t + p];
        for (int p = 0; p < 3; p++) {
            double share = row > 0 ? (double)j->counts[3 * t + p] / (double)row : 0.0;
            /* true class t from the top, predicted p from the left */
            PLFLT xs[4] = {p, p + 1, p + 1, p}, ys[4] = {2 - t, 2 - t, 3 - t, 3 - t};
            plcol1(share);
            plfill(4, xs, ys);
            char cell[64];
            snprintf(cell, sizeof cell, "%lld", (long long)j->counts[3 * t + p]);
            plcol0(share > 0.5 ? COL_BG : COL_FG);
            plptex(p + 0.5, 2.55 - t, 1.0, 0.0, 0.5, cell);
            snprintf(cell, sizeof cell, "%.1f%%", 100.0 * share);
            plptex(p + 0.5, 2.3 - t, 1.0, 0.0, 0.5, cell);
        }
    }
    plcol0(COL_FG);
    plbox("bc", 1.0, 0, "bc", 1.0, 0);
    for (int k = 0; k < 3; k++) {
        plmtex("b", 1.5, (k + 0.5) / 3.0, 0.5, j->names[k]);
        plmtex("lv", 1.0, (2.5 - k) / 3.0, 1.0, j->names[k]);
    }
    plmtex("b", 3.2, 0.5, 0.5, "predicted");
    plmtex("l", 6.0, 0.5, 0.5, "true");
    plmtex("t", 1.5, 0.5, 0.5, j->title ? j->title : "");
    plend();
}

/* ---- the parent -------------------------------------------------------------------------------
 */

typedef void (*draw_fn)(const void *ctx, const char *file);

static tr_code draw_in_child(const char *path, draw_fn fn, const void *ctx, tr_error *err)
{
    char tmp[4400];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fds[2];
    if (pipe(fds) != 0)
        return tr_fail(err, TR_ERR_IO, "%s: pipe: %s", path, strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return tr_fail(err, TR_ERR_IO, "%s: fork: %s", path, strerror(e));
    }
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[1]);
        fn(ctx, tmp);
        fflush(NULL);
        _exit(0);
    }
    close(fds[1]);
    char msg[512];
    size_t got = 0;
    for (;;) {
        char buf[256];
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n && got + 1 < sizeof msg; i++)
            msg[got++] = buf[i] == '\n' ? ' ' : buf[i];
    }
    msg[got] = '\0';
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !tr_plot_is_png(tmp)) {
        unlink(tmp);
        if (WIFSIGNALED(status))
            return tr_fail(err, TR_ERR_IO, "%s: the plotting process died of signal %d %s", path,
                           WTERMSIG(status), msg);
        return tr_fail(err, TR_ERR_IO, "%s: picture not drawn (exit %d) %s", path,
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1, msg);
    }
    char *data;
    size_t len;
    tr_code rc = tr_file_read(tmp, &data, &len, err);
    unlink(tmp);
    if (rc)
        return rc;
    rc = tr_file_write_atomic(path, data, len, err);
    free(data);
    return rc;
}

tr_code tr_plot_lines(const char *path, int width, int height, const tr_plot_panel *panels,
                      int n_panels, tr_error *err)
{
    if (n_panels < 1 || n_panels > 4 || width < 100 || height < 100)
        return tr_fail(err, TR_ERR_INVALID, "%s: bad picture (%d panels, %dx%d)", path, n_panels,
                       width, height);
    lines_job j = {width, height, panels, n_panels};
    return draw_in_child(path, draw_lines, &j, err);
}

tr_code tr_plot_confusion(const char *path, const char *title, const int64_t *counts,
                          const char *const names[3], tr_error *err)
{
    confusion_job j = {title, counts, names};
    return draw_in_child(path, draw_confusion, &j, err);
}

int tr_plot_is_png(const char *path)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char head[8];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(head, 1, 8, f);
    fclose(f);
    return n == 8 && memcmp(head, sig, 8) == 0;
}
