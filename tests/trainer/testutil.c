/* testutil.c - see testutil.h. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "testutil.h"

#include <check.h>

#include "base/csv.h"
#include "base/timeutil.h"
#include "market/synth.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *tu_tempdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path = malloc(4096);
    if (!path)
        abort();
    snprintf(path, 4096, "%s/aifxt-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(path))
        abort();
    return path;
}

void tu_rmtree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                tu_rmtree(sub);
            else
                unlink(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

char *tu_path(const char *dir, const char *name)
{
    char *p = malloc(4096);
    if (!p)
        abort();
    snprintf(p, 4096, "%s/%s", dir, name);
    return p;
}

char *tu_write(const char *dir, const char *name, const char *text)
{
    char *p = tu_path(dir, name);
    FILE *f = fopen(p, "wb");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
    return p;
}

void tu_walk(tr_bar *bars, size_t n, int64_t t0, int tf, unsigned seed, double price)
{
    unsigned long long s = seed * 2654435761ull + 1;
    double c = price;
    for (size_t i = 0; i < n; i++) {
        double r[4];
        for (int k = 0; k < 4; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            r[k] = (double)(s >> 11) / 9007199254740992.0 - 0.5;
        }
        double o = c;
        c = o * (1 + 0.002 * r[0]);
        double hi = (o > c ? o : c) * (1 + 0.001 * (r[1] + 0.5));
        double lo = (o < c ? o : c) * (1 - 0.001 * (r[2] + 0.5));
        bars[i].t = t0 + (int64_t)i * tf;
        bars[i].open = o;
        bars[i].high = hi;
        bars[i].low = lo;
        bars[i].close = c;
        bars[i].volume = (double)(100 + (int)(1000 * (r[3] + 0.5)));
    }
}

double tu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int tu_run(const char *exe, const char *dir, const char *fmt, ...)
{
    char cmd[8192], args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    if (dir)
        snprintf(cmd, sizeof cmd, "'%s' %s > '%s/out.txt' 2>&1", exe, args, dir);
    else
        snprintf(cmd, sizeof cmd, "'%s' %s > /dev/null 2>&1", exe, args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int tu_output_has(const char *dir, const char *text)
{
    char *p = tu_path(dir, "out.txt");
    FILE *f = fopen(p, "r");
    free(p);
    if (!f)
        return 0;
    enum { CAP = 1 << 20 };
    char *buf = malloc(CAP);
    if (!buf)
        abort();
    size_t n = fread(buf, 1, CAP - 1, f);
    fclose(f);
    buf[n] = '\0';
    int found = strstr(buf, text) != NULL;
    free(buf);
    return found;
}

int64_t tu_time(const char *iso)
{
    int64_t t = 0;
    ck_assert_msg(tr_time_parse(iso, strlen(iso), 0, &t) == 0, "bad time '%s'", iso);
    return t;
}

tr_due_opts tu_tiny_due(const char *iso)
{
    tr_due_opts o = tr_due_opts_default();
    o.as_of = tu_time(iso);
    o.full.months = 2;
    o.full.n_hidden = 8;
    o.full.max_epochs = 2;
    o.full.patience = 1;
    o.full.decision = TR_DECISION_ARGMAX; /* mechanics on an untrained net: no edge to find */
    o.rank.min_trades = 0;
    return o;
}

tr_replay_opts tu_tiny_replay(char **csv, const char *const *pairs)
{
    tr_replay_opts o = tr_replay_opts_default();
    for (int p = 0; p < 2; p++) {
        o.csv[p] = csv[p];
        o.pair[p] = pairs[p];
    }
    o.n_pairs = 2;
    o.from = tu_time("2025-02-26");
    o.to = tu_time("2025-03-05");
    o.due.full.months = 1;
    o.due.full.n_hidden = 8;
    o.due.full.max_epochs = 2;
    o.due.full.patience = 1;
    o.due.full.decision = TR_DECISION_ARGMAX; /* mechanics on an untrained net */
    o.due.incr.epochs = 2;
    o.due.rank.min_trades = 0;
    return o;
}

void tu_write_replay_csvs(const char *dir, const char *const *pairs, char **csv, tr_bars *keep)
{
    tr_error e;
    for (int p = 0; p < 2; p++) {
        tr_synth_params sp = tr_synth_params_default(pairs[p], tu_time("2025-01-15"),
                                                     tu_time("2025-03-06"), (uint64_t)(11 + p));
        tr_bars b = {0};
        int dec;
        ck_assert_int_eq(tr_synth_generate(&sp, &b, &dec, &e), TR_OK);
        char name[32];
        snprintf(name, sizeof name, "%s.csv", pairs[p]);
        csv[p] = tu_path(dir, name);
        ck_assert_int_eq(tr_csv_write(csv[p], b.v, b.n, dec, &e), TR_OK);
        if (keep)
            keep[p] = b;
        else
            tr_bars_free(&b);
    }
}

int tu_log_rows(tr_store *st, const char *cycle, int64_t as_of, int status)
{
    tr_registry reg;
    tr_error e;
    ck_assert_int_eq(tr_store_registry_read(st, &reg, &e), TR_OK);
    int n = 0;
    for (size_t i = 0; i < reg.n_log; i++)
        n += strcmp(reg.log[i].cycle, cycle) == 0 && reg.log[i].as_of == as_of &&
             (status < 0 || (int)reg.log[i].status == status);
    tr_registry_free(&reg);
    return n;
}

int tu_two_run_due(const char *location, const char *iso)
{
    int gate[2];
    ck_assert_int_eq(pipe(gate), 0);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        ck_assert_int_ge(kids[k], 0);
        if (kids[k] == 0) {
            close(gate[1]);
            char c;
            while (read(gate[0], &c, 1) > 0) {
            } /* both start when the parent closes the pipe */
            tr_store *s;
            tr_error e;
            if (tr_store_open(location, NULL, &s, &e))
                _exit(10);
            tr_due_opts o = tu_tiny_due(iso);
            tr_due_result r;
            tr_code rc = tr_run_due(s, &o, &r, &e);
            tr_store_close(s);
            _exit(rc == TR_OK ? 0 : rc == TR_ERR_CONFLICT ? 4 : 11);
        }
    }
    close(gate[0]);
    close(gate[1]);
    int n_ok = 0;
    for (int k = 0; k < 2; k++) {
        int status;
        ck_assert_int_eq(waitpid(kids[k], &status, 0), kids[k]);
        ck_assert(WIFEXITED(status));
        int code = WEXITSTATUS(status);
        ck_assert_msg(code == 0 || code == 4, "child exit %d", code);
        n_ok += code == 0;
    }
    return n_ok;
}

void tu_assert_same_state(tr_store *a, tr_store *b, double prob_tol)
{
    tr_error e;
    tr_signal *sa, *sb;
    size_t na, nb;
    ck_assert_int_eq(tr_store_signals_get(a, NULL, INT64_MIN, INT64_MAX, &sa, &na, &e), TR_OK);
    ck_assert_int_eq(tr_store_signals_get(b, NULL, INT64_MIN, INT64_MAX, &sb, &nb, &e), TR_OK);
    ck_assert_uint_eq(na, nb);
    for (size_t i = 0; i < na; i++) {
        /* recording order may differ after a restart; both are in bar order per pair */
        const tr_signal *x = &sa[i], *y = NULL;
        for (size_t j = 0; j < nb && !y; j++)
            if (sb[j].bar_time == x->bar_time && strcmp(sb[j].pair, x->pair) == 0)
                y = &sb[j];
        ck_assert_ptr_nonnull(y);
        ck_assert_int_eq(x->signal, y->signal);
        for (int k = 0; k < 3; k++)
            ck_assert(fabs(x->probs[k] - y->probs[k]) <= prob_tol);
        ck_assert_str_eq(x->model_version, y->model_version);
        ck_assert_str_eq(x->ab_test_id, y->ab_test_id);
        ck_assert_int_eq(x->created_at, y->created_at);
        ck_assert_str_eq(x->outcome, y->outcome);
        ck_assert_int_eq(x->exit_time, y->exit_time);
        ck_assert(x->pnl_pips == y->pnl_pips);
    }
    free(sa);
    free(sb);
    tr_registry ra, rb;
    ck_assert_int_eq(tr_store_registry_read(a, &ra, &e), TR_OK);
    ck_assert_int_eq(tr_store_registry_read(b, &rb, &e), TR_OK);
    ck_assert_uint_eq(ra.n_versions, rb.n_versions);
    for (size_t i = 0; i < ra.n_versions; i++) {
        ck_assert_str_eq(ra.versions[i].version, rb.versions[i].version);
        ck_assert_int_eq(ra.versions[i].status, rb.versions[i].status);
        ck_assert_int_eq(ra.versions[i].is_active, rb.versions[i].is_active);
        ck_assert_int_eq(ra.versions[i].deprecated_at, rb.versions[i].deprecated_at);
        ck_assert_uint_eq(ra.versions[i].ckpt_crc, rb.versions[i].ckpt_crc);
    }
    ck_assert_uint_eq(ra.n_log, rb.n_log);
    for (size_t i = 0; i < ra.n_log; i++) {
        ck_assert_str_eq(ra.log[i].cycle, rb.log[i].cycle);
        ck_assert_int_eq(ra.log[i].as_of, rb.log[i].as_of);
        ck_assert_int_eq(ra.log[i].status, rb.log[i].status);
        ck_assert_str_eq(ra.log[i].version, rb.log[i].version);
        ck_assert_str_eq(ra.log[i].verdict, rb.log[i].verdict);
    }
    ck_assert_uint_eq(ra.n_activations, rb.n_activations);
    for (size_t i = 0; i < ra.n_activations; i++) {
        ck_assert_str_eq(ra.activations[i].from, rb.activations[i].from);
        ck_assert_str_eq(ra.activations[i].to, rb.activations[i].to);
        ck_assert_str_eq(ra.activations[i].reason, rb.activations[i].reason);
        /* .at: the gate stamps the wall clock */
    }
    tr_registry_free(&ra);
    tr_registry_free(&rb);
}

/* A version with every field set to something distinctive; k varies the numbers. */
void tu_full_version(tr_version *v, const char *name, int k)
{
    memset(v, 0, sizeof *v);
    snprintf(v->version, sizeof v->version, "%s", name);
    v->type = k % 2;
    snprintf(v->parent, sizeof v->parent, "%s", k ? "v1.0" : "");
    v->status = TR_VS_COMPLETED;
    v->trained_at = 1750000000 + k;
    v->as_of = 1749945600;
    v->data_from = 1742000000;
    v->data_to = 1749945600;
    v->n_samples[0] = 1234567890123LL;
    v->n_samples[1] = -1;
    v->n_samples[2] = 7;
    snprintf(v->hyper, sizeof v->hyper,
             "{\"n_hidden\": 64,  \"lr\":1e-3,\"note\":\"tab\\there, unicode \\u00e9 é\"}");
    v->class_weight[0] = 0.1;
    v->class_weight[1] = 1.0 / 3.0;
    v->class_weight[2] = 5e-324; /* the smallest subnormal */
    v->epochs = 17 + k;
    v->best_epoch = 9;
    v->seconds = 12.345678901234567;
    for (int s = 0; s < 3; s++) {
        tr_cls_figs *c = &v->figs[s];
        c->n = 1000 + s;
        c->loss = s == 1 ? NAN : 0.9 + s * 1e-17;
        c->accuracy = s == 2 ? -NAN : 0.61 + k;
        c->macro_f1 = s == 0 ? INFINITY : 0.47;
        for (int j = 0; j < 3; j++) {
            c->precision[j] = j == 1 ? -0.0 : 0.1 * (j + 1) + s;
            c->recall[j] = j == 2 ? -INFINITY : 1.0 / (j + 7);
            c->f1[j] = j == 0 ? NAN : 0.3333333333333333;
        }
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                c->confusion[a][b] = (int64_t)(a * 3 + b) * (s + 1) - 4;
        c->buy_share = 0.07;
        c->sell_share = 0.08;
        c->true_buy_share = 0.09;
        c->true_sell_share = 1e300;
    }
    v->bt.trades = INT64_MAX;
    v->bt.wins = INT64_MIN;
    v->bt.n_signals = 3;
    v->bt.n_bars = 4;
    v->bt.win_rate = 0.5;
    v->bt.total_pips = -123.4;
    v->bt.avg_pips = NAN;
    v->bt.total_return = -0.0;
    v->bt.sharpe = 1.7976931348623157e308;
    v->bt.sortino = -INFINITY;
    v->bt.max_drawdown = 0.25;
    v->bt.profit_factor = INFINITY;
    v->bt.signal_freq = 2.2250738585072014e-308;
    snprintf(v->checkpoint, sizeof v->checkpoint, "%s.ckpt", name);
    v->ckpt_crc = 0xdeadbeefu;
    v->ckpt_size = 5555555555LL;
    v->n_history = 40 + k;
    for (int i = 0; i < v->n_history; i++) {
        v->hist_train_loss[i] = 1.0f / (float)(i + 1);
        v->hist_val_loss[i] = i == 3 ? NAN : (float)i * 0.1f;
        v->hist_val_macro_f1[i] = i == 5 ? -INFINITY : 0.01f * (float)i;
        v->hist_lr[i] = i == 7 ? 1e-45f : 1e-3f; /* a float subnormal */
    }
}

/* Fails naming the first byte where two records differ. */
void tu_assert_same_bytes(const void *a, const void *b, size_t n, const char *what)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(x[i] == y[i], "%s differs at byte %zu of %zu", what, i, n);
}

/* An A/B test with every field set. */
void tu_full_ab(tr_ab_test *t, const char *id, const char *pairs)
{
    memset(t, 0, sizeof *t);
    snprintf(t->id, sizeof t->id, "%s", id);
    snprintf(t->version_a, sizeof t->version_a, "v1.0");
    snprintf(t->version_b, sizeof t->version_b, "v1.1");
    snprintf(t->pairs, sizeof t->pairs, "%s", pairs);
    t->split = 0.3;
    t->seed = UINT64_MAX;
    t->started_at = 1750000000;
    t->planned_end = 1750000000 + 14 * 86400;
    t->min_trades = 200;
    t->status = TR_AB_RUNNING;
    snprintf(t->origin, sizeof t->origin, "manual");
}
