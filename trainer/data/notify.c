/*
 * notify.c - the sender of notifications (notify.h): sinks and their config, the message of each
 * event kind in each sink's format, one HTTP POST with libcurl, and the delivery loop over the
 * store's outbox with retries, backoff and the call's time budget.
 *
 * Formats (conventions: Discord Execute Webhook, Slack incoming webhooks):
 *   discord  {"content": one line, "embeds": [{title, description, color, fields, timestamp,
 *            footer}]}, posted to the URL with ?wait=true (so that a message Discord did not
 *            save is an error, not a silent 204); a monthly_report whose report file exists goes
 *            as multipart/form-data: part payload_json (the same JSON plus "attachments"), part
 *            files[0] the report's Markdown, files[1..] the PNG pictures it links (at most 9,
 *            each under 8 MiB).
 *   slack    {"text": one line, "blocks": [a section with the details in mrkdwn]}.
 *   json     the event as is: {"id", "kind", "created_at", "payload"}.
 *
 * At about 930 lines it is over the trainer's usual 800: its four parts share the sink and
 * message structures, which no other file needs, and each part is short; the message formats
 * (about 300 lines) are the first to move to a file of their own if it grows.
 */
#define _POSIX_C_SOURCE 200809L

#include "data/notify.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aifxnn.h" /* aifx_version_string */
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

static const char *const kind_names[] = {"discord", "slack", "json"};

/* ---- sinks and their config --------------------------------------------------------------- */

void tr_notify_config_default(tr_notify_config *c)
{
    memset(c, 0, sizeof *c);
    c->connect_timeout = 5;
    c->timeout = 15;
    c->retry_base = 2;
    c->retry_max = 3600;
    c->give_up = 86400;
    c->backlog = 86400;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* 1 when a path segment may be shown: a well-known public part of webhook URLs. */
static int public_segment(const char *s, size_t n)
{
    static const char *const known[] = {"api", "webhooks", "services", "hooks"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i]) == n && memcmp(s, known[i], n) == 0)
            return 1;
    if (n >= 2 && n <= 4 && s[0] == 'v') { /* an API version: v10 */
        for (size_t i = 1; i < n; i++)
            if (s[i] < '0' || s[i] > '9')
                return 0;
        return 1;
    }
    return 0;
}

void tr_notify_redact(const char *kind, const char *url, char *out, size_t size)
{
    tr_sb b = {0};
    tr_sb_printf(&b, "%s:", kind);
    const char *p = strstr(url, "://");
    if (!p) {
        tr_sb_printf(&b, "***");
    } else {
        tr_sb_put(&b, url, (size_t)(p - url) + 3);
        const char *auth = p + 3;
        size_t al = strcspn(auth, "/?#");
        const char *at = memchr(auth, '@', al); /* user info: dropped */
        const char *host = at ? at + 1 : auth;
        tr_sb_put(&b, host, (size_t)(auth + al - host));
        tr_sb_put(&b, "/", 1);
        const char *path = auth + al;
        while (*path == '/') {
            const char *seg = path + 1;
            size_t n = strcspn(seg, "/?#");
            if (!public_segment(seg, n) || seg[n] != '/')
                break;
            tr_sb_put(&b, seg, n + 1);
            path = seg + n;
        }
        tr_sb_printf(&b, "***");
    }
    snprintf(out, size, "%s", b.p && !b.oom ? b.p : "***");
    tr_sb_free(&b);
}

tr_code tr_notify_add_sink(tr_notify_config *c, const char *spec, const char *name, tr_error *err)
{
    const char *eq = strchr(spec, '=');
    size_t kl = eq ? (size_t)(eq - spec) : strlen(spec);
    int kind = -1;
    for (int k = 0; k < 3; k++)
        if (strlen(kind_names[k]) == kl && memcmp(spec, kind_names[k], kl) == 0)
            kind = k;
    if (kind < 0)
        return tr_fail(err, TR_ERR_INVALID,
                       "bad sink '%.*s': give KIND=URL with KIND discord, slack or json",
                       (int)(kl > 20 ? 20 : kl), spec);
    const char *url = eq + 1;
    if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
        strlen(url) >= TR_NOTIFY_URL_MAX || strpbrk(url, " \t\r\n"))
        return tr_fail(err, TR_ERR_INVALID,
                       "bad %s sink URL: an http:// or https:// URL without blanks, under %d bytes",
                       kind_names[kind], TR_NOTIFY_URL_MAX);
    if (c->n_sinks >= TR_NOTIFY_SINKS_MAX)
        return tr_fail(err, TR_ERR_INVALID, "more than %d sinks", TR_NOTIFY_SINKS_MAX);
    tr_notify_sink *s = &c->sinks[c->n_sinks];
    memset(s, 0, sizeof *s);
    s->kind = (tr_sink_kind)kind;
    snprintf(s->url, sizeof s->url, "%s", url);
    tr_notify_redact(kind_names[kind], url, s->safe, sizeof s->safe);
    if (name && name[0]) {
        if (!tr_outbox_sink_valid(name))
            return tr_fail(err, TR_ERR_INVALID,
                           "bad sink name '%.63s' (1-63 characters a-z 0-9 _ -)", name);
        snprintf(s->id, sizeof s->id, "%s", name);
    } else {
        snprintf(s->id, sizeof s->id, "%s-%016llx", kind_names[kind],
                 (unsigned long long)fnv1a(url));
    }
    for (int i = 0; i < c->n_sinks; i++)
        if (strcmp(c->sinks[i].id, s->id) == 0)
            return tr_fail(err, TR_ERR_CONFLICT, "two sinks named %s (%s)", s->id, s->safe);
    c->n_sinks++;
    return TR_OK;
}

tr_code tr_notify_config_load(tr_notify_config *c, const char *path, tr_error *err)
{
    char *text;
    size_t len;
    tr_code rc = tr_file_read(path, &text, &len, err);
    if (rc)
        return rc;
    int line = 0;
    for (char *p = text; !rc && p < text + len;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        line++;
        char *hash = strchr(p, '#');
        if (hash)
            *hash = '\0';
        char *tok[3];
        int nt = 0;
        for (char *t = strtok(p, " \t\r"); t && nt < 3; t = strtok(NULL, " \t\r"))
            tok[nt++] = t;
        p = nl ? nl + 1 : text + len;
        if (nt == 0)
            continue;
        static const char *const keys[] = {"connect_timeout", "timeout", "retry_base",
                                           "retry_max",       "give_up", "backlog"};
        int key = -1;
        size_t kl = strcspn(tok[0], "=");
        for (int k = 0; k < 6; k++)
            if (strlen(keys[k]) == kl && strncmp(tok[0], keys[k], kl) == 0)
                key = k;
        if (key >= 0 && nt == 1 && tok[0][kl] == '=') {
            char *end;
            double v = strtod(tok[0] + kl + 1, &end);
            if (end == tok[0] + kl + 1 || *end || !isfinite(v) || (key != 5 && v <= 0) || v > 1e9) {
                rc = tr_fail(err, TR_ERR_INVALID, "%s:%d: bad value of %s", path, line, keys[key]);
                break;
            }
            double *d[] = {&c->connect_timeout, &c->timeout, &c->retry_base, &c->retry_max,
                           &c->give_up};
            if (key == 5)
                c->backlog = v < 0 ? -1 : (int64_t)v;
            else
                *d[key] = v;
            continue;
        }
        const char *name = NULL;
        if (nt == 2 && strncmp(tok[1], "name=", 5) == 0)
            name = tok[1] + 5;
        else if (nt != 1) {
            rc = tr_fail(err, TR_ERR_INVALID, "%s:%d: expected KIND=URL [name=NAME] or KEY=VALUE",
                         path, line);
            break;
        }
        rc = tr_notify_add_sink(c, tok[0], name, err);
        if (rc) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            rc = tr_fail(err, rc, "%s:%d: %s", path, line, msg);
        }
    }
    free(text);
    return rc;
}

/* ---- reading a payload: the top-level members of a JSON object -------------------------- */

/* Skips one JSON value at p; returns the character after it (or NULL when malformed). */
static const char *skip_value(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && p[1])
                p++;
        return *p ? p + 1 : NULL;
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        for (; *p; p++) {
            if (*p == '"') {
                p = skip_value(p);
                if (!p)
                    return NULL;
                p--;
            } else if (*p == '{' || *p == '[') {
                depth++;
            } else if (*p == '}' || *p == ']') {
                if (--depth == 0)
                    return p + 1;
            }
        }
        return NULL;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']')
        p++;
    return p;
}

/* The member key of the object obj: a string unescaped (\n, \", \\, \/, \uXXXX below 0x80), any
 * other value as its text ("null", "0.5", "{...}") into out. 0, or -1 when absent. */
static int jget(const char *obj, const char *key, char *out, size_t size)
{
    const char *p = strchr(obj, '{');
    if (!p)
        return -1;
    p++;
    size_t kl = strlen(key);
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\n' || *p == '\t' || *p == '\r')
            p++;
        if (*p != '"')
            return -1;
        const char *k = p + 1;
        const char *ke = skip_value(p);
        if (!ke)
            return -1;
        int match = (size_t)(ke - 1 - k) == kl && memcmp(k, key, kl) == 0;
        p = ke;
        while (*p == ' ' || *p == ':')
            p++;
        const char *v = p, *ve = skip_value(p);
        if (!ve)
            return -1;
        if (match) {
            size_t o = 0;
            if (*v == '"') {
                for (const char *q = v + 1; q < ve - 1 && o + 1 < size; q++) {
                    char ch = *q;
                    if (ch == '\\' && q + 1 < ve - 1) {
                        q++;
                        ch = *q == 'n' ? '\n' : *q == 't' ? '\t' : *q;
                        if (*q == 'u' && q + 4 < ve - 1) {
                            unsigned u = 0;
                            if (sscanf(q + 1, "%4x", &u) == 1)
                                ch = u < 0x80 ? (char)u : '?';
                            q += 4;
                        }
                    }
                    out[o++] = ch;
                }
            } else {
                while (v < ve && o + 1 < size)
                    out[o++] = *v++;
            }
            out[o] = '\0';
            return 0;
        }
        p = ve;
    }
}

/* A member as text, "" when absent or null. */
static const char *jstr(const char *obj, const char *key, char *buf, size_t size)
{
    if (jget(obj, key, buf, size) || strcmp(buf, "null") == 0)
        buf[0] = '\0';
    return buf;
}

/* A member as a number, NaN when absent or not a number. */
static double jnum(const char *obj, const char *key)
{
    char buf[64];
    char *end;
    if (jget(obj, key, buf, sizeof buf))
        return NAN;
    double v = strtod(buf, &end);
    return end == buf ? NAN : v;
}

/* ---- the message of an event -------------------------------------------------------------- */

typedef struct message {
    char title[256];
    char line[512];    /* the one-line summary: content, text */
    tr_sb details;     /* Markdown lines */
    unsigned color;    /* Discord embed colour */
    char report[1024]; /* monthly_report: the report's path, "" for none */
} message;

/* v with decimals digits, times 100 with a % when pct; "n/a" when not a number. */
static void fmt_num(char *out, size_t size, double v, int decimals, int pct)
{
    if (isfinite(v))
        snprintf(out, size, "%.*f%s", decimals, pct ? v * 100 : v, pct ? "%" : "");
    else
        snprintf(out, size, "n/a");
}

static void build_message(const tr_outbox_event *ev, message *m)
{
    const char *pl = ev->payload;
    char a[256], b[256], c[256], d[1100], x[64];
    memset(m, 0, sizeof *m);
    m->color = 0x95a5a6;
    if (strcmp(ev->kind, "training_completed") == 0) {
        char test[512], bt[512], y[64], z[64];
        jstr(pl, "test", test, sizeof test);
        jstr(pl, "backtest", bt, sizeof bt);
        jstr(pl, "version", a, sizeof a);
        jstr(pl, "cycle", b, sizeof b);
        jstr(pl, "verdict", c, sizeof c);
        int activated = jget(pl, "activated", d, sizeof d) == 0 && strcmp(d, "true") == 0;
        m->color = 0x2ecc71;
        snprintf(m->title, sizeof m->title, "Training completed: %.60s", a);
        fmt_num(x, sizeof x, jnum(test, "macro_f1"), 3, 0);
        fmt_num(y, sizeof y, jnum(bt, "win_rate"), 1, 1);
        fmt_num(z, sizeof z, jnum(bt, "total_pips"), 1, 0);
        snprintf(m->line, sizeof m->line,
                 "Training completed: %.60s (%.20s), test macro-F1 %.20s, backtest %.20s pips, win "
                 "rate %.20s%s%.30s%s",
                 a, b, x, z, y, c[0] ? ", " : "", c, activated ? ", activated" : "");
        tr_sb_printf(&m->details, "**Version** %s (%s cycle)\n", a, b);
        fmt_num(x, sizeof x, jnum(test, "accuracy"), 3, 0);
        fmt_num(y, sizeof y, jnum(test, "macro_f1"), 3, 0);
        tr_sb_printf(&m->details, "**Test** accuracy %s, macro-F1 %s\n", x, y);
        fmt_num(x, sizeof x, jnum(bt, "trades"), 0, 0);
        fmt_num(y, sizeof y, jnum(bt, "sharpe"), 2, 0);
        fmt_num(z, sizeof z, jnum(bt, "max_drawdown"), 1, 1);
        tr_sb_printf(&m->details, "**Backtest** %s trades, Sharpe %s, max drawdown %s\n", x, y, z);
        if (c[0])
            tr_sb_printf(&m->details, "**Verdict** %s%s\n", c, activated ? " (activated)" : "");
    } else if (strcmp(ev->kind, "training_failed") == 0) {
        jstr(pl, "cycle", a, sizeof a);
        jstr(pl, "as_of", b, sizeof b);
        jstr(pl, "error", d, sizeof d);
        m->color = 0xe74c3c;
        snprintf(m->title, sizeof m->title, "Training failed: %.60s cycle", a);
        snprintf(m->line, sizeof m->line, "Training failed: %.60s cycle as of %.60s: %.300s", a, b,
                 d);
        tr_sb_printf(&m->details, "**Cycle** %s as of %s\n**Error** %s\n", a, b, d);
    } else if (strcmp(ev->kind, "model_deployed") == 0 ||
               strcmp(ev->kind, "model_rolled_back") == 0) {
        int rb = ev->kind[6] == 'r';
        jstr(pl, "from", a, sizeof a);
        jstr(pl, "to", b, sizeof b);
        jstr(pl, "reason", c, sizeof c);
        m->color = rb ? 0xe67e22 : 0x3498db;
        snprintf(m->title, sizeof m->title, "%.60s: %.60s",
                 rb ? "Model rolled back" : "Model deployed", b);
        snprintf(m->line, sizeof m->line, "%.60s: %.60s -> %.60s (%.60s)",
                 rb ? "Model rolled back" : "Model deployed", a[0] ? a : "none", b, c);
        tr_sb_printf(&m->details, "**From** %s\n**To** %s\n**Reason** %s\n", a[0] ? a : "none", b,
                     c);
    } else if (strcmp(ev->kind, "ab_concluded") == 0) {
        char w[256], r[64];
        jstr(pl, "id", a, sizeof a);
        jstr(pl, "version_a", b, sizeof b);
        jstr(pl, "version_b", c, sizeof c);
        jstr(pl, "verdict", x, sizeof x);
        jstr(pl, "winner", w, sizeof w);
        jstr(pl, "end_reason", r, sizeof r);
        m->color = 0x9b59b6;
        snprintf(m->title, sizeof m->title, "A/B test %.60s concluded", a);
        snprintf(m->line, sizeof m->line,
                 "A/B test %.60s concluded: %.60s vs %.60s, verdict %.60s, winner %.60s (%.60s)", a,
                 b, c, x, w[0] ? w : "none", r);
        tr_sb_printf(&m->details, "**A** %s\n**B** %s\n**Verdict** %s\n**Winner** %s\n**End** %s\n",
                     b, c, x, w[0] ? w : "none", r);
    } else if (strcmp(ev->kind, "monthly_report") == 0) {
        jstr(pl, "as_of", a, sizeof a);
        jstr(pl, "verdict", b, sizeof b);
        jstr(pl, "version", c, sizeof c);
        jstr(pl, "reason", d, sizeof d);
        jstr(pl, "report", m->report, sizeof m->report);
        snprintf(m->title, sizeof m->title, "Monthly report as of %.60s", a);
        snprintf(m->line, sizeof m->line, "Monthly ranking as of %.60s: %.60s, best %.60s (%.60s)",
                 a, b, c[0] ? c : "none", d);
        tr_sb_printf(&m->details, "**Verdict** %s\n**Best** %s\n**Ranked** %s\n", b,
                     c[0] ? c : "none", d);
    } else {
        snprintf(m->title, sizeof m->title, "%.60s", ev->kind);
        snprintf(m->line, sizeof m->line, "%.60s: %.440s", ev->kind, pl);
        tr_sb_printf(&m->details, "```json\n%.3500s\n```\n", pl);
    }
}

/* ---- request bodies ----------------------------------------------------------------------- */

/* The JSON of a Discord message (content, embeds), with attachments of n files when n > 0. */
static void discord_json(tr_sb *b, const tr_outbox_event *ev, const message *m, char (*files)[256],
                         int n)
{
    char ts[32];
    tr_sb_printf(b, "{\"content\":");
    tr_sb_json_str(b, m->line);
    tr_sb_printf(b, ",\"embeds\":[{\"title\":");
    tr_sb_json_str(b, m->title);
    tr_sb_printf(b, ",\"description\":");
    char desc[4000];
    snprintf(desc, sizeof desc, "%s", m->details.p ? m->details.p : "");
    tr_sb_json_str(b, desc);
    tr_sb_printf(b, ",\"color\":%u,\"timestamp\":", m->color);
    tr_sb_json_str(b, tr_time_format(ev->created_at, ts, sizeof ts));
    tr_sb_printf(b, ",\"footer\":{\"text\":\"aifx event %lld (%s)\"}}]", (long long)ev->id,
                 ev->kind);
    if (n) {
        tr_sb_printf(b, ",\"attachments\":[");
        for (int i = 0; i < n; i++) {
            tr_sb_printf(b, "%s{\"id\":%d,\"filename\":", i ? "," : "", i);
            tr_sb_json_str(b, files[i]);
            tr_sb_printf(b, "}");
        }
        tr_sb_printf(b, "]");
    }
    tr_sb_printf(b, ",\"allowed_mentions\":{\"parse\":[]}}");
}

static void slack_json(tr_sb *b, const message *m)
{
    tr_sb_printf(b, "{\"text\":");
    tr_sb_json_str(b, m->line);
    tr_sb_printf(b, ",\"blocks\":[{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":");
    /* Slack's mrkdwn bolds with one '*' */
    tr_sb t = {0};
    tr_sb_printf(&t, "*%s*\n", m->title);
    for (const char *p = m->details.p ? m->details.p : ""; *p; p++) {
        if (p[0] == '*' && p[1] == '*') {
            tr_sb_put(&t, "*", 1);
            p++;
        } else {
            tr_sb_put(&t, p, 1);
        }
    }
    if (m->report[0])
        tr_sb_printf(&t, "Report: %s\n", m->report);
    char text[2900];
    snprintf(text, sizeof text, "%s", t.p ? t.p : "");
    tr_sb_free(&t);
    tr_sb_json_str(b, text);
    tr_sb_printf(b, "}}]}");
}

/* The report and the pictures it links, for a Discord monthly_report: their paths and names. */
#define MAX_FILES 10
#define MAX_FILE  (8 << 20)

/* A report file that a PostgreSQL store keeps as reports/<base> (the ranking ran on another
 * host), written to path in this host's reports directory; 1 when path is there now. */
static int fetch_report_file(tr_store *store, const char *base, const char *path)
{
    char name[TR_FILE_NAME_MAX], dir[1100];
    char *data;
    size_t len;
    tr_error e;
    if (!store || !tr_store_has_files(store) ||
        snprintf(name, sizeof name, "reports/%s", base) >= (int)sizeof name ||
        tr_store_file_get(store, name, &data, &len, NULL, &e) != TR_OK)
        return 0;
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int ok = (!slash || tr_mkdir_p(dir, &e) == TR_OK) &&
             tr_file_write_atomic(path, data, len, &e) == TR_OK;
    free(data);
    return ok;
}

static int report_files(tr_store *store, const char *report, char (*paths)[1100],
                        char (*names)[256])
{
    char path[1100];
    char *md;
    size_t len;
    tr_error e;
    snprintf(path, sizeof path, "%s", report);
    if (tr_file_read(path, &md, &len, &e) != TR_OK) {
        if (!store)
            return 0;
        /* the store's reports directory here; on PostgreSQL the database's copy, when the
         * ranking ran on another host (whose absolute path the event names) */
        const char *base = strrchr(report, '/');
        base = base ? base + 1 : report;
        if (report[0] == '/' && !tr_store_has_files(store))
            return 0;
        if (tr_store_path(store, TR_AREA_REPORTS, report[0] == '/' ? base : report, path,
                          sizeof path, &e))
            return 0;
        if (tr_file_read(path, &md, &len, &e) != TR_OK &&
            (!fetch_report_file(store, base, path) || tr_file_read(path, &md, &len, &e) != TR_OK))
            return 0;
    }
    if (len > MAX_FILE) {
        free(md);
        return 0;
    }
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
    int n = 0;
    snprintf(paths[n], 1100, "%s", path);
    snprintf(names[n], 256, "%.255s", slash ? slash + 1 : path);
    n++;
    /* ![alt](name.png): a picture beside the report */
    for (const char *p = strstr(md, "]("); p && n < MAX_FILES; p = strstr(p + 2, "](")) {
        const char *s = p + 2;
        size_t l = strcspn(s, ")\n");
        if (s[l] != ')' || l < 5 || l >= 200 || memcmp(s + l - 4, ".png", 4) != 0 ||
            memchr(s, '/', l) || s[0] == '.')
            continue;
        int dup = 0;
        for (int i = 0; i < n; i++)
            dup |= strlen(names[i]) == l && memcmp(names[i], s, l) == 0;
        if (dup || dl + l >= 1100)
            continue;
        snprintf(paths[n], 1100, "%.*s%.*s", (int)dl, path, (int)l, s);
        snprintf(names[n], 256, "%.*s", (int)l, s);
        FILE *f = fopen(paths[n], "rb");
        if (f) {
            fclose(f);
            n++;
        } else if (fetch_report_file(store, names[n], paths[n])) {
            n++; /* the picture of a ranking run on another host */
        }
    }
    free(md);
    return n;
}

tr_code tr_notify_render(tr_store *store, const tr_notify_sink *s, const tr_outbox_event *ev,
                         char **body, size_t *len, char *content_type, size_t ct_size,
                         tr_error *err)
{
    message m;
    build_message(ev, &m);
    tr_sb b = {0};
    snprintf(content_type, ct_size, "application/json");
    if (s->kind == TR_SINK_JSON) {
        char *j = tr_outbox_event_json(ev);
        if (j)
            tr_sb_printf(&b, "%s", j);
        else
            b.oom = 1;
        free(j);
    } else if (s->kind == TR_SINK_SLACK) {
        slack_json(&b, &m);
    } else {
        char paths[MAX_FILES][1100], names[MAX_FILES][256];
        int n = m.report[0] ? report_files(store, m.report, paths, names) : 0;
        if (n == 0) {
            discord_json(&b, ev, &m, NULL, 0);
        } else {
            /* multipart/form-data: payload_json, then files[i] */
            char boundary[64];
            snprintf(boundary, sizeof boundary, "aifx-%016llx-%lld",
                     (unsigned long long)fnv1a(ev->payload), (long long)ev->id);
            snprintf(content_type, ct_size, "multipart/form-data; boundary=%s", boundary);
            tr_sb j = {0};
            discord_json(&j, ev, &m, names, n);
            tr_sb_printf(&b,
                         "--%s\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n"
                         "Content-Type: application/json\r\n\r\n%s\r\n",
                         boundary, j.p ? j.p : "{}");
            b.oom |= j.oom;
            tr_sb_free(&j);
            for (int i = 0; i < n; i++) {
                char *data = NULL;
                size_t dlen = 0;
                tr_error fe;
                if (tr_file_read(paths[i], &data, &dlen, &fe) != TR_OK)
                    continue;
                if (dlen <= MAX_FILE) {
                    tr_sb_printf(&b,
                                 "--%s\r\nContent-Disposition: form-data; name=\"files[%d]\"; "
                                 "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n",
                                 boundary, i, names[i],
                                 i == 0 ? "text/markdown; charset=utf-8" : "image/png");
                    tr_sb_put(&b, data, dlen);
                    tr_sb_put(&b, "\r\n", 2);
                }
                free(data);
            }
            tr_sb_printf(&b, "--%s--\r\n", boundary);
        }
    }
    tr_sb_free(&m.details);
    if (b.oom || !b.p) {
        tr_sb_free(&b);
        return tr_fail(err, TR_ERR_NOMEM, "out of memory rendering event %lld", (long long)ev->id);
    }
    *body = b.p;
    *len = b.n;
    return TR_OK;
}

/* ---- one POST ----------------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct answer {
    long status;
    double retry_after; /* from the header, seconds; < 0 when absent */
    char body[1024];    /* the first bytes of the answer */
    size_t n;
} answer;

static size_t on_body(char *p, size_t size, size_t nmemb, void *user)
{
    answer *a = user;
    size_t len = size * nmemb;
    size_t room = sizeof a->body - 1 - a->n;
    size_t k = len < room ? len : room;
    memcpy(a->body + a->n, p, k);
    a->n += k;
    a->body[a->n] = '\0';
    return len;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *user)
{
    answer *a = user;
    size_t len = size * nmemb;
    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        char buf[64];
        size_t k = len - 12 < sizeof buf - 1 ? len - 12 : sizeof buf - 1;
        memcpy(buf, p + 12, k);
        buf[k] = '\0';
        char *end;
        double v = strtod(buf, &end);
        if (end != buf && isfinite(v) && v >= 0)
            a->retry_after = v; /* an HTTP date is not used: the backoff applies */
    }
    return len;
}

/* Removes the URL's path and query from text (in place): an error message never shows them. */
static void scrub(const char *url, char *text)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    size_t n = p ? strlen(p) : 0;
    if (n < 2)
        return;
    for (char *q = strstr(text, p); q; q = strstr(q, p)) {
        memmove(q + 4, q + n, strlen(q + n) + 1);
        memcpy(q, "/***", 4);
    }
}

/* Posts body to the sink's URL within timeout seconds; *a gets the answer (status 0: none, then
 * error says why). */
static void post(const tr_notify_sink *s, const tr_outbox_event *ev, const char *body, size_t len,
                 const char *ctype, const tr_notify_config *c, double timeout, int64_t now,
                 answer *a, char *error, size_t esize)
{
    memset(a, 0, sizeof *a);
    a->retry_after = -1;
    error[0] = '\0';
    pthread_once(&curl_once, curl_init);
    CURL *h = curl_init_rc == CURLE_OK ? curl_easy_init() : NULL;
    if (!h) {
        snprintf(error, esize, "libcurl could not start");
        return;
    }
    char url[TR_NOTIFY_URL_MAX + 16], hdr[5][256];
    snprintf(url, sizeof url, "%s", s->url);
    if (s->kind == TR_SINK_DISCORD && !strstr(url, "wait="))
        snprintf(url, sizeof url, "%s%swait=true", s->url, strchr(s->url, '?') ? "&" : "?");
    snprintf(hdr[0], sizeof hdr[0], "Content-Type: %s", ctype);
    snprintf(hdr[1], sizeof hdr[1], "Idempotency-Key: aifx-%s-%lld", s->id, (long long)ev->id);
    snprintf(hdr[2], sizeof hdr[2], "webhook-id: aifx-%s-%lld", s->id, (long long)ev->id);
    snprintf(hdr[3], sizeof hdr[3], "webhook-timestamp: %lld", (long long)now);
    snprintf(hdr[4], sizeof hdr[4], "X-Aifx-Event: %s", ev->kind);
    struct curl_slist *hl = NULL;
    for (int i = 0; i < 5; i++) {
        struct curl_slist *nl = curl_slist_append(hl, hdr[i]);
        if (nl)
            hl = nl;
    }
    hl = curl_slist_append(hl, "Expect:"); /* no 100-continue round trip */
    char ua[64];
    snprintf(ua, sizeof ua, "aifx/%s", aifx_version_string());
    long total_ms = (long)(timeout * 1000);
    long conn_ms = (long)(c->connect_timeout * 1000);
    if (total_ms < 1)
        total_ms = 1;
    if (conn_ms > total_ms)
        conn_ms = total_ms;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, conn_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
    } else {
        a->status = 0;
        snprintf(error, esize, "%s", curl_easy_strerror(rc));
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
}

/* ---- delivery ----------------------------------------------------------------------------- */

/* Jitter in [0, 1), fixed by the event, the sink and the attempt (no clock, no global state). */
static double jitter(const char *sink, int64_t id, int attempt)
{
    uint64_t z = fnv1a(sink) ^ ((uint64_t)id * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)attempt;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static double backoff(const tr_notify_config *c, const char *sink, int64_t id, int n)
{
    double d = c->retry_base * pow(2.0, n > 60 ? 60 : n - 1);
    if (d > c->retry_max)
        d = c->retry_max;
    return d * (1 + 0.2 * jitter(sink, id, n));
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Delivers sink's due events until the monotonic time deadline (the call began at t0, wall time
 * now); 1 when it stopped for lack of time. Store errors into *rc_out. */
static int deliver_sink(tr_store *store, const tr_notify_config *c, const tr_notify_sink *s,
                        int64_t now, double t0, double deadline, tr_notify_result *res,
                        tr_code *rc_out, tr_error *err)
{
    double budget = deadline - t0;
    int64_t lease = 0, next_due = 0;
    tr_outbox_delivery *list = NULL;
    size_t n = 0;
    tr_error e;
    tr_error_clear(&e);
    tr_code rc =
        tr_store_outbox_claim(store, s->id, now + (int64_t)(tr_mono_now() - t0), c->backlog,
                              budget + 5, 64, &lease, &list, &n, &next_due, &e);
    if (rc == TR_ERR_CONFLICT) {
        res->n_busy++;
        return 0;
    }
    if (rc) {
        if (!*rc_out) {
            *rc_out = rc;
            *err = e;
        }
        return 0;
    }
    if (next_due && (!res->next_due || next_due < res->next_due))
        res->next_due = next_due;
    int out_of_time = 0;
    for (size_t i = 0; i < n && !out_of_time; i++) {
        tr_outbox_delivery *d = &list[i];
        char *body = NULL, ctype[128];
        size_t blen = 0;
        if (tr_notify_render(store, s, &d->ev, &body, &blen, ctype, sizeof ctype, &e)) {
            if (!*rc_out) {
                *rc_out = e.code;
                *err = e;
            }
            break;
        }
        int settled = 0;
        while (!settled) {
            double left = budget - (tr_mono_now() - t0);
            if (left < 0.05) {
                out_of_time = 1;
                break;
            }
            int64_t at = now + (int64_t)(tr_mono_now() - t0);
            answer a;
            char why[256];
            post(s, &d->ev, body, blen, ctype, c, left < c->timeout ? left : c->timeout, at, &a,
                 why, sizeof why);
            res->attempts++;
            d->attempts++;
            if (!d->first_attempt_at)
                d->first_attempt_at = at;
            tr_outbox_attempt r;
            memset(&r, 0, sizeof r);
            r.event_id = d->ev.id;
            r.at = at;
            r.http_status = (int)a.status;
            double delay = -1;
            if (a.status >= 200 && a.status < 300) {
                r.state = TR_OUTBOX_DELIVERED;
            } else {
                if (a.status) {
                    char snippet[160];
                    size_t k = 0;
                    for (size_t j = 0; j < a.n && k + 1 < sizeof snippet; j++)
                        snippet[k++] = a.body[j] >= 0x20 && a.body[j] < 0x7f ? a.body[j] : ' ';
                    snippet[k] = '\0';
                    snprintf(why, sizeof why, "HTTP %ld%s%.150s", a.status, k ? ": " : "", snippet);
                }
                scrub(s->url, why);
                snprintf(r.error, sizeof r.error, "%s", why);
                if (a.status == 429) {
                    double ra = jnum(a.body, "retry_after");
                    delay = isfinite(ra) && ra >= 0 ? ra : a.retry_after;
                    if (delay < 0)
                        delay = backoff(c, s->id, d->ev.id, d->attempts);
                } else if (a.status == 0 || a.status == 408 || a.status >= 500) {
                    delay = backoff(c, s->id, d->ev.id, d->attempts);
                }
                if (delay >= 0 && (double)(at - d->first_attempt_at) + delay > c->give_up) {
                    delay = -1;
                    char why2[256];
                    snprintf(why2, sizeof why2, "gave up after %d attempts: %.200s", d->attempts,
                             r.error);
                    snprintf(r.error, sizeof r.error, "%s", why2);
                }
                r.state = delay >= 0 ? TR_OUTBOX_RETRY : TR_OUTBOX_GIVEN_UP;
                r.next_at = delay >= 0 ? at + (int64_t)ceil(delay) : 0;
                snprintf(res->last_error, sizeof res->last_error, "%.100s: event %lld: %.180s",
                         s->safe, (long long)d->ev.id, r.error);
            }
            rc = tr_store_outbox_record(store, s->id, lease, &r, &e);
            if (rc) {
                if (!*rc_out && rc != TR_ERR_CONFLICT) {
                    *rc_out = rc;
                    *err = e;
                }
                free(body);
                body = NULL;
                goto stop;
            }
            if (r.state == TR_OUTBOX_DELIVERED) {
                res->delivered++;
                settled = 1;
            } else if (r.state == TR_OUTBOX_GIVEN_UP) {
                res->given_up++;
                settled = 1;
            } else {
                res->retries++;
                left = budget - (tr_mono_now() - t0);
                if (delay + 0.05 < left) {
                    sleep_s(delay);
                } else {
                    if (!res->next_due || r.next_at < res->next_due)
                        res->next_due = r.next_at;
                    free(body);
                    body = NULL;
                    goto stop; /* the sink waits on this event: order */
                }
            }
        }
        free(body);
    }
stop:
    tr_store_outbox_release(store, s->id, lease);
    free(list);
    return out_of_time;
}

tr_code tr_notify_deliver(tr_store *store, const tr_notify_config *c, int64_t now,
                          double budget_seconds, tr_notify_result *res, tr_error *err)
{
    memset(res, 0, sizeof *res);
    res->n_sinks = c->n_sinks;
    double t0 = tr_mono_now(), end = t0 + budget_seconds;
    tr_code rc = TR_OK;
    /* first pass: each sink a fair share of what is left, so that one slow webhook does not
     * starve the others; second pass: the time left to the sinks that ran out of theirs */
    int again[TR_NOTIFY_SINKS_MAX] = {0};
    for (int i = 0; i < c->n_sinks; i++) {
        double left = end - tr_mono_now();
        if (left < 0.05) {
            again[i] = 1;
            continue;
        }
        again[i] = deliver_sink(store, c, &c->sinks[i], now, t0,
                                tr_mono_now() + left / (c->n_sinks - i), res, &rc, err);
    }
    for (int i = 0; i < c->n_sinks; i++) {
        if (!again[i])
            continue;
        if (end - tr_mono_now() < 0.05 ||
            deliver_sink(store, c, &c->sinks[i], now, t0, end, res, &rc, err))
            res->out_of_time = 1;
    }
    return rc;
}

tr_code tr_notify_config_of_store(tr_store *st, tr_notify_config *c, tr_error *err)
{
    tr_notify_config_default(c);
    char path[4200];
    tr_code rc = tr_store_path(st, TR_AREA_FILES, TR_NOTIFY_CONF_NAME, path, sizeof path, err);
    if (rc)
        return rc;
    rc = tr_notify_config_load(c, path, err);
    if (rc == TR_ERR_NOTFOUND) {
        if (err)
            tr_error_clear(err);
        rc = TR_OK;
    }
    return rc;
}
