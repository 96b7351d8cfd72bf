/*
 * fuzz_serve.c - libFuzzer target for aifx-serve's request handling (serve_handle, serve.h):
 * any request must be answered with a well-formed response, never crash, leak or read out of
 * bounds. The handler runs without libmicrohttpd, as the server's worker threads call it.
 *
 * Once, at start: a directory store in a temporary directory with 1,200 synthetic 15-minute
 * bars of EURUSD (market/synth.h) and a tiny untrained model (H 4) registered and active as
 * v1.0, so that predictions, the registry and A/B tests have something to work on.
 *
 * An input is split as
 *     [!]METHOD SP TARGET LF BODY
 * where a leading '!' adds the right bearer token (without it POSTs meet the token check),
 * TARGET is a path with an optional ?query (k=v pairs split on & and =, not decoded), and the
 * rest is the body. An input without a line feed is all target, with method GET.
 * Checked on every response: a status in 200..599, a body that is one JSON object ending in a
 * new line (or the metrics' text), and for an error status the {"error": {...}} shape.
 *
 * Build and run: scripts/fuzz.sh (clang -fsanitize=fuzzer,address,undefined over aifxcore's
 * sources, serve/ without main.c and http.c, and this file).
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aifxnn.h"
#include "base/timeutil.h"
#include "data/models.h"
#include "market/synth.h"
#include "serve/serve.h"
#include "store/store.h"

#define TOKEN "fuzz-token"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static serve_ctx *ctx;
static char store_dir[64];

/* The server's event log (main.c's) is not linked: events are dropped. */
void serve_log_event(const char *event, const char *version, const char *message)
{
    (void)event;
    (void)version;
    (void)message;
}

static void die(const char *what, const tr_error *e)
{
    fprintf(stderr, "fuzz_serve: %s: %s\n", what, e ? e->msg : "");
    abort();
}

static char tmp_dir[48];

static void remove_store(void)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_serve: could not remove %s\n", tmp_dir);
}

static void make_store(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/aifx-fuzz-serve-XXXXXX");
    if (!mkdtemp(tmp_dir))
        die("mkdtemp", NULL);
    atexit(remove_store);
    snprintf(store_dir, sizeof store_dir, "%s/s", tmp_dir);
    tr_error e;
    tr_error_clear(&e);
    tr_store *st;
    tr_store_options so = {.create = 1};
    if (tr_store_open(store_dir, &so, &st, &e))
        die("store", &e);
    int64_t from, to;
    tr_time_parse("2024-01-01", 10, 0, &from);
    tr_time_parse("2024-01-20", 10, 0, &to);
    tr_synth_params p = tr_synth_params_default("EURUSD", from, to, 7);
    tr_bars bars = {0};
    if (tr_synth_generate(&p, &bars, NULL, &e) ||
        tr_store_bars_put(st, "EURUSD", 900, bars.v, bars.n, 0, NULL, &e))
        die("bars", &e);
    tr_bars_free(&bars);
    aifx_model_config mc = aifx_model_config_default();
    mc.n_hidden = 4;
    aifx_model *m;
    if (aifx_model_new(&mc, &m) != AIFX_OK)
        die("model", NULL);
    tr_version *v = calloc(1, sizeof *v);
    if (!v)
        die("oom", NULL);
    snprintf(v->version, sizeof v->version, "v1.0");
    v->type = TR_VT_FULL;
    v->status = TR_VS_COMPLETED;
    v->trained_at = v->as_of = to;
    if (tr_checkpoint_save_verified(st, m, v, &e))
        die("checkpoint", &e);
    tr_activation act;
    memset(&act, 0, sizeof act);
    snprintf(act.to, sizeof act.to, "v1.0");
    snprintf(act.reason, sizeof act.reason, "first_model");
    tr_reg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.put = v;
    txn.n_put = 1;
    txn.activate = &act;
    txn.now = to;
    if (tr_store_registry_commit(st, &txn, &e))
        die("registry", &e);
    free(v);
    aifx_model_free(m);
    tr_store_close(st);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    make_store();
    static serve_config cfg;
    cfg.store = store_dir;
    cfg.timeframe = 900;
    cfg.token = TOKEN;
    cfg.max_body = 1 << 16;
    cfg.model_cache = 2;
    ctx = serve_ctx_new(&cfg);
    if (!ctx)
        die("context", NULL);
    return 0;
}

static void check(const serve_response *res)
{
    if (res->status < 200 || res->status > 599 || !res->body || res->len == 0 ||
        res->body[res->len - 1] != '\n')
        abort();
    if (res->content_type && strncmp(res->content_type, "text/plain", 10) == 0)
        return;
    json_error_t je;
    json_t *j = json_loadb(res->body, res->len, 0, &je);
    if (!json_is_object(j))
        abort();
    if (res->status >= 400) {
        json_t *err = json_object_get(j, "error");
        if (!json_is_string(json_object_get(err, "code")) ||
            !json_is_string(json_object_get(err, "message")) || !json_object_get(err, "field"))
            abort();
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    const char *nl = memchr(in, '\n', size);
    char *line = in;
    size_t line_len = nl ? (size_t)(nl - in) : size;
    line[line_len] = '\0'; /* NULs inside the line simply end it early */
    const char *body = nl ? nl + 1 : NULL;
    size_t body_len = nl ? size - line_len - 1 : 0;
    int auth = line[0] == '!';
    if (auth)
        line++;
    const char *method = "GET";
    char *target = line, *sp = strchr(line, ' ');
    if (nl && sp) {
        *sp = '\0';
        method = line;
        target = sp + 1;
    }
    serve_kv q[16];
    size_t nq = 0;
    char *qs = strchr(target, '?');
    if (qs) {
        *qs++ = '\0';
        for (char *save = NULL, *kv = strtok_r(qs, "&", &save); kv && nq < 16;
             kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            if (eq)
                *eq++ = '\0';
            q[nq++] = (serve_kv){kv, eq};
        }
    }
    serve_request req = {
        .method = method,
        .path = target,
        .query = q,
        .n_query = nq,
        .authorization = auth ? "Bearer " TOKEN : NULL,
        .body = body_len ? body : NULL,
        .body_len = body_len,
        .body_too_large = body_len > 60000,
    };
    serve_response res;
    serve_handle(ctx, &req, &res);
    check(&res);
    free(res.body);
    free(in);
    return 0;
}
