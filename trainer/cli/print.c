/*
 * print.c - the text and JSON renderings of aifx-train's results (print.h).
 *
 * At about 1,050 lines it is over the trainer's usual 800: issue 13 put all printing in one
 * module so that every command renders through the same helpers (figures, JSON numbers), and
 * each section below is one family of commands. The next cut is one print_<family>.c per
 * section, behind the same print.h.
 */
#include "cli/print.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/csv.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "cli/cli.h"

/* ---- progress ------------------------------------------------------------------------------- */

void tr_cli_print_event(const tr_event *ev, void *user)
{
    tr_cli_out *o = user;
    if (o->json) {
        if (ev->kind == TR_EV_STAGE) {
            printf("{\"event\":\"stage\",\"cycle\":\"%s\",\"text\":\"%s\"}\n", ev->cycle, ev->text);
        } else {
            const aifx_epoch_report *r = ev->epoch;
            printf("{\"event\":\"epoch\",\"cycle\":\"%s\",\"epoch\":%d,\"n_epochs\":%d,"
                   "\"train_loss\":%.6f,",
                   ev->cycle, r->epoch, r->n_epochs, r->train_loss);
            if (isfinite(r->val_loss))
                printf("\"val_loss\":%.6f,\"val_accuracy\":%.6f,\"val_macro_f1\":%.6f,",
                       r->val_loss, r->val_accuracy, r->val_macro_f1);
            printf("\"lr\":%g,\"seconds\":%.3f,\"improved\":%s}\n", (double)r->lr, r->seconds,
                   r->improved ? "true" : "false");
        }
        fflush(stdout);
        return;
    }
    if (o->quiet)
        return;
    if (ev->kind == TR_EV_STAGE) {
        if (o->last_was_bar)
            fputc('\n', stderr);
        o->last_was_bar = 0;
        fprintf(stderr, "%s: %s\n", ev->cycle, ev->text);
        return;
    }
    const aifx_epoch_report *r = ev->epoch;
    char vals[128] = "";
    if (isfinite(r->val_loss))
        snprintf(vals, sizeof vals, " val_loss %.4f val_acc %.3f val_f1 %.3f", r->val_loss,
                 r->val_accuracy, r->val_macro_f1);
    if (o->tty) {
        int width = 24, done = r->n_epochs > 0 ? r->epoch * width / r->n_epochs : width;
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < done ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r[%s] epoch %3d/%d loss %.4f%s %5.1fs%s\x1b[K", bar, r->epoch,
                r->n_epochs, r->train_loss, vals, r->seconds, r->improved ? " *" : "");
        o->last_was_bar = 1;
    } else {
        fprintf(stderr, "epoch %d/%d loss %.4f%s %.1fs%s\n", r->epoch, r->n_epochs, r->train_loss,
                vals, r->seconds, r->improved ? " *" : "");
    }
    fflush(stderr);
}

void tr_cli_print_end_bar(tr_cli_out *o)
{
    if (o->last_was_bar)
        fputc('\n', stderr);
    o->last_was_bar = 0;
}

void tr_cli_print_replay_step(const tr_replay_progress *p, void *user)
{
    tr_cli_out *oo = user;
    if (oo->quiet)
        return;
    if (oo->last_was_bar) /* an epoch's progress bar ends its line first */
        fputc('\n', stderr);
    oo->last_was_bar = 0;
    char t[40], t1[40];
    fprintf(stderr, "replay %s: step %zu/%zu, %zu signals\n", tr_time_format(p->clock, t, sizeof t),
            p->step, p->n_steps, p->n_signals);
    for (int i = 0; p->due && i < p->due->n_items; i++) {
        const tr_due_item *it = &p->due->items[i];
        if (it->outcome == TR_RUN_NOT_DUE || it->outcome == TR_RUN_DISABLED)
            continue;
        fprintf(stderr, "  %-11s %s: %s %s%s%.200s\n", tr_slot_cycle(it->slot),
                tr_time_format(it->latest, t1, sizeof t1), tr_run_outcome_name(it->outcome),
                it->version, it->detail[0] ? ": " : "", it->detail);
    }
}

/* ---- figures: classification and backtest, as text and as JSON --------------------------------
 */

static void print_cls(const char *title, const tr_cls_figs *f)
{
    static const char *cn[3] = {"hold", "buy", "sell"};
    printf("%s: %lld windows, accuracy %.4f, macro-F1 %.4f, loss %.4f\n", title, (long long)f->n,
           f->accuracy, f->macro_f1, f->loss);
    printf("  predicted buy %.2f%% sell %.2f%% (true buy %.2f%% sell %.2f%%)\n", 100 * f->buy_share,
           100 * f->sell_share, 100 * f->true_buy_share, 100 * f->true_sell_share);
    printf("  %-6s %9s %9s %9s   confusion (true \\ predicted: hold buy sell)\n", "class",
           "precision", "recall", "F1");
    for (int c = 0; c < 3; c++)
        printf("  %-6s %9.4f %9.4f %9.4f   %8lld %8lld %8lld\n", cn[c], f->precision[c],
               f->recall[c], f->f1[c], (long long)f->confusion[c][0], (long long)f->confusion[c][1],
               (long long)f->confusion[c][2]);
}

static void print_bt(const char *title, const tr_bt_figs *b)
{
    printf("%s: %lld trades, win rate %.4f, total %.1f pips (avg %.2f), return %.4f%%, "
           "Sharpe %.3f, Sortino %.3f, max drawdown %.4f%%, profit factor %.3f, signals %.4f/bar\n",
           title, (long long)b->trades, b->win_rate, b->total_pips, b->avg_pips,
           100 * b->total_return, b->sharpe, b->sortino, 100 * b->max_drawdown, b->profit_factor,
           b->signal_freq);
}

static void json_cls(const tr_cls_figs *f)
{
    printf("{\"n\":%lld,\"accuracy\":%.6f,\"macro_f1\":%.6f,\"loss\":%.6f,\"buy_share\":%.6f,"
           "\"sell_share\":%.6f,\"true_buy_share\":%.6f,\"true_sell_share\":%.6f,"
           "\"precision\":[%.6f,%.6f,%.6f],\"recall\":[%.6f,%.6f,%.6f],\"f1\":[%.6f,%.6f,%.6f],"
           "\"confusion\":[[%lld,%lld,%lld],[%lld,%lld,%lld],[%lld,%lld,%lld]]}",
           (long long)f->n, f->accuracy, f->macro_f1, f->loss, f->buy_share, f->sell_share,
           f->true_buy_share, f->true_sell_share, f->precision[0], f->precision[1], f->precision[2],
           f->recall[0], f->recall[1], f->recall[2], f->f1[0], f->f1[1], f->f1[2],
           (long long)f->confusion[0][0], (long long)f->confusion[0][1],
           (long long)f->confusion[0][2], (long long)f->confusion[1][0],
           (long long)f->confusion[1][1], (long long)f->confusion[1][2],
           (long long)f->confusion[2][0], (long long)f->confusion[2][1],
           (long long)f->confusion[2][2]);
}

static void json_num(double v)
{
    if (isfinite(v))
        printf("%.6g", v);
    else
        printf("null");
}

static void json_bt(const tr_bt_figs *b)
{
    printf("{\"trades\":%lld,\"wins\":%lld,\"win_rate\":%.6f,\"total_pips\":%.4f,"
           "\"avg_pips\":%.4f,\"total_return\":%.8f,\"sharpe\":%.6f,\"sortino\":%.6f,"
           "\"max_drawdown\":%.8f,\"profit_factor\":",
           (long long)b->trades, (long long)b->wins, b->win_rate, b->total_pips, b->avg_pips,
           b->total_return, b->sharpe, b->sortino, b->max_drawdown);
    json_num(b->profit_factor);
    printf(",\"signal_freq\":%.6f}", b->signal_freq);
}

/* ---- data ----------------------------------------------------------------------------------- */

void tr_cli_print_ingest(const char *pair, int32_t timeframe, const char *csv,
                         const tr_ingest_result *r, double seconds)
{
    char f0[32], f1[32], tfn[16];
    printf("%s %s: %zu bars from %s (%s, %s to %s) in %.3f s: %zu added, %zu unchanged, "
           "%zu replaced\n",
           pair, tr_timeframe_name(timeframe, tfn, sizeof tfn), r->n_read, csv,
           tr_csv_format_name(r->format), tr_time_format(r->first, f0, sizeof f0),
           tr_time_format(r->last, f1, sizeof f1), seconds, r->put.n_added, r->put.n_unchanged,
           r->put.n_replaced);
    if (r->dq.n)
        printf("data quality: %zu gaps in market hours (%zu bars missing), %zu spikes, %zu "
               "zero-range and %zu repeated bars; first: %s (aifx-train dq lists them; the bars "
               "are stored as they are)\n",
               r->dq.count[TR_DQ_GAP], r->dq.missing_bars, r->dq.count[TR_DQ_SPIKE],
               r->dq.count[TR_DQ_ZERO_RANGE], r->dq.count[TR_DQ_REPEAT], r->dq.first);
}

void tr_cli_print_synth(const char *pair, int32_t timeframe, size_t n, uint64_t seed,
                        const char *dest, const tr_put_stats *put)
{
    char tfn[16];
    tr_timeframe_name(timeframe, tfn, sizeof tfn);
    if (!put)
        printf("%s %s: wrote %zu synthetic bars (seed %llu) to %s\n", pair, tfn, n,
               (unsigned long long)seed, dest);
    else
        printf("%s %s: %zu synthetic bars (seed %llu) into %s: %zu added, %zu unchanged, "
               "%zu replaced\n",
               pair, tfn, n, (unsigned long long)seed, dest, put->n_added, put->n_unchanged,
               put->n_replaced);
}

void tr_cli_print_series(const tr_series_info *list, size_t n)
{
    printf("%-10s %-5s %9s  %-21s %-21s\n", "pair", "tf", "bars", "first", "last");
    for (size_t i = 0; i < n; i++) {
        char tfn[16], f0[32], f1[32];
        printf("%-10s %-5s %9zu  %-21s %-21s\n", list[i].pair,
               tr_timeframe_name(list[i].timeframe, tfn, sizeof tfn), list[i].count,
               tr_time_format(list[i].first, f0, sizeof f0),
               tr_time_format(list[i].last, f1, sizeof f1));
    }
}

static void print_describe(const tr_dataset *ds)
{
    static const char *split_names[TR_N_SPLITS] = {"train", "val", "test"};
    char a[32], b[32], tfn[16];
    printf("dataset: %d pair%s (", ds->n_series, ds->n_series == 1 ? "" : "s");
    for (int s = 0; s < ds->n_series; s++)
        printf("%s%s", s ? ", " : "", ds->series[s].pair);
    printf(") at %s, samples in [%s, %s)\n", tr_timeframe_name(ds->timeframe, tfn, sizeof tfn),
           tr_time_format(ds->opt.from, a, sizeof a), tr_time_format(ds->opt.to, b, sizeof b));
    int E = ds->opt.embargo ? ds->opt.embargo : ds->opt.window + tr_label_horizon(&ds->opt.label);
    printf("window T=%d x %d features; labels k=%d m=%g h=%d ATR(%d); embargo %d bars; "
           "max gap %d bars\n",
           ds->opt.window, TR_N_FEATURES, ds->opt.label.k, ds->opt.label.m, ds->opt.label.h,
           ds->opt.label.atr_period, E, ds->opt.max_gap_bars);
    printf("bars in range %zu: %zu warm-up, %zu unlabeled, %zu across a gap, %zu embargoed\n\n",
           ds->n_in_range, ds->n_warmup, ds->n_unlabeled, ds->n_gap, ds->n_embargo);
    printf("%-6s %-21s %-21s %8s %8s %8s %8s   %6s %6s %6s\n", "split", "first", "last", "samples",
           "hold", "buy", "sell", "hold%", "buy%", "sell%");
    for (int k = 0; k < TR_N_SPLITS; k++) {
        const size_t *c = ds->class_count[k];
        double n = ds->n[k] ? (double)ds->n[k] : 1.0;
        printf("%-6s %-21s %-21s %8zu %8zu %8zu %8zu   %6.2f %6.2f %6.2f\n", split_names[k],
               ds->n[k] ? tr_time_format(ds->first[k], a, sizeof a) : "-",
               ds->n[k] ? tr_time_format(ds->last[k], b, sizeof b) : "-", ds->n[k], c[0], c[1],
               c[2], 100.0 * (double)c[0] / n, 100.0 * (double)c[1] / n, 100.0 * (double)c[2] / n);
    }
    printf("\nclass weights (train, n / (3 n_c)): hold %.4f  buy %.4f  sell %.4f\n\n",
           ds->class_weight[0], ds->class_weight[1], ds->class_weight[2]);
    printf("%-3s %-12s %12s %12s %12s %12s %12s %12s\n", "#", "feature", "train mean", "train sd",
           "train min", "train max", "test min", "test max");
    for (int f = 0; f < TR_N_FEATURES; f++)
        printf("%-3d %-12s %12.4g %12.4g %12.4g %12.4g %12.4g %12.4g\n", f, tr_feature_names[f],
               ds->mean[f], ds->sd[f], ds->fmin[0][f], ds->fmax[0][f],
               ds->n[2] ? ds->fmin[2][f] : NAN, ds->n[2] ? ds->fmax[2][f] : NAN);
}

void tr_cli_print_dataset(const tr_dataset *ds, int describe, double seconds)
{
    if (describe) {
        print_describe(ds);
        printf("\nbuilt in %.3f s\n", seconds);
    } else {
        printf("dataset: train %zu, val %zu, test %zu samples (built in %.3f s; --describe for "
               "details)\n",
               ds->n[0], ds->n[1], ds->n[2], seconds);
    }
}

/* ---- the PostgreSQL store ------------------------------------------------------------------- */

void tr_cli_print_migration(const tr_migrate_result *r)
{
    if (r->from == r->to)
        printf("store %s: schema at version %d, current; nothing to do\n", r->location, r->to);
    else
        printf("store %s: schema migrated from version %d to %d (applied %s)\n", r->location,
               r->from, r->to, r->applied);
}

void tr_cli_print_listening(const char *const *channels, size_t n)
{
    fprintf(stderr, "listening on");
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s %s", i ? "," : "", channels[i]);
    fprintf(stderr, "\n");
    fflush(stderr);
}

void tr_cli_print_store_event(const char *channel, const char *payload)
{
    printf("%s\t%s\n", channel, payload ? payload : "");
    fflush(stdout); /* a reader of the pipe sees each event as it comes */
}

/* ---- full and incremental ------------------------------------------------------------------- */

/* A version's decision rule as a JSON object. */
static void json_rule(const tr_rule *u)
{
    printf("{\"temperature\":");
    json_num(u->temperature);
    printf(",\"threshold\":");
    json_num(u->threshold);
    printf(",\"no_edge\":%s,\"cost_aware\":%s,\"min_trades\":%lld,\"val_trades\":%lld,"
           "\"val_pips\":",
           u->no_edge ? "true" : "false", u->cost_aware ? "true" : "false",
           (long long)u->min_trades, (long long)u->val_trades);
    json_num(u->val_pips);
    printf(",\"ece_raw\":");
    json_num(u->ece_raw);
    printf(",\"ece_cal\":");
    json_num(u->ece_cal);
    printf("}");
}

/* A reliability table as a JSON array of its non-empty bins. */
static void json_reliability(const tr_reliability *t)
{
    printf("[");
    for (int b = 0, k = 0; b < TR_ECE_BINS; b++) {
        if (!t->n[b])
            continue;
        printf("%s{\"lo\":%.4f,\"hi\":%.4f,\"n\":%lld,\"confidence\":%.6f,\"accuracy\":%.6f}",
               k++ ? "," : "", (double)b / TR_ECE_BINS, (double)(b + 1) / TR_ECE_BINS,
               (long long)t->n[b], t->conf[b], t->acc[b]);
    }
    printf("]");
}

static void print_rule(const tr_rule *u, const tr_reliability *raw, const tr_reliability *cal)
{
    printf("decision rule (chosen on the validation part): temperature %.3f, ECE %.4f -> %.4f\n",
           u->temperature, u->ece_raw, u->ece_cal);
    if (!u->cost_aware)
        printf("  argmax (--decision argmax): %lld validation trades, %+.1f pips\n",
               (long long)u->val_trades, u->val_pips);
    else if (u->no_edge)
        printf(
            "  NO EDGE: no threshold earned on validation with >= %lld trades (best %+.1f pips in "
            "%lld trades): every signal is hold\n",
            (long long)u->min_trades, u->val_pips, (long long)u->val_trades);
    else
        printf("  trade when the calibrated probability >= %.2f: %lld validation trades, %+.1f "
               "pips (>= %lld trades required)\n",
               u->threshold, (long long)u->val_trades, u->val_pips, (long long)u->min_trades);
    printf("  reliability (validation)  %-11s %6s %8s %8s   %6s %8s %8s\n", "confidence", "n",
           "conf", "acc", "n cal", "conf", "acc");
    for (int b = 0; b < TR_ECE_BINS; b++) {
        if (!raw->n[b] && !cal->n[b])
            continue;
        printf("  %26s(%.3f, %.3f] %6lld %8.4f %8.4f   %6lld %8.4f %8.4f\n", "",
               (double)b / TR_ECE_BINS, (double)(b + 1) / TR_ECE_BINS, (long long)raw->n[b],
               raw->conf[b], raw->acc[b], (long long)cal->n[b], cal->conf[b], cal->acc[b]);
    }
}

void tr_cli_print_full(const tr_cycle_result *r, int json)
{
    const tr_version *v2 = &r->rec;
    char t0[32], t1[32];
    if (json) {
        printf("{\"event\":\"result\",\"cycle\":\"full\",\"status\":\"completed\","
               "\"version\":\"%s\","
               "\"activated\":%s,\"verdict\":\"%s\",\"seconds\":%.3f,\"epochs\":%d,"
               "\"best_epoch\":%d,\"resumed_from_epoch\":%d,\"test\":",
               v2->version, r->activated ? "true" : "false", r->verdict, r->seconds, v2->epochs,
               v2->best_epoch, r->resumed_epoch);
        json_cls(&v2->figs[2]);
        printf(",\"backtest\":");
        json_bt(&v2->bt);
        printf(",\"rule\":");
        json_rule(&v2->rule);
        printf(",\"reliability_raw\":");
        json_reliability(&r->rel_raw);
        printf(",\"reliability_calibrated\":");
        json_reliability(&r->rel_cal);
        tr_sb why = {0};
        tr_sb_json_str(&why, r->reason);
        printf(",\"reason\":%s}\n", why.p ? why.p : "\"\"");
        tr_sb_free(&why);
        return;
    }
    printf("full: version %s trained on %s .. %s (%lld train, %lld val, %lld test windows) "
           "in %.1f s: %d epochs, best %d%s\n",
           v2->version, tr_time_format(v2->data_from, t0, sizeof t0),
           tr_time_format(v2->data_to, t1, sizeof t1), (long long)v2->n_samples[0],
           (long long)v2->n_samples[1], (long long)v2->n_samples[2], r->seconds, v2->epochs,
           v2->best_epoch, r->resumed_epoch ? " (resumed)" : "");
    print_cls("test", &v2->figs[2]);
    print_rule(&v2->rule, &r->rel_raw, &r->rel_cal);
    print_bt("backtest (test part, the rule's signals)", &v2->bt);
    for (int p = 0; p < r->n_pairs; p++) {
        char title[64];
        snprintf(title, sizeof title, "  %s", r->pairs[p]);
        print_bt(title, &r->bt_pairs[p]);
    }
    if (r->activated && !v2->rule.no_edge)
        printf("activated: no version was active (first model)\n");
    else
        printf("%s\n", r->reason);
}

void tr_cli_print_incremental(const tr_cycle_result *r, int gate_metric, int json)
{
    if (json) {
        printf("{\"event\":\"result\",\"cycle\":\"incremental\",\"status\":\"%s\","
               "\"version\":\"%s\","
               "\"verdict\":\"%s\",\"activated\":%s,\"gate_metric\":\"%s\",\"candidate\":",
               tr_log_status_name(r->status), r->version, r->verdict,
               r->activated ? "true" : "false", tr_gate_metric_name(gate_metric));
        json_num(r->candidate_value);
        printf(",\"active\":");
        json_num(r->active_value);
        printf(",\"seconds\":%.3f}\n", r->seconds);
    } else if (r->status == TR_LOG_SKIPPED) {
        printf("incremental: skipped: %s\n", r->reason);
    } else {
        printf("incremental: version %s (fine-tuned on %lld windows in %.1f s): %s%s\n  %s\n",
               r->version, (long long)r->rec.n_samples[0], r->seconds, r->verdict,
               r->activated ? ", activated" : ", not activated", r->reason);
    }
}

/* ---- the registry --------------------------------------------------------------------------- */

void tr_cli_print_activation(const char *from, const char *to, int rollback, int json)
{
    if (json)
        printf("{\"from\":\"%s\",\"to\":\"%s\",\"reason\":\"%s\"}\n", from, to,
               rollback ? "rollback" : "manual");
    else
        printf("%s: %s -> %s\n", rollback ? "rolled back" : "activated", from[0] ? from : "(none)",
               to);
}

/* ,"key":figure or null. */
static void json_field(tr_sb *b, const char *key, double x)
{
    if (isfinite(x))
        tr_sb_printf(b, ",\"%s\":%.17g", key, x);
    else
        tr_sb_printf(b, ",\"%s\":null", key);
}

void tr_cli_print_version(const tr_version *v, const tr_prod_figs *prod, int json)
{
    if (json) {
        char *j = tr_version_json(v);
        size_t n = j ? strlen(j) : 0;
        if (!j || n < 2 || j[n - 1] != '}') {
            printf("%s\n", j ? j : "null");
            free(j);
            return;
        }
        tr_sb b = {0};
        tr_sb_put(&b, j, n - 1);
        tr_sb_printf(&b,
                     ",\"production\":{\"predictions\":%lld,\"open\":%lld,\"trades\":%lld,"
                     "\"wins\":%lld,\"reported\":%lld",
                     (long long)prod->predictions, (long long)prod->open, (long long)prod->trades,
                     (long long)prod->wins, (long long)prod->reported);
        json_field(&b, "win_rate", prod->win_rate);
        json_field(&b, "avg_pnl", prod->avg_pnl);
        json_field(&b, "total_pips", prod->total_pips);
        json_field(&b, "sharpe_ratio", prod->sharpe);
        tr_sb_printf(&b, "}}");
        printf("%s\n", b.oom ? "null" : b.p);
        tr_sb_free(&b);
        free(j);
        return;
    }
    char t0[32], t1[32];
    printf("version      %s (%s%s%s)\n", v->version, tr_version_type_name(v->type),
           v->parent[0] ? ", parent " : "", v->parent);
    printf("status       %s%s\n", tr_version_status_name(v->status),
           v->is_active ? ", ACTIVE" : "");
    printf("trained at   %s, as of %s\n",
           v->trained_at ? tr_time_format(v->trained_at, t0, sizeof t0) : "-",
           tr_time_format(v->as_of, t1, sizeof t1));
    printf("data         %s .. ", tr_time_format(v->data_from, t0, sizeof t0));
    printf("%s: %lld / %lld / %lld windows\n", tr_time_format(v->data_to, t1, sizeof t1),
           (long long)v->n_samples[0], (long long)v->n_samples[1], (long long)v->n_samples[2]);
    printf("training     %d epochs (best %d) in %.1f s\n", v->epochs, v->best_epoch, v->seconds);
    printf("class weight hold %.4f buy %.4f sell %.4f\n", v->class_weight[0], v->class_weight[1],
           v->class_weight[2]);
    printf("hyper        %s\n", v->hyper);
    printf("checkpoint   %s (%lld bytes, crc32 %08x)\n", v->checkpoint, (long long)v->ckpt_size,
           (unsigned)v->ckpt_crc);
    if (v->deployed_at)
        printf("deployed at  %s\n", tr_time_format(v->deployed_at, t0, sizeof t0));
    if (v->deprecated_at)
        printf("deprecated   %s: %s\n", tr_time_format(v->deprecated_at, t0, sizeof t0),
               v->deprecation_reason);
    static const char *names[2][3] = {{"train", "validation", "test"},
                                      {"fine-tune data", "-", "gate window"}};
    for (int k = 0; k < 3; k++)
        if (v->figs[k].n)
            print_cls(names[v->type == TR_VT_INCREMENTAL][k], &v->figs[k]);
    print_bt(v->type == TR_VT_INCREMENTAL ? "backtest (gate window)" : "backtest (test part)",
             &v->bt);
    printf("production   %lld signals, %lld open, %lld trades", (long long)prod->predictions,
           (long long)prod->open, (long long)prod->trades);
    if (prod->trades) {
        printf(" (%lld reported): win rate %.4f, avg %.2f pips, total %.1f pips",
               (long long)prod->reported, prod->win_rate, prod->avg_pnl, prod->total_pips);
        if (isfinite(prod->sharpe))
            printf(", Sharpe per trade %.4f", prod->sharpe);
    }
    printf("\n");
}

void tr_cli_print_monitor(int64_t as_of, const tr_monitor_result *r, int json)
{
    char t[32];
    tr_time_format(as_of, t, sizeof t);
    if (json) {
        printf("{\"as_of\":\"%s\",\"skipped\":%s,\"series\":%d,\"walked\":%d,\"signals\":%zu,"
               "\"open_before\":%zu,\"changed\":%zu,\"closed\":%zu,\"open_after\":%zu,"
               "\"seconds\":%.3f}\n",
               t, r->skipped ? "true" : "false", r->n_series, r->n_walked, r->n_signals,
               r->n_open_before, r->n_changed, r->n_closed, r->n_open_after, r->seconds);
        return;
    }
    if (r->skipped) {
        printf("monitor as of %s: skipped (another monitor run holds the lock)\n", t);
        return;
    }
    printf("monitor as of %s: %zu signals in %d series; %zu open before, %zu resolved (%zu "
           "trades closed), %zu open after (%.2f s)\n",
           t, r->n_signals, r->n_series, r->n_open_before, r->n_changed, r->n_closed,
           r->n_open_after, r->seconds);
}

void tr_cli_print_versions(const tr_registry *reg, int json)
{
    if (json) {
        printf("[");
        for (size_t i = 0; i < reg->n_versions; i++) {
            char *j = tr_version_json(&reg->versions[i]);
            printf("%s%s", i ? ",\n" : "\n", j ? j : "null");
            free(j);
        }
        printf("\n]\n");
        return;
    }
    char t0[32];
    printf("%-28s %-11s %-10s %-6s %-20s %8s %8s %7s\n", "version", "type", "status", "active",
           "trained at", "test F1", "gate F1", "trades");
    for (size_t i = 0; i < reg->n_versions; i++) {
        const tr_version *v = &reg->versions[i];
        int inc = v->type == TR_VT_INCREMENTAL;
        char f1[16];
        snprintf(f1, sizeof f1, "%.4f", v->figs[2].macro_f1);
        /* a retired version keeps its record, not its checkpoint: say so rather than show it as
         * completed */
        printf("%-28s %-11s %-10s %-6s %-20s %8s %8s %7lld\n", v->version,
               tr_version_type_name(v->type),
               v->deprecated_at ? "retired" : tr_version_status_name(v->status),
               v->is_active ? "*" : "", tr_time_format(v->trained_at, t0, sizeof t0),
               inc ? "-" : f1, inc ? f1 : "-", (long long)v->bt.trades);
    }
}

void tr_cli_print_activations(const tr_registry *reg, int json)
{
    char t0[32];
    if (json)
        printf("[");
    for (size_t i = 0; i < reg->n_activations; i++) {
        const tr_activation *x = &reg->activations[i];
        if (json) {
            char *j = tr_activation_json(x);
            printf("%s%s", i ? ",\n" : "\n", j ? j : "null");
            free(j);
        } else {
            printf("%3lld %s %-28s -> %-28s %-11s %s\n", (long long)x->id,
                   tr_time_format(x->at, t0, sizeof t0), x->from[0] ? x->from : "(none)", x->to,
                   x->reason, x->evidence);
        }
    }
    if (json)
        printf("\n]\n");
}

void tr_cli_print_log(const tr_registry *reg, int json)
{
    char t0[32];
    if (json)
        printf("[");
    else
        printf("%4s %-11s %-20s %-9s %-28s %-11s %9s %9s  %s\n", "id", "cycle", "as of", "status",
               "version", "verdict", "candidate", "active", "reason / error");
    for (size_t i = 0; i < reg->n_log; i++) {
        const tr_log_row *r = &reg->log[i];
        if (json) {
            char *j = tr_log_row_json(r);
            printf("%s%s", i ? ",\n" : "\n", j ? j : "null");
            free(j);
        } else {
            printf("%4lld %-11s %-20s %-9s %-28s %-11s %9.4f %9.4f  %s\n", (long long)r->id,
                   r->cycle, tr_time_format(r->as_of, t0, sizeof t0), tr_log_status_name(r->status),
                   r->version[0] ? r->version : "-", r->verdict[0] ? r->verdict : "-",
                   r->candidate_value, r->active_value,
                   r->status == TR_LOG_FAILED ? r->error : r->reason);
        }
    }
    if (json)
        printf("\n]\n");
}

/* ---- evaluation and prediction -------------------------------------------------------------- */

void tr_cli_print_eval(const tr_eval_report *r, const char *version, const char *from,
                       const char *to, int64_t f, int64_t t, int backtest, int json)
{
    if (json) {
        printf("{\"version\":\"%s\",\"from\":\"%s\",\"to\":\"%s\"", version, from, to);
        if (!backtest) {
            printf(",\"classification\":");
            json_cls(&r->figs);
        }
        printf(",\"backtest\":");
        json_bt(&r->bt);
        printf(",\"pairs\":{");
        for (int p = 0; p < r->n_pairs; p++) {
            printf("%s\"%s\":", p ? "," : "", r->pairs[p]);
            json_bt(&r->bt_pairs[p]);
        }
        printf("}}\n");
        return;
    }
    char t0[32], t1[32];
    printf("version %s on %s .. %s\n", version, tr_time_format(f, t0, sizeof t0),
           tr_time_format(t, t1, sizeof t1));
    if (!backtest)
        print_cls("classification", &r->figs);
    print_bt("backtest (all pairs)", &r->bt);
    for (int p = 0; p < r->n_pairs; p++) {
        char title[64];
        snprintf(title, sizeof title, "  %s", r->pairs[p]);
        print_bt(title, &r->bt_pairs[p]);
    }
}

void tr_cli_print_prediction(const tr_prediction *p, int recorded, int json)
{
    char t0[32];
    const tr_signal *g = &p->sig;
    if (p->note[0]) /* on standard error: the answer on standard output stays as it was */
        fprintf(stderr, "note: %s\n", p->note);
    if (json)
        printf("{\"pair\":\"%s\",\"bar_time\":\"%s\",\"signal\":\"%s\",\"confidence\":%.6f,"
               "\"probabilities\":{\"hold\":%.6f,\"buy\":%.6f,\"sell\":%.6f},\"version\":\"%s\","
               "\"signal_id\":%lld}\n",
               g->pair, tr_time_format(g->bar_time, t0, sizeof t0), tr_label_name(g->signal),
               g->confidence, g->probs[0], g->probs[1], g->probs[2], g->model_version,
               (long long)g->id);
    else
        printf("%s %s: %s (confidence %.4f; hold %.4f buy %.4f sell %.4f) by %s%s\n", g->pair,
               tr_time_format(g->bar_time, t0, sizeof t0), tr_label_name(g->signal), g->confidence,
               g->probs[0], g->probs[1], g->probs[2], g->model_version,
               recorded ? ", recorded" : "");
}

/* ---- rank, run-due, replay ------------------------------------------------------------------ */

static void rank_json(const tr_rank_opts *o, const tr_rank_result *r)
{
    char t0[32];
    tr_sb rp = {0}, why = {0};
    tr_sb_json_str(&rp, r->report_path);
    tr_sb_json_str(&why, r->skip_reason);
    printf("{\"as_of\":\"%s\",\"method\":\"%s\",\"weights\":[%g,%g,%g,%g],"
           "\"min_trades\":%d,\"window_days\":%d,\"best\":\"%s\",\"active_before\":\"%s\","
           "\"activated\":%s,\"skipped\":%s,\"skip_reason\":%s,\"production_signals\":%lld,"
           "\"production_outcomes\":%lld,\"report\":%s,\"versions\":[",
           tr_time_format(o->as_of, t0, sizeof t0), tr_score_method_name(o->method), o->w.win_rate,
           o->w.sharpe, o->w.avg_pnl, o->w.drawdown, o->min_trades, o->window_days, r->best,
           r->active_before, r->activated ? "true" : "false", r->skipped ? "true" : "false",
           why.p ? why.p : "\"\"", (long long)r->prod_signals_total,
           (long long)r->prod_resolved_total, rp.p ? rp.p : "\"\"");
    for (size_t i = 0; i < r->n; i++) {
        const tr_rank_entry *x = &r->entries[i];
        printf("%s{\"version\":\"%s\",\"type\":\"%s\",\"active\":%s,\"evaluated\":%s,"
               "\"eligible\":%s,\"rank\":%d,\"raw\":",
               i ? "," : "", x->version, tr_version_type_name(x->type),
               x->was_active ? "true" : "false", x->evaluated ? "true" : "false",
               x->eligible ? "true" : "false", x->rank);
        json_num(x->raw);
        printf(",\"rank_score\":");
        json_num(x->norm);
        tr_sb nb = {0};
        tr_sb_json_str(&nb, x->eligible ? "" : x->note);
        printf(",\"note\":%s,\"backtest\":", nb.p ? nb.p : "\"\"");
        tr_sb_free(&nb);
        json_bt(&x->bt);
        printf(",\"production\":{\"signals\":%lld,\"with_outcome\":%lld,\"win_rate\":",
               (long long)x->prod_signals, (long long)x->prod_resolved);
        json_num(x->prod_win_rate);
        printf(",\"avg_pips\":");
        json_num(x->prod_avg_pips);
        printf("}}");
    }
    tr_sb_free(&rp);
    tr_sb_free(&why);
    printf("],\"retired\":[");
    for (size_t i = 0; i < r->n_retired; i++)
        printf("%s\"%s\"", i ? "," : "", r->retired[i]);
    printf("]}\n");
}

void tr_cli_print_rank(const tr_rank_opts *o, const tr_rank_result *r, int json)
{
    if (json) {
        rank_json(o, r);
        return;
    }
    char t0[32];
    printf("rank as of %s (%s score, weights %g/%g/%g/%g, at least %d trades):\n",
           tr_time_format(o->as_of, t0, sizeof t0), tr_score_method_name(o->method), o->w.win_rate,
           o->w.sharpe, o->w.avg_pnl, o->w.drawdown, o->min_trades);
    printf("%4s %-28s %-11s %-6s %6s %8s %8s %8s %8s %9s %9s  %s\n", "rank", "version", "type",
           "active", "trades", "win", "sharpe", "avg pips", "max dd", "raw", "rank sc", "note");
    for (size_t i = 0; i < r->n; i++) {
        const tr_rank_entry *x = &r->entries[i];
        char rk[16], raw[16], nrm[16];
        snprintf(rk, sizeof rk, x->rank ? "%d" : "-", x->rank);
        snprintf(raw, sizeof raw, isfinite(x->raw) ? "%.4f" : "-", x->raw);
        snprintf(nrm, sizeof nrm, isfinite(x->norm) ? "%.4f" : "-", x->norm);
        printf("%4s %-28s %-11s %-6s %6lld %8.4f %8.3f %8.2f %8.4f %9s %9s  %s\n", rk, x->version,
               tr_version_type_name(x->type), x->was_active ? "*" : "", (long long)x->bt.trades,
               x->bt.win_rate, x->bt.sharpe, x->bt.avg_pips, x->bt.max_drawdown, raw, nrm,
               x->eligible ? "" : x->note);
    }
    if (r->prod_resolved_total == 0)
        printf("production: %lld recorded signals in the window, no outcomes recorded\n",
               (long long)r->prod_signals_total);
    else
        printf("production: %lld recorded signals in the window, %lld with outcomes\n",
               (long long)r->prod_signals_total, (long long)r->prod_resolved_total);
    if (r->skipped)
        printf("skipped: %s; active version %s unchanged, nothing retired\n", r->skip_reason,
               r->active_before[0] ? r->active_before : "(none)");
    else if (!r->best[0])
        printf("no eligible version: active version %s unchanged\n",
               r->active_before[0] ? r->active_before : "(none)");
    else if (r->activated)
        printf("activated %s (was %s)\n", r->best,
               r->active_before[0] ? r->active_before : "(none)");
    else
        printf("best eligible version %s is already active: no change\n", r->best);
    printf("retired %zu daily version%s", r->n_retired, r->n_retired == 1 ? "" : "s");
    for (size_t i = 0; i < r->n_retired; i++)
        printf("%s %s", i ? "," : ":", r->retired[i]);
    printf("\nreport: %s\n", r->report_path);
}

/* The items of a run-due (skip_disabled: those run, for run-due --enqueue). */
static void due_items(const tr_due_result *r, int json, int skip_disabled)
{
    char t1[32];
    int k = 0;
    for (int i = 0; i < r->n_items; i++) {
        const tr_due_item *it = &r->items[i];
        if (skip_disabled && it->outcome == TR_RUN_DISABLED)
            continue;
        if (json) {
            printf("%s{\"cycle\":\"%s\",\"scheduled\":\"%s\",\"outcome\":\"%s\",\"attempt\":%d,"
                   "\"version\":\"%s\",\"detail\":",
                   k++ ? "," : "", tr_slot_cycle(it->slot),
                   tr_time_format(it->latest, t1, sizeof t1), tr_run_outcome_name(it->outcome),
                   it->attempt, it->version);
            tr_sb b = {0};
            tr_sb_json_str(&b, it->detail);
            printf("%s}", b.p ? b.p : "\"\"");
            tr_sb_free(&b);
        } else {
            printf("%-11s scheduled %s: %s", tr_slot_cycle(it->slot),
                   tr_time_format(it->latest, t1, sizeof t1), tr_run_outcome_name(it->outcome));
            if (it->outcome == TR_RUN_FAILED || it->outcome == TR_RUN_COMPLETED ||
                it->outcome == TR_RUN_SKIPPED)
                printf(" (attempt %d)", it->attempt);
            if (it->version[0])
                printf(" %s", it->version);
            if (it->detail[0])
                printf(": %s", it->detail);
            printf("\n");
        }
    }
}

void tr_cli_print_due(int64_t as_of, const tr_due_result *r, int json)
{
    if (json) {
        char t0[32];
        printf("{\"as_of\":\"%s\",\"cycles\":[", tr_time_format(as_of, t0, sizeof t0));
    }
    due_items(r, json, 0);
    if (json)
        printf("]}\n");
}

static void enqueue_items(const tr_enqueue_result *r, int json);

void tr_cli_print_due_enqueue(int64_t as_of, const tr_due_result *due, const tr_enqueue_result *enq,
                              int json)
{
    if (json) {
        char t0[32];
        printf("{\"as_of\":\"%s\",\"cycles\":[", tr_time_format(as_of, t0, sizeof t0));
    }
    due_items(due, json, 1);
    if (json)
        printf("],\"enqueued\":%d,\"slots\":[", enq->n_inserted);
    enqueue_items(enq, json);
    if (json)
        printf("]}\n");
}

void tr_cli_print_replay(const tr_replay_opts *o, const tr_replay_result *r, double seconds,
                         int json)
{
    if (json) {
        char t0[32], t1[32];
        tr_sb b = {0};
        tr_sb_printf(&b, "{\"from\":\"%s\",\"to\":\"%s\",\"pairs\":[",
                     tr_time_format(o->from, t0, sizeof t0), tr_time_format(o->to, t1, sizeof t1));
        for (int k = 0; k < o->n_pairs; k++) {
            tr_sb_printf(&b, "%s", k ? "," : "");
            tr_sb_json_str(&b, o->pair[k]);
        }
        tr_sb_printf(&b,
                     "],\"steps\":%zu,\"steps_run\":%zu,\"resumed\":%s,\"signals\":%zu,"
                     "\"seconds\":%.3f,\"report\":",
                     r->n_steps, r->n_steps_run, r->resumed ? "true" : "false", r->n_signals,
                     seconds);
        tr_sb_json_str(&b, r->report_path);
        tr_sb_printf(&b, ",\"timeline_markdown\":");
        tr_sb_json_str(&b, r->timeline ? r->timeline : "");
        tr_sb_printf(&b, "}\n");
        if (b.oom)
            tr_cli_error(EXIT_NOMEM, "out of memory");
        else
            fputs(b.p, stdout);
        tr_sb_free(&b);
        return;
    }
    fputs(r->timeline, stdout);
    printf("\nreport: %s\nreplay: %zu steps (%zu run now%s), %zu signals, %.1f s\n", r->report_path,
           r->n_steps, r->n_steps_run, r->resumed ? ", resumed" : "", r->n_signals, seconds);
}

/* ---- A/B tests ------------------------------------------------------------------------------ */

void tr_cli_print_ab_started(const tr_ab_test *t, int json)
{
    if (json) {
        char *j = tr_ab_test_json(t);
        printf("%s\n", j ? j : "null");
        free(j);
        return;
    }
    char a1[32];
    printf("started A/B test %s: %s (A) vs %s (B) on %s, %.0f%% of bars to B, "
           "seed %016" PRIx64 ", until %s%s\n",
           t->id, t->version_a, t->version_b, t->pairs[0] ? t->pairs : "every pair", 100 * t->split,
           t->seed, tr_time_format(t->planned_end, a1, sizeof a1),
           t->min_trades ? " or the planned trades per arm" : "");
}

void tr_cli_print_ab_tests(const tr_registry *reg, int json)
{
    if (json) {
        printf("[");
        for (size_t i = 0; i < reg->n_abtests; i++) {
            char *j = tr_ab_test_json(&reg->abtests[i]);
            printf("%s%s", i ? "," : "", j ? j : "null");
            free(j);
        }
        printf("]\n");
        return;
    }
    if (reg->n_abtests == 0) {
        printf("no A/B test in the store\n");
        return;
    }
    printf("%-6s %-22s %-22s %-14s %-9s %-17s %-17s %5s %9s %9s  %s\n", "id", "A", "B", "pairs",
           "status", "started", "planned end", "looks", "pred A", "pred B", "verdict");
    for (size_t i = 0; i < reg->n_abtests; i++) {
        const tr_ab_test *t = &reg->abtests[i];
        char a[32], b[32];
        tr_time_format(t->started_at, a, sizeof a);
        tr_time_format(t->planned_end, b, sizeof b);
        printf("%-6s %-22s %-22s %-14s %-9s %-17.16s %-17.16s %5d %9lld %9lld  %s%s%s\n", t->id,
               t->version_a, t->version_b, t->pairs[0] ? t->pairs : "all",
               tr_ab_status_name(t->status), a, b, t->n_looks, (long long)t->n_pred_a,
               (long long)t->n_pred_b, t->verdict[0] ? t->verdict : "-",
               t->end_reason[0] ? " " : "", t->end_reason);
    }
}

/* The statistics of r that its analysis could not compute, as undefined (NAN: "-" in Markdown,
 * null in JSON). The analysis (cycles/abtest.c) leaves them 0 when it had no look yet or
 * tr_ab_decide refused: a p of 0 would read as significant. */
static void ab_undefined_stats(tr_ab_report *r)
{
    tr_ab_verdict *v = &r->v;
    if (!r->stats_ok) {
        v->z.ok = v->t.ok = 0;
        v->z_welch = v->boundary = v->n_props = v->n_means = NAN;
        v->sharpe_a = tr_ab_arm_sharpe(&r->arm[0]);
        v->sharpe_b = tr_ab_arm_sharpe(&r->arm[1]);
    }
    if (!v->z.ok)
        v->z.z = v->z.p = NAN;
    if (!v->t.ok)
        v->t.t = v->t.df = v->t.p = v->t.diff = v->t.se = NAN;
}

int tr_cli_print_ab_report(const tr_ab_report *r, int json)
{
    tr_ab_report *c = malloc(sizeof *c);
    if (!c)
        return tr_cli_error(EXIT_NOMEM, "out of memory");
    *c = *r;
    ab_undefined_stats(c);
    char *text = json ? tr_ab_report_json(c) : tr_ab_report_markdown(c);
    free(c);
    if (!text)
        return tr_cli_error(EXIT_NOMEM, "out of memory");
    fputs(text, stdout);
    if (json)
        fputc('\n', stdout);
    free(text);
    return EXIT_OK;
}

/* ---- the job queue ------------------------------------------------------------------------- */

static void enqueue_items(const tr_enqueue_result *r, int json)
{
    for (int i = 0; i < r->n_items; i++) {
        char t1[32];
        const tr_enqueue_item *it = &r->items[i];
        const char *what = it->due < 0                 ? "disabled"
                           : it->due == TR_DUE_NO      ? "not_due"
                           : it->due == TR_DUE_GAVE_UP ? "gave_up"
                           : it->inserted              ? "enqueued"
                                                       : "queued_already";
        tr_time_format(it->latest, t1, sizeof t1);
        /* the family's name first when several are listed or it is not the default */
        int named = strcmp(r->items[0].family, r->items[r->n_items - 1].family) != 0 ||
                    strcmp(it->family, "default") != 0;
        if (json)
            printf("%s{\"family\":\"%s\",\"cycle\":\"%s\",\"scheduled\":\"%s\",\"outcome\":"
                   "\"%s\",\"job\":%lld}",
                   i ? "," : "", it->family, tr_slot_cycle(it->slot), t1, what, (long long)it->id);
        else if (it->id)
            printf("%s%s%-11s scheduled %s: %s (job %lld)\n", named ? it->family : "",
                   named ? " " : "", tr_slot_cycle(it->slot), t1, what, (long long)it->id);
        else
            printf("%s%s%-11s scheduled %s: %s\n", named ? it->family : "", named ? " " : "",
                   tr_slot_cycle(it->slot), t1, what);
    }
}

void tr_cli_print_enqueue(int64_t as_of, const tr_enqueue_result *r, int json)
{
    if (json) {
        char t0[32];
        printf("{\"as_of\":\"%s\",\"enqueued\":%d,\"slots\":[",
               tr_time_format(as_of, t0, sizeof t0), r->n_inserted);
    }
    enqueue_items(r, json);
    if (json)
        printf("]}\n");
}

static void job_json(tr_sb *b, const tr_job *j)
{
    char t[5][32];
    tr_sb_printf(b, "{\"id\":%lld,\"family\":", (long long)j->id);
    tr_sb_json_str(b, j->family);
    tr_sb_printf(b, ",\"cycle\":");
    tr_sb_json_str(b, j->cycle);
    tr_sb_printf(b,
                 ",\"slot_time\":\"%s\",\"state\":\"%s\",\"attempts\":%d,\"max_attempts\":%d,"
                 "\"run_after\":\"%s\",\"lease\":%lld,\"leased_until\":",
                 tr_time_format(j->slot_time, t[0], sizeof t[0]), tr_job_state_name(j->state),
                 j->attempts, j->max_attempts, tr_time_format(j->run_after, t[1], sizeof t[1]),
                 (long long)j->lease);
    if (j->leased_until)
        tr_sb_printf(b, "\"%s\"", tr_time_format(j->leased_until, t[2], sizeof t[2]));
    else
        tr_sb_printf(b, "null");
    tr_sb_printf(b, ",\"leased_by\":");
    tr_sb_json_str(b, j->leased_by);
    tr_sb_printf(b, ",\"last_error\":");
    tr_sb_json_str(b, j->last_error);
    tr_sb_printf(b, ",\"created_at\":\"%s\",\"finished_at\":",
                 tr_time_format(j->created_at, t[3], sizeof t[3]));
    if (j->finished_at)
        tr_sb_printf(b, "\"%s\"", tr_time_format(j->finished_at, t[4], sizeof t[4]));
    else
        tr_sb_printf(b, "null");
    tr_sb_printf(b, ",\"result\":");
    tr_sb_json_str(b, j->result);
    tr_sb_printf(b, "}");
}

static void put_sb(tr_sb *b)
{
    if (b->oom)
        tr_cli_error(EXIT_NOMEM, "out of memory");
    else if (b->p)
        fputs(b->p, stdout);
    tr_sb_free(b);
}

void tr_cli_print_worker_job(const tr_worker_result *r, int json)
{
    const tr_job *j = &r->job;
    const char *end = r->lost ? "lost" : tr_job_state_name(r->state);
    tr_sb b = {0};
    if (json) {
        tr_sb_printf(&b, "{\"job\":");
        job_json(&b, j);
        tr_sb_printf(&b, ",\"outcome\":\"%s\",\"end\":\"%s\",\"detail\":",
                     tr_run_outcome_name(r->outcome), end);
        tr_sb_json_str(&b, r->detail);
        tr_sb_printf(&b, "}\n");
    } else {
        char t[32];
        tr_sb_printf(&b, "job %lld %s %s attempt %d: %s (%s)", (long long)j->id, j->cycle,
                     tr_time_format(j->slot_time, t, sizeof t), j->attempts, end,
                     tr_run_outcome_name(r->outcome));
        tr_sb_printf(&b, "%s%s\n", r->detail[0] ? ": " : "", r->detail);
    }
    put_sb(&b);
    fflush(stdout);
}

void tr_cli_print_jobs(const tr_job *list, size_t n, int json)
{
    tr_sb b = {0};
    char t[32];
    if (json)
        tr_sb_printf(&b, "[");
    else if (n == 0)
        tr_sb_printf(&b, "no jobs\n");
    else
        tr_sb_printf(&b, "%-6s %-8s %-11s %-20s %-8s %-8s %s\n", "id", "family", "cycle", "slot",
                     "state", "attempts", "result or last error");
    for (size_t i = 0; i < n; i++) {
        const tr_job *j = &list[i];
        if (json) {
            tr_sb_printf(&b, "%s", i ? "," : "");
            job_json(&b, j);
            continue;
        }
        char att[24];
        snprintf(att, sizeof att, "%d/%d", j->attempts, j->max_attempts);
        tr_sb_printf(&b, "%-6lld %-8s %-11s %-20s %-8s %-8s %s\n", (long long)j->id, j->family,
                     j->cycle, tr_time_format(j->slot_time, t, sizeof t),
                     tr_job_state_name(j->state), att,
                     j->state == TR_JOB_DONE ? j->result : j->last_error);
    }
    if (json)
        tr_sb_printf(&b, "]\n");
    put_sb(&b);
}

void tr_cli_print_job(const tr_job *j, int json)
{
    tr_sb b = {0};
    if (json) {
        job_json(&b, j);
        tr_sb_printf(&b, "\n");
        put_sb(&b);
        return;
    }
    char t[32];
    tr_sb_printf(&b, "job %lld: %s %s (family %s)\n", (long long)j->id, j->cycle,
                 tr_time_format(j->slot_time, t, sizeof t), j->family);
    tr_sb_printf(&b, "  state        %s\n", tr_job_state_name(j->state));
    tr_sb_printf(&b, "  attempts     %d of %d\n", j->attempts, j->max_attempts);
    tr_sb_printf(&b, "  run after    %s\n", tr_time_format(j->run_after, t, sizeof t));
    tr_sb_printf(&b, "  lease        generation %lld", (long long)j->lease);
    if (j->leased_until)
        tr_sb_printf(&b, ", held by %s until %s", j->leased_by,
                     tr_time_format(j->leased_until, t, sizeof t));
    tr_sb_printf(&b, "\n  created      %s\n", tr_time_format(j->created_at, t, sizeof t));
    if (j->finished_at)
        tr_sb_printf(&b, "  finished     %s\n", tr_time_format(j->finished_at, t, sizeof t));
    if (j->result[0])
        tr_sb_printf(&b, "  result       %s\n", j->result);
    if (j->last_error[0])
        tr_sb_printf(&b, "  last error   %s\n", j->last_error);
    put_sb(&b);
}

/* ---- model families ------------------------------------------------------------------------ */

static void family_json(tr_sb *b, const tr_family *f)
{
    char tf[16];
    tr_sb_printf(b, "{\"name\":");
    tr_sb_json_str(b, f->name);
    tr_sb_printf(b, ",\"pairs\":[");
    for (int i = 0; i < f->n_pairs; i++) {
        tr_sb_printf(b, "%s", i ? "," : "");
        tr_sb_json_str(b, f->pairs[i]);
    }
    tr_sb_printf(b, "],\"timeframe\":\"%s\",\"scale\":%d,\"created_at\":",
                 tr_timeframe_name(tr_family_timeframe(f), tf, sizeof tf), tr_family_scale(f));
    if (f->created_at) {
        char t[32];
        tr_sb_printf(b, "\"%s\"", tr_time_format(f->created_at, t, sizeof t));
    } else
        tr_sb_printf(b, "null");
    char def[TR_FAMILY_TEXT_MAX];
    tr_family_format(f, def, sizeof def);
    tr_sb_printf(b, ",\"definition\":");
    tr_sb_json_str(b, def);
    tr_sb_printf(b, "}");
}

void tr_cli_print_family(const tr_family *f, int json)
{
    tr_sb b = {0};
    if (json) {
        family_json(&b, f);
        tr_sb_printf(&b, "\n");
    } else {
        char def[TR_FAMILY_TEXT_MAX];
        tr_family_format(f, def, sizeof def);
        tr_sb_printf(&b, "%s", def);
        tr_sb_printf(&b, "# windows stated in time are %d x as long as at 15m\n",
                     tr_family_scale(f));
    }
    put_sb(&b);
}

void tr_cli_print_families(const tr_family *list, size_t n, int json)
{
    tr_sb b = {0};
    if (json)
        tr_sb_printf(&b, "[");
    for (size_t i = 0; i < n; i++) {
        const tr_family *f = &list[i];
        if (json) {
            tr_sb_printf(&b, "%s", i ? "," : "");
            family_json(&b, f);
            continue;
        }
        char tf[16];
        tr_sb_printf(&b, "%-20s %-4s ", f->name,
                     tr_timeframe_name(tr_family_timeframe(f), tf, sizeof tf));
        if (!f->n_pairs)
            tr_sb_printf(&b, "all pairs");
        for (int k = 0; k < f->n_pairs; k++)
            tr_sb_printf(&b, "%s%s", k ? "," : "", f->pairs[k]);
        tr_sb_printf(&b, "\n");
    }
    if (json)
        tr_sb_printf(&b, "]\n");
    else if (!n)
        tr_sb_printf(&b, "no family defined besides 'default' (aifx-train family add)\n");
    put_sb(&b);
}
