/* evalset.c - one window's dataset shared by the evaluations of many versions (evalset.h). The
 * per-version part repeats tr_evaluate_version's steps after its dataset (data/eval.c). */
#include "data/evalset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/models.h"

tr_code tr_eval_set_build(tr_store *store, int32_t timeframe, int64_t from, int64_t to,
                          int label_kind, tr_eval_set *out, tr_error *err)
{
    memset(out, 0, sizeof *out);
    out->timeframe = timeframe;
    out->from = from;
    out->to = to;
    out->label_kind = label_kind;
    tr_code rc = tr_store_pairs(store, timeframe, out->pairs, 8, &out->n_pairs, err);
    if (rc)
        return rc;
    const char *pp[8];
    for (int i = 0; i < out->n_pairs; i++)
        pp[i] = out->pairs[i];
    tr_dataset_options d = tr_dataset_options_default();
    d.from = from;
    d.to = to;
    d.no_split = 1;
    d.label.kind = label_kind;
    rc = tr_dataset_build(store, pp, out->n_pairs, timeframe, &d, &out->ds, err);
    if (!rc)
        rc = tr_rows_make(out->ds, &out->rows, err);
    if (rc)
        tr_eval_set_free(out);
    return rc;
}

void tr_eval_set_free(tr_eval_set *set)
{
    if (!set)
        return;
    tr_rows_free(&set->rows);
    tr_dataset_free(set->ds);
    set->ds = NULL;
}

tr_code tr_eval_set_version(const tr_eval_set *set, tr_store *store, const tr_version *v,
                            tr_eval_report *out, tr_equity *equity, tr_error *err)
{
    memset(out, 0, sizeof *out);
    if (equity)
        memset(equity, 0, sizeof *equity);
    snprintf(out->version, sizeof out->version, "%s", v->version);
    out->from = set->from;
    out->to = set->to;
    if (!set->ds || tr_hyper_label_kind(v->hyper) != set->label_kind)
        return tr_fail(err, TR_ERR_INVALID, "version %s: not the label kind of the set",
                       v->version);
    out->n_pairs = set->n_pairs;
    memcpy(out->pairs, set->pairs, sizeof out->pairs);
    const tr_dataset *ds = set->ds;
    aifx_model *m = NULL;
    tr_code rc = tr_checkpoint_load(store, v, &m, err);
    if (!rc)
        rc = tr_score_windows(m, v, ds, &set->rows, NULL, out, equity, err);
    aifx_model_free(m);
    return rc;
}
