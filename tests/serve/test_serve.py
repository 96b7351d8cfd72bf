#!/usr/bin/env python3
"""test_serve.py - aifx-serve over real HTTP on the loopback (Python 3 standard library only).

    test_serve.py --serve BIN --train BIN --docs docs/api-http.md --work DIR [unittest args]

The stores are made with the real aifx-train (synthetic bars, two small full retrains: v1.0 is
active, v1.1 registered). Each suite starts aifx-serve on port 0 and reads the port from its
one stdout line. The directory-store suite always runs; the same suite runs on PostgreSQL when
$AIFX_TEST_PG names a server (scripts/lib/pg.sh), in its own database aifx_serve_test, with the
server stopped and started under load ($AIFX_TEST_PG_STOP, $AIFX_TEST_PG_START). Nothing is
skipped silently: a suite that cannot run says so in the summary (unittest's skip reason).
"""
import argparse
import datetime
import http.client
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest

ARGS = None
TOKEN = "t0ken-" + "x" * 26
PG_SECRET = "hunter2-never-printed"
AS_OF = "2024-03-07T12:00:00Z"
AS_OF2 = "2024-03-06T09:00:00Z"


# ---- helpers ------------------------------------------------------------------------------------

def run(cmd, env, check=True):
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout,
                                                   p.stderr))
    return p


class Server:
    """An aifx-serve process on an ephemeral port."""

    def __init__(self, store, env, work, name, extra=(), token=True):
        self.log = os.path.join(work, name + ".stderr")
        self.access = os.path.join(work, name + ".access")
        args = [ARGS.serve, "--store", store, "--listen", "127.0.0.1:0",
                "--access-log", self.access]
        if token:
            args += ["--token-file", os.path.join(work, "token")]
        args += list(extra)
        self.errf = open(self.log, "w")
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=self.errf,
                                     text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        line = self.proc.stdout.readline() if ready else ""
        m = re.fullmatch(r"aifx-serve: listening on http://127\.0\.0\.1:(\d+)\n", line)
        if not m:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("aifx-serve did not start: %r\n%s" % (line, self.stderr()))
        self.port = int(m.group(1))

    def stderr(self):
        with open(self.log) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc.stdout.close()
        self.errf.close()
        return rc


def epoch_of(iso):
    """Seconds since the epoch of an ISO 8601 UTC time."""
    return int(datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp())


def call(port, method, path, body=None, token=TOKEN, headers=None, conn=None, raw=None):
    """(status, headers as a dict of lower-case names, body as JSON or text)."""
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    h = dict(headers or {})
    if token is not None and method == "POST":
        h["Authorization"] = "Bearer " + token
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if data is not None:
        h.setdefault("Content-Type", "application/json")
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    text = r.read().decode()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    if own:
        c.close()
    ctype = hdrs.get("content-type", "")
    return r.status, hdrs, (json.loads(text) if ctype.startswith("application/json") else text)


def raw_request(port, method, path, length, body=b""):
    """A socket that has sent a request's head (and body, or part of it)."""
    import socket
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                  "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                  % (method, path, TOKEN, length)).encode() + body)
    return sock


def raw_response(sock):
    """(status, the whole response as text) read from sock until the body is complete."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"content-length: *(\d+)", head, re.I)
    while m and len(body) < int(m.group(1)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else 0
    return status, (head + b"\r\n\r\n" + body).decode(errors="replace")


def bar_count(train, store, env, pair):
    out = run([train, "bars", "--store", store], env).stdout
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == pair:
            return int(f[2])
    return 0


def make_bars(t0, n, price=1.25, tf=900):
    bars = []
    for i in range(n):
        o = price + 0.0001 * (i % 7)
        bars.append({"t": t0 + i * tf, "o": o, "h": o + 0.0005, "l": o - 0.0004,
                     "c": o + 0.0001, "v": 100 + i % 13})
    return bars


PROM_SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?P<labels>\{[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*"'
    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*")*,?\})? '
    r'(?P<value>-?[0-9.eE+-]+|NaN|\+Inf|-Inf)(?: -?[0-9]+)?$')


def parse_exposition(text):
    """Checks text against the text format 0.0.4; returns {(name, labels): value} and types."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    types, samples, seen_family = {}, {}, []
    for line in text.split("\n")[:-1]:
        if not line:
            continue
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            assert typ in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types, "two TYPE lines for " + name
            types[name] = typ
            seen_family.append(name)
            continue
        assert not line.startswith("#"), "bad comment line: " + line
        m = PROM_SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name = m.group("name")
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, "sample before its TYPE: " + line
        assert seen_family[-1] == family, "samples of %s are not grouped" % family
        labels = tuple(sorted(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"',
                                         m.group("labels") or "")))
        key = (name, labels)
        assert key not in samples, "duplicate sample " + line
        samples[key] = float(m.group("value").replace("+Inf", "inf"))
    # histograms: cumulative buckets, +Inf equal to _count
    for name, typ in types.items():
        if typ != "histogram":
            continue
        series = {}
        for (n, labels), v in samples.items():
            if n == name + "_bucket":
                rest = tuple(l for l in labels if l[0] != "le")
                le = dict(labels)["le"]
                series.setdefault(rest, []).append((float(le.replace("+Inf", "inf")), v))
        for rest, bs in series.items():
            bs.sort()
            vals = [v for _, v in bs]
            assert vals == sorted(vals), "buckets not cumulative"
            assert bs[-1][0] == float("inf"), "no +Inf bucket"
            assert samples[(name + "_count", rest)] == bs[-1][1], "+Inf != _count"
    return samples, types


# ---- the stores -----------------------------------------------------------------------------

def make_store(store, env, pg):
    t = ARGS.train
    if pg:
        run([t, "db", "migrate", "--store", store], env)
    run([t, "synth", "--pair", "EURUSD", "--from", "2024-01-01", "--to", "2024-03-08",
         "--store", store], env)
    for as_of in ("2024-03-01", "2024-03-05"):
        # argmax: the mechanics on a 2-epoch net, which has no edge to trade (docs/backtest.md)
        run([t, "full", "--as-of", as_of, "--months", "1", "--epochs", "2", "--hidden", "8",
             "--decision", "argmax", "--quiet", "--store", store], env)


def pg_conninfo(dbname):
    base = os.environ["AIFX_TEST_PG"]
    return re.sub(r"dbname=\S+", "dbname=" + dbname, base) + " password=" + PG_SECRET


def psql(sql):
    binp = os.environ.get("AIFX_PG_BIN", "/usr/lib/postgresql/15/bin")
    exe = os.path.join(binp, "psql")
    if not os.access(exe, os.X_OK):
        exe = "psql"
    run([exe, os.environ["AIFX_TEST_PG"], "-v", "ON_ERROR_STOP=1", "-qc", sql], os.environ)


# ---- the suite ------------------------------------------------------------------------------

class ServeSuite:
    """The cases, run once per backend (the subclasses below set PG)."""
    PG = False

    @classmethod
    def setUpClass(cls):
        cls.work = os.path.join(ARGS.work, "pg" if cls.PG else "dir")
        shutil.rmtree(cls.work, ignore_errors=True)
        os.makedirs(cls.work)
        with open(os.path.join(cls.work, "token"), "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(os.path.join(cls.work, "token"), 0o600)
        cls.env = dict(os.environ)
        cls.env["AIFX_MODELS_DIR"] = os.path.join(cls.work, "models")
        if cls.PG:
            psql("DROP DATABASE IF EXISTS aifx_serve_test")
            psql("CREATE DATABASE aifx_serve_test")
            cls.store = pg_conninfo("aifx_serve_test")
        else:
            cls.store = os.path.join(cls.work, "store")
            cls.env.pop("AIFX_MODELS_DIR")
        make_store(cls.store, cls.env, cls.PG)
        cls.srv = Server(cls.store, cls.env, cls.work, "main")
        cls.port = cls.srv.port

    @classmethod
    def tearDownClass(cls):
        srv = getattr(cls, "srv", None)
        if srv:
            rc = srv.stop()
            log = srv.stderr()
            assert rc == 0, "aifx-serve exited %d after SIGTERM\n%s" % (rc, log)
            for f in (srv.log, srv.access):
                with open(f) as fh:
                    text = fh.read()
                assert TOKEN not in text and PG_SECRET not in text, "a secret in " + f

    def req(self, method, path, body=None, **kw):
        return call(self.port, method, path, body, **kw)

    def cli(self, *args, check=True):
        return run([ARGS.train, *args, "--store", self.store], self.env, check)

    def active(self):
        st, _, b = self.req("GET", "/v1/versions")
        self.assertEqual(st, 200)
        return b["active"]

    def ensure_active(self, v):
        if self.active() != v:
            st, _, b = self.req("POST", "/v1/versions/%s/activate" % v, {"note": "test"})
            self.assertEqual(st, 200, b)

    def stop_tests(self):
        st, _, b = self.req("GET", "/v1/ab-tests")
        for t in b["ab_tests"]:
            if t["status"] == "running":
                st, _, _ = self.req("POST", "/v1/ab-tests/%s/stop" % t["id"], {"note": "cleanup"})
                self.assertEqual(st, 200)

    # -- health, readiness, metrics -------------------------------------------------------------

    def test_health_ready(self):
        st, _, b = self.req("GET", "/healthz")
        self.assertEqual((st, b), (200, {"status": "ok"}))
        st, _, b = self.req("GET", "/readyz")
        self.assertEqual(st, 200)
        self.assertIn(b["active_version"], ("v1.0", "v1.1"))

    def test_metrics(self):
        st, h, text = self.req("GET", "/metrics")
        self.assertEqual(st, 200)
        self.assertEqual(h["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        before, types = parse_exposition(text)
        for fam, typ in (("aifx_http_requests_total", "counter"),
                         ("aifx_http_request_duration_seconds", "histogram"),
                         ("aifx_predictions_total", "counter"),
                         ("aifx_active_version_info", "gauge"),
                         ("aifx_model_swaps_total", "counter"),
                         ("aifx_model_load_failures_total", "counter"),
                         ("aifx_newest_bar_age_seconds", "gauge"),
                         ("aifx_cycle_runs_total", "counter"),
                         ("process_start_time_seconds", "gauge")):
            self.assertEqual(types.get(fam), typ, fam)
        for _ in range(3):
            self.assertEqual(self.req("GET", "/healthz")[0], 200)
        self.assertEqual(self.req("GET", "/v1/versions/nope..x")[0], 404)
        st, _, b = self.req("POST", "/v1/predict", {"pair": "EURUSD", "as_of": AS_OF,
                                                    "record": False})
        self.assertEqual(st, 200, b)
        after, _ = parse_exposition(self.req("GET", "/metrics")[2])
        key = ("aifx_http_requests_total",
               (("endpoint", "/healthz"), ("method", "GET"), ("status", "200")))
        self.assertGreaterEqual(after[key] - before.get(key, 0), 3)
        # endpoint labels are templates, never raw paths
        labels = {dict(k[1]).get("endpoint") for k in after if "endpoint" in dict(k[1])}
        self.assertIn("/v1/versions/{v}", labels)
        self.assertFalse(any(l and "nope" in l for l in labels), labels)
        pk = ("aifx_predictions_total", (("signal", b["signal"]), ("version", b["version"])))
        self.assertGreaterEqual(after[pk], before.get(pk, 0) + 1)
        self.assertIn(("aifx_newest_bar_age_seconds", (("pair", "EURUSD"),)), after)
        active = [dict(k[1])["version"] for k in after if k[0] == "aifx_active_version_info"]
        self.assertEqual(active, [self.active()])

    # -- predictions ------------------------------------------------------------------------------

    def test_predict_equals_cli(self):
        self.stop_tests()
        for as_of in (AS_OF, AS_OF2):
            cli = json.loads(self.cli("predict", "--pair", "EURUSD", "--as-of", as_of,
                                      "--no-record", "--json").stdout)
            st, _, b = self.req("POST", "/v1/predict", {"pair": "EURUSD", "as_of": as_of,
                                                        "record": False})
            self.assertEqual(st, 200, b)
            self.assertEqual(b["signal"], cli["signal"])
            self.assertEqual(b["version"], cli["version"])
            self.assertEqual(b["bar_time"], cli["bar_time"])
            for k in ("hold", "buy", "sell"):
                self.assertAlmostEqual(b["probabilities"][k], cli["probabilities"][k], delta=6e-7)
            self.assertAlmostEqual(b["confidence"], cli["confidence"], delta=6e-7)
            self.assertIsNone(b["signal_id"])
            self.assertIsNone(b["ab_test_id"])
        # the same as of epoch seconds; recorded this time
        epoch = 1709812800  # 2024-03-07T12:00:00Z
        st, _, b = self.req("POST", "/v1/predict", {"pair": "EURUSD", "as_of": epoch})
        self.assertEqual(st, 200, b)
        self.assertIsInstance(b["signal_id"], int)
        st, _, s = self.req("GET", "/v1/signals?pair=EURUSD&version=" + b["version"])
        self.assertEqual(st, 200)
        self.assertIn(b["signal_id"], [g["id"] for g in s["signals"]])
        # a pinned version
        st, _, p = self.req("POST", "/v1/predict", {"pair": "EURUSD", "as_of": AS_OF,
                                                    "version": "v1.1", "record": False})
        self.assertEqual(st, 200, p)
        self.assertEqual(p["version"], "v1.1")
        # stale: the newest bar closed long before now
        st, _, e = self.req("POST", "/v1/predict", {"pair": "EURUSD"})
        self.assertEqual((st, e["error"]["code"]), (409, "stale"))

    # -- a model family ----------------------------------------------------------------------------
    def test_family_server(self):
        # an hourly family beside the default one: its own lineage, served by its own server
        t = ARGS.train
        run([t, "synth", "--pair", "EURUSD", "--timeframe", "1h", "--from", "2023-06-01", "--to",
             "2024-03-08", "--store", self.store], self.env)
        self.cli("family", "add", "h1", "--pairs", "EURUSD", "--timeframe", "1h", "--quiet")
        self.cli("full", "--family", "h1", "--as-of", "2024-03-05", "--epochs", "2", "--hidden",
                 "8", "--decision", "argmax", "--quiet")
        srv = Server(self.store, self.env, self.work, "family", extra=["--family", "h1"])
        try:
            st, _, b = call(srv.port, "GET", "/v1/versions")
            self.assertEqual(st, 200, b)
            self.assertEqual(b["active"], "v1.0")
            self.assertEqual([v["version"] for v in b["versions"]], ["v1.0"])
            self.assertEqual(b["versions"][0]["hyper"]["timeframe"], 3600)
            # the family's timeframe is the default of its requests, as predict --family's
            cli = json.loads(self.cli("predict", "--family", "h1", "--pair", "EURUSD", "--as-of",
                                      AS_OF, "--no-record", "--json").stdout)
            st, _, p = call(srv.port, "POST", "/v1/predict",
                            {"pair": "EURUSD", "as_of": AS_OF, "record": True})
            self.assertEqual(st, 200, p)
            self.assertEqual((p["timeframe"], p["version"]), ("1h", "v1.0"))
            self.assertEqual((p["signal"], p["bar_time"]), (cli["signal"], cli["bar_time"]))
            # recorded in the family's signals, not the default family's
            st, _, fs = call(srv.port, "GET", "/v1/signals?pair=EURUSD")
            self.assertIn(p["signal_id"], [g["id"] for g in fs["signals"]])
            st, _, ds = self.req("GET", "/v1/signals?pair=EURUSD&limit=100000")
            self.assertEqual(st, 200, ds)
            self.assertNotIn("1h", [g["timeframe"] for g in ds["signals"]])
            # the default family's server still serves its own lineage
            st, _, d = self.req("GET", "/v1/versions")
            self.assertNotIn(3600, [v["hyper"]["timeframe"] for v in d["versions"]])
        finally:
            self.assertEqual(srv.stop(), 0, srv.stderr())

    # -- bars ---------------------------------------------------------------------------------------

    def test_bars_all_or_nothing(self):
        pair, t0 = "GBPUSD", 1709251200  # 2024-03-01T00:00:00Z
        bars = make_bars(t0, 40)
        bars[17] = dict(bars[17], h=bars[17]["c"] - 0.001)  # high below close
        st, _, b = self.req("POST", "/v1/bars", {"pair": pair, "timeframe": "15m",
                                                 "bars": bars})
        self.assertEqual(st, 422, b)
        self.assertEqual(b["error"]["field"], "bars[17]")
        self.assertIn("2024-03-01T04:15:00Z", b["error"]["message"])
        self.assertEqual(bar_count(ARGS.train, self.store, self.env, pair), 0)
        # off the grid, and out of order
        bad = make_bars(t0, 5)
        bad[3]["t"] += 60
        st, _, b = self.req("POST", "/v1/bars", {"pair": pair, "bars": bad})
        self.assertEqual((st, b["error"]["field"]), (422, "bars[3]"))
        bad = make_bars(t0, 5)
        bad[2]["t"], bad[3]["t"] = bad[3]["t"], bad[2]["t"]
        st, _, b = self.req("POST", "/v1/bars", {"pair": pair, "bars": bad})
        self.assertEqual((st, b["error"]["field"]), (422, "bars[3]"))
        # a wrong type names the bar and the member
        bad = make_bars(t0, 5)
        bad[4]["c"] = "1.2"
        st, _, b = self.req("POST", "/v1/bars", {"pair": pair, "bars": bad})
        self.assertEqual((st, b["error"]["field"]), (400, "bars[4].c"))
        self.assertEqual(bar_count(ARGS.train, self.store, self.env, pair), 0)
        # the good ones, ISO times for some
        good = make_bars(t0, 40)
        good[0]["t"] = "2024-03-01T00:00:00Z"
        st, _, b = self.req("POST", "/v1/bars", {"pair": pair, "timeframe": "15m",
                                                 "bars": good})
        self.assertEqual(st, 200, b)
        self.assertEqual((b["added"], b["unchanged"]), (40, 0))
        self.assertEqual(bar_count(ARGS.train, self.store, self.env, pair), 40)
        st, _, b = self.req("POST", "/v1/bars", {"pair": pair, "bars": good})
        self.assertEqual((st, b["added"], b["unchanged"]), (200, 0, 40))
        # a conflict with a stored bar: 409 naming it, nothing stored (not even the new ones)
        more = make_bars(t0, 50)[30:]
        more[5]["c"] += 0.0002
        st, _, b = self.req("POST", "/v1/bars", {"pair": pair, "bars": more})
        self.assertEqual((st, b["error"]["field"]), (409, "bars[5]"), b)
        self.assertEqual(bar_count(ARGS.train, self.store, self.env, pair), 40)

    # -- auth and bad input ------------------------------------------------------------------------

    def test_token(self):
        body = {"pair": "EURUSD", "as_of": AS_OF, "record": False}
        for tok in (None, "", "wrong", TOKEN + "x", TOKEN[:-1]):
            st, h, b = self.req("POST", "/v1/predict", body, token=tok)
            self.assertEqual((st, b["error"]["code"]), (401, "unauthorized"), tok)
            self.assertEqual(h.get("www-authenticate"), "Bearer")
        st, _, b = self.req("POST", "/v1/predict", body, token=None,
                            headers={"Authorization": "Basic " + TOKEN})
        self.assertEqual(st, 401)
        self.assertEqual(self.req("POST", "/v1/predict", body)[0], 200)
        # GET is open
        self.assertEqual(self.req("GET", "/v1/versions", token=None)[0], 200)

    def test_no_token_file_refuses_every_post(self):
        srv = Server(self.store, self.env, self.work, "notoken", token=False)
        try:
            for path, body in (("/v1/predict", {"pair": "EURUSD"}), ("/v1/rollback", {}),
                               ("/v1/bars", {"pair": "EURUSD", "bars": []}),
                               ("/v1/versions/v1.0/activate", {})):
                st, _, b = call(srv.port, "POST", path, body)
                self.assertEqual(st, 401, path)
            self.assertEqual(call(srv.port, "GET", "/healthz")[0], 200)
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_bad_requests_change_nothing(self):
        log0 = self.req("GET", "/v1/log?limit=100000")[2]
        ver0 = self.req("GET", "/v1/versions")[2]
        cases = [
            ("POST", "/v1/predict", b'{"pair": "EURUSD",', 400, "malformed_json", None),
            ("POST", "/v1/predict", b'[1, 2]', 400, "malformed_json", None),
            ("POST", "/v1/predict", b'{"pair": 7}', 400, "wrong_type", "pair"),
            ("POST", "/v1/predict", b'{"pair": "EURUSD", "record": "no"}', 400, "wrong_type",
             "record"),
            ("POST", "/v1/predict", b'{"pair": "EURUSD", "bogus": 1}', 400, "unknown_field",
             "bogus"),
            ("POST", "/v1/predict", b'{"pair": "EURUSD", "pair": "USDJPY"}', 400,
             "malformed_json", None),
            ("POST", "/v1/predict", b'{"pair": "eur/usd"}', 400, "bad_value", "pair"),
            ("POST", "/v1/predict", b'{"pair": "EURUSD", "as_of": "yesterday"}', 400,
             "bad_value", "as_of"),
            ("POST", "/v1/predict", b'{"pair": "NZDCHF", "as_of": "2024-03-07T12:00:00Z"}', 404,
             "not_found", "pair"),
            ("POST", "/v1/predict",
             b'{"pair": "EURUSD", "version": "v9.9", "as_of": "2024-03-07T12:00:00Z"}', 404,
             "not_found", "version"),
            ("GET", "/v1/versions/v9.9", None, 404, "not_found", "version"),
            ("POST", "/v1/versions/v9.9/activate", b"{}", 404, "not_found", "version"),
            ("POST", "/v1/versions/v1.0/activate", b'{"note": 5}', 400, "wrong_type", "note"),
            ("GET", "/v1/ab-tests/ab999", None, 404, "not_found", "id"),
            ("GET", "/v1/nothing", None, 404, "not_found", None),
            ("DELETE", "/v1/versions", None, 405, "method_not_allowed", None),
            ("GET", "/v1/predict", None, 405, "method_not_allowed", None),
            ("GET", "/v1/log?limit=0", None, 400, "bad_value", "limit"),
            ("GET", "/v1/signals?from=soon", None, 400, "bad_value", "from"),
            ("POST", "/v1/ab-tests", b'{"a": "v1.0", "b": "v9.9"}', 404, "not_found", None),
            ("POST", "/v1/ab-tests", b'{"a": "v1.0", "b": "v1.1", "split": 1.5}', 422,
             "invalid", None),
            ("POST", "/v1/signals/1/outcome", b"{}", 400, "missing_field", "outcome"),
            ("POST", "/v1/signals/1/outcome",
             b'{"outcome": 5, "pnl_pips": 1, "closed_at": "2024-03-07T14:00:00Z"}', 400,
             "wrong_type", "outcome"),
            ("POST", "/v1/signals/1/outcome",
             b'{"outcome": "win", "pnl_pips": "1", "closed_at": "2024-03-07T14:00:00Z"}', 400,
             "wrong_type", "pnl_pips"),
            ("POST", "/v1/signals/1/outcome",
             b'{"outcome": "win", "pnl_pips": 1, "closed_at": "soon"}', 400, "bad_value",
             "closed_at"),
            ("POST", "/v1/signals/999999/outcome",
             b'{"outcome": "win", "pnl_pips": 1, "closed_at": "2024-03-07T14:00:00Z"}', 404,
             "not_found", "id"),
            ("POST", "/v1/signals/x1/outcome",
             b'{"outcome": "win", "pnl_pips": 1, "closed_at": "2024-03-07T14:00:00Z"}', 404,
             "not_found", "id"),
        ]
        for method, path, raw, status, code, field in cases:
            st, h, b = self.req(method, path, raw=raw)
            self.assertEqual(st, status, (method, path, raw, b))
            self.assertEqual(b["error"]["code"], code, (path, raw, b))
            self.assertEqual(b["error"]["field"], field, (path, raw, b))
            self.assertTrue(b["error"]["message"])
            if status == 405:
                self.assertIn("allow", h)
        # too large: a Content-Length over --max-body is answered before the body is sent
        big = b'{"pair": "EURUSD", "pad": "' + b"x" * (1 << 20) + b'"}'
        sock = raw_request(self.port, "POST", "/v1/predict", len(big))
        status, text = raw_response(sock)
        sock.close()
        self.assertEqual(status, 413, text)
        self.assertIn('"body_too_large"', text)
        # and a chunked body that grows past it
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.putrequest("POST", "/v1/predict")
        c.putheader("Authorization", "Bearer " + TOKEN)
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        try:
            for i in range(0, len(big), 65536):
                chunk = big[i:i + 65536]
                c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            c.send(b"0\r\n\r\n")
            r = c.getresponse()
            self.assertEqual(r.status, 413)
            r.read()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close while we still send; no 200 is the point
        c.close()
        self.assertEqual(self.req("GET", "/v1/log?limit=100000")[2], log0)
        ver1 = self.req("GET", "/v1/versions")[2]
        self.assertEqual(ver1["active"], ver0["active"])
        self.assertEqual(len(ver1["versions"]), len(ver0["versions"]))

    # -- registry ---------------------------------------------------------------------------------

    def test_versions_log_signals(self):
        st, _, b = self.req("GET", "/v1/versions")
        self.assertEqual(st, 200)
        names = [v["version"] for v in b["versions"]]
        self.assertEqual(names[:2], ["v1.0", "v1.1"])
        self.assertNotIn("history", b["versions"][0])
        st, _, v = self.req("GET", "/v1/versions/v1.1")
        self.assertEqual(st, 200)
        self.assertEqual((v["version"], v["type"]), ("v1.1", "full"))
        self.assertIn("history", v)
        cli = json.loads(self.cli("versions", "show", "v1.1", "--json").stdout)
        self.assertEqual(v["ckpt_crc"], cli["ckpt_crc"])
        st, _, lg = self.req("GET", "/v1/log?limit=1")
        self.assertEqual((st, len(lg["log"])), (200, 1))
        st, _, lg = self.req("GET", "/v1/log")
        self.assertGreaterEqual(len(lg["log"]), 2)
        self.assertEqual([r["cycle"] for r in lg["log"][:2]], ["full", "full"])
        st, _, p = self.req("POST", "/v1/predict", {"pair": "EURUSD", "as_of": AS_OF2})
        self.assertEqual(st, 200, p)
        st, _, s = self.req("GET", "/v1/signals?pair=EURUSD&from=2024-03-06&to=2024-03-07")
        self.assertEqual(st, 200)
        self.assertTrue(all("2024-03-06" in g["bar_time"] for g in s["signals"]))
        self.assertIn(p["signal_id"], [g["id"] for g in s["signals"]])
        st, _, s = self.req("GET", "/v1/signals?version=nosuch")
        self.assertEqual((st, s["count"]), (200, 0))
        st, _, s = self.req("GET", "/v1/signals?limit=1")
        self.assertEqual((st, len(s["signals"])), (200, 1))

    def test_activate_rollback(self):
        self.stop_tests()
        self.ensure_active("v1.0")
        st, _, b = self.req("POST", "/v1/versions/v1.1/activate", {"note": "try v1.1"})
        self.assertEqual(st, 200, b)
        self.assertEqual((b["from"], b["to"], b["serving"]), ("v1.0", "v1.1", "v1.1"))
        st, _, p = self.req("POST", "/v1/predict", {"pair": "EURUSD", "as_of": AS_OF,
                                                    "record": False})
        self.assertEqual((st, p["version"]), (200, "v1.1"))
        st, _, b = self.req("POST", "/v1/rollback", {"note": "back"})
        self.assertEqual(st, 200, b)
        self.assertEqual((b["from"], b["to"], b["serving"]), ("v1.1", "v1.0", "v1.0"))
        st, _, lg = self.req("GET", "/v1/log")
        acts = lg["activations"]
        self.assertEqual((acts[-1]["reason"], acts[-1]["to"]), ("rollback", "v1.0"))
        self.assertEqual(acts[-2]["reason"], "manual")
        self.assertEqual(self.cli("versions", "show", "v1.0", "--json").returncode, 0)
        self.assertTrue(json.loads(self.cli("versions", "show", "v1.0", "--json").stdout)
                        ["is_active"])

    # -- A/B tests --------------------------------------------------------------------------------

    def test_ab_lifecycle(self):
        self.stop_tests()
        self.ensure_active("v1.0")
        st, _, t = self.req("POST", "/v1/ab-tests",
                            {"a": "v1.0", "b": "v1.1", "pairs": ["EURUSD"], "split": 0.5,
                             "days": 7, "as_of": "2024-03-06T00:00:00Z"})
        self.assertEqual(st, 201, t)
        tid = t["id"]
        self.assertEqual((t["status"], t["pairs"]), ("running", "EURUSD"))
        # a second test on the same pair is refused
        st, _, e = self.req("POST", "/v1/ab-tests", {"a": "v1.0", "b": "v1.1",
                                                     "pairs": "EURUSD"})
        self.assertEqual(st, 409, e)
        st, _, s = self.req("GET", "/v1/ab-tests/" + tid)
        self.assertEqual((st, s["status"]), (200, "running"))
        # routing: the server's arm is the CLI's for every bar
        seen = set()
        for hh in range(0, 24, 3):
            as_of = "2024-03-07T%02d:00:00Z" % hh
            cli = json.loads(self.cli("predict", "--pair", "EURUSD", "--as-of", as_of,
                                      "--no-record", "--json").stdout)
            st, _, p = self.req("POST", "/v1/predict", {"pair": "EURUSD", "as_of": as_of})
            self.assertEqual(st, 200, p)
            self.assertEqual((p["version"], p["signal"]), (cli["version"], cli["signal"]))
            self.assertEqual(p["ab_test_id"], tid)
            seen.add(p["version"])
        self.assertEqual(seen, {"v1.0", "v1.1"})
        st, _, r = self.req("GET", "/v1/ab-tests/%s/report?as_of=2024-03-08" % tid)
        self.assertEqual(st, 200, r)
        self.assertEqual(r["test"]["id"], tid)
        self.assertIn("analysis", r)
        st, _, r = self.req("POST", "/v1/ab-tests/%s/stop" % tid, {"note": "enough"})
        self.assertEqual(st, 200, r)
        self.assertEqual(r["test"]["status"], "stopped")
        st, _, s = self.req("GET", "/v1/ab-tests/" + tid)
        self.assertEqual(s["status"], "stopped")
        st, _, e = self.req("POST", "/v1/ab-tests/%s/stop" % tid, {})
        self.assertEqual(st, 409, e)
        st, _, p = self.req("POST", "/v1/predict", {"pair": "EURUSD", "as_of": AS_OF,
                                                    "record": False})
        self.assertIsNone(p["ab_test_id"])

    # -- hot swap ---------------------------------------------------------------------------------

    def test_hot_swap(self):
        self.stop_tests()
        self.ensure_active("v1.0")
        stop = threading.Event()
        results = []

        def hammer():
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            while not stop.is_set():
                try:
                    st, _, b = call(self.port, "POST", "/v1/predict",
                                    {"pair": "EURUSD", "as_of": AS_OF, "record": False}, conn=c)
                    results.append((st, b.get("version") if st == 200 else b))
                except Exception as ex:  # a failed request is a result too
                    results.append((0, repr(ex)))
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            c.close()

        threads = [threading.Thread(target=hammer) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.3)
            # by the CLI: the watcher sees the registry change
            self.cli("activate", "v1.1", "--reason", "hot swap")
            deadline = time.time() + 15
            while time.time() < deadline and not any(v == "v1.1" for _, v in results[-5:]):
                time.sleep(0.05)
            # and back through the API
            st, _, b = self.req("POST", "/v1/rollback", {"note": "hot swap back"})
            self.assertEqual(st, 200, b)
            time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join()
        failed = [r for r in results if r[0] != 200]
        self.assertEqual(failed, [])
        versions = [v for _, v in results]
        self.assertIn("v1.1", versions)
        self.assertEqual(versions[0], "v1.0")
        self.assertEqual(versions[-1], "v1.0")
        i = versions.index("v1.1")
        self.assertTrue(all(v == "v1.0" for v in versions[:i]))
        _, _, text = self.req("GET", "/metrics")
        m, _ = parse_exposition(text)
        self.assertGreaterEqual(m[("aifx_model_swaps_total", ())], 2)

    # -- signals, kill -9 -------------------------------------------------------------------------

    def test_sigterm_drains(self):
        """SIGTERM while a request is half sent: it completes, then the process exits 0."""
        srv = Server(self.store, self.env, self.work, "drain")
        try:
            body = json.dumps({"pair": "AUDUSD", "bars": make_bars(1704067200, 2000)}).encode()
            sock = raw_request(srv.port, "POST", "/v1/bars", len(body), body[:1000])
            time.sleep(0.3)
            srv.proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            self.assertIsNone(srv.proc.poll(), "exited with a request in flight")
            sock.sendall(body[1000:])
            status, text = raw_response(sock)
            sock.close()
            self.assertEqual(status, 200, text)
            self.assertEqual(srv.proc.wait(30), 0, srv.stderr())
            self.assertEqual(bar_count(ARGS.train, self.store, self.env, "AUDUSD"), 2000)
        finally:
            self.assertEqual(srv.stop(), 0, srv.stderr())

    def test_kill9_during_bars(self):
        n = 30000
        body = json.dumps({"pair": "USDCAD", "bars": make_bars(1704067200, n, 1.35)}).encode()
        counts = []
        for delay in (0.0, 0.02, 0.06, 0.15, 0.4):
            srv = Server(self.store, self.env, self.work, "kill9",
                         extra=("--max-body", str(len(body) + 1)))
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
            try:
                c.request("POST", "/v1/bars", body=body,
                          headers={"Authorization": "Bearer " + TOKEN})
                time.sleep(delay)
            except OSError:
                pass
            srv.stop(signal.SIGKILL)
            c.close()
            k = bar_count(ARGS.train, self.store, self.env, "USDCAD")
            self.assertIn(k, (0, n), "kill -9 after %.2f s left %d of %d bars" % (delay, k, n))
            counts.append(k)
        # and a complete one stores them all
        srv = Server(self.store, self.env, self.work, "kill9b",
                     extra=("--max-body", str(len(body) + 1)))
        st, _, b = call(srv.port, "POST", "/v1/bars", raw=body)
        self.assertEqual(srv.stop(), 0)
        self.assertEqual(st, 200, b)
        self.assertEqual(bar_count(ARGS.train, self.store, self.env, "USDCAD"), n)


    # -- the loop closed live (runs last: it adds bars after the store's last one) ---------------

    def test_zz_live_loop(self):
        """An A/B test, new bars and predictions through the API, the position monitor's
        outcomes, a decided test and production figures; on a directory store, the same
        signals and outcomes as a replay of the same bars from a copy of the store."""
        self.stop_tests()
        self.ensure_active("v1.0")
        t0, t1 = "2024-03-08T00:00:00Z", "2024-03-11T00:00:00Z"
        st, _, test = self.req("POST", "/v1/ab-tests",
                               {"a": "v1.0", "b": "v1.1", "days": 1, "min_trades": 1,
                                "as_of": t0})
        self.assertEqual(st, 201, test)
        tid = test["id"]
        copy = None
        if not self.PG:
            copy = os.path.join(self.work, "replay-store")
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(self.store, copy, ignore=shutil.ignore_patterns("lock.*"))
        # the same synthetic series, continued to Monday
        csv = os.path.join(self.work, "more.csv")
        run([ARGS.train, "synth", "--pair", "EURUSD", "--from", "2024-01-01", "--to",
             "2024-03-11", "--csv", csv], self.env)
        new = []
        with open(csv) as f:
            for line in f:
                parts = line.strip().split(",")
                if not parts[0][:1].isdigit():
                    continue
                if parts[0] >= "2024-03-08":
                    new.append(parts)
        self.assertGreater(len(new), 50)
        m0 = parse_exposition(self.req("GET", "/metrics")[2])[0]
        served = {}
        for parts in new:
            bar = {"t": parts[0].replace(" ", "T") + ("" if parts[0].endswith("Z") else "Z"),
                   "o": float(parts[1]), "h": float(parts[2]), "l": float(parts[3]),
                   "c": float(parts[4]), "v": float(parts[5]) if len(parts) > 5 else 0}
            st, _, b = self.req("POST", "/v1/bars",
                                {"pair": "EURUSD", "timeframe": "15m", "bars": [bar]})
            self.assertEqual(st, 200, b)
            self.assertEqual(b["added"], 1, b)
            as_of = epoch_of(bar["t"]) + 900
            st, _, p = self.req("POST", "/v1/predict", {"pair": "EURUSD", "as_of": as_of})
            self.assertEqual(st, 200, p)
            self.assertEqual(p["ab_test_id"], tid)
            served[p["bar_time"]] = p
        m1 = parse_exposition(self.req("GET", "/metrics")[2])[0]
        live = ("aifx_predict_features_total", (("path", "live"),))
        self.assertGreaterEqual(m1[live] - m0.get(live, 0), len(new))  # every one live
        # run-due at Monday 01:00: the monitor, then the look that ends the test
        due = json.loads(self.cli("run-due", "--as-of", "2024-03-11T01:00:00Z", "--disable",
                                  "incremental", "--disable", "full", "--disable", "rank",
                                  "--json").stdout)
        items = {c["cycle"]: c for c in due["cycles"]}
        self.assertEqual(due["cycles"][0]["cycle"], "monitor")
        self.assertEqual(items["monitor"]["outcome"], "completed", items["monitor"])
        self.assertEqual(items["abtest"]["outcome"], "completed", items["abtest"])
        st, _, rec = self.req("GET", "/v1/ab-tests/" + tid)
        self.assertEqual((st, rec["status"]), (200, "completed"), rec)
        self.assertIn(rec["verdict"], ("a", "b", "tie"), rec)
        st, _, rep = self.req("GET", "/v1/ab-tests/%s/report?as_of=2024-03-11T01:00:00Z" % tid)
        self.assertEqual(st, 200, rep)
        an = rep["analysis"]
        self.assertGreater(an["a"]["trades"] + an["b"]["trades"], 0, an)
        # the trades are the monitor's outcomes of the signals served
        st, _, sig = self.req("GET", "/v1/signals?pair=EURUSD&from=" + t0)
        self.assertEqual(st, 200)
        mine = [g for g in sig["signals"] if g["ab_test_id"] == tid]
        self.assertEqual(len(mine), len(new))
        closed = [g for g in mine if g["outcome"] in ("win", "loss")]
        self.assertEqual(len(closed), an["a"]["trades"] + an["b"]["trades"])
        for g in mine:
            self.assertEqual(g["signal"], served[g["bar_time"]]["signal"])
        # production figures of both arms, from those outcomes
        m2 = parse_exposition(self.req("GET", "/metrics")[2])[0]
        for arm, v in (("a", "v1.0"), ("b", "v1.1")):
            st, _, ver = self.req("GET", "/v1/versions/" + v)
            self.assertEqual(st, 200)
            n_closed = len([g for g in closed if g["version"] == v])
            self.assertGreaterEqual(ver["production"]["trades"], n_closed)
            # the metrics count the same outcomes
            wins = m2[("aifx_signal_outcomes", (("outcome", "win"), ("version", v)))]
            losses = m2[("aifx_signal_outcomes", (("outcome", "loss"), ("version", v)))]
            self.assertEqual(wins + losses, ver["production"]["trades"])
        # a real outcome reported by the backend replaces the simulated one, and stays
        g = closed[0]
        st, _, r = self.req("POST", "/v1/signals/%d/outcome" % g["id"],
                            {"outcome": "loss", "pnl_pips": -3.25,
                             "closed_at": g["exit_time"]})
        self.assertEqual(st, 200, r)
        self.assertEqual((r["outcome"], r["pnl_pips"], r["reported"]), ("loss", -3.25, True))
        self.cli("monitor", "--as-of", "2024-03-11T02:00:00Z")
        st, _, again = self.req("GET", "/v1/signals?pair=EURUSD&from=" + g["bar_time"] +
                                "&limit=1000")
        back = [x for x in again["signals"] if x["id"] == g["id"]][0]
        self.assertEqual((back["outcome"], back["pnl_pips"], back["reported"]),
                         ("loss", -3.25, True))
        st, _, r = self.req("POST", "/v1/signals/%d/outcome" % g["id"],
                            {"outcome": "win", "pnl_pips": 1, "closed_at": "2024-03-01T00:00:00Z"})
        self.assertEqual((st, r["error"]["field"]), (422, "closed_at"), r)
        if copy is None:
            return
        # the replay of the same bars from the copy: the same signals and outcomes
        run([ARGS.train, "replay", "--csv", csv, "--pair", "EURUSD", "--from", t0, "--to", t1,
             "--disable", "incremental", "--disable", "full", "--disable", "rank",
             "--disable", "abtest", "--quiet", "--store", copy], self.env)
        other = Server(copy, self.env, self.work, "replay")
        try:
            st, _, rs = call(other.port, "GET", "/v1/signals?pair=EURUSD&from=" + t0)
        finally:
            self.assertEqual(other.stop(), 0)
        self.assertEqual(st, 200)
        reps = {x["bar_time"]: x for x in rs["signals"]}
        self.assertEqual(set(reps), {x["bar_time"] for x in mine})
        for x in mine:
            y = reps[x["bar_time"]]
            for k in ("signal", "version", "ab_test_id", "probabilities", "confidence"):
                self.assertEqual(x[k], y[k], (x["bar_time"], k))
            if x["id"] == g["id"]:
                continue  # reported above
            for k in ("outcome", "exit_time", "exit_price", "pnl_pips", "pnl_percent"):
                self.assertEqual(x[k], y[k], (x["bar_time"], k))


class DirectoryStore(ServeSuite, unittest.TestCase):
    PG = False

    def test_schedule(self):
        """--schedule runs the due cycles in its thread and counts them (on a copy)."""
        copy = os.path.join(self.work, "schedstore")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(self.store, copy)
        # a webhook receiver for the store's notifications (tests/notify/receiver.py)
        rdir = os.path.join(self.work, "receiver")
        shutil.rmtree(rdir, ignore_errors=True)
        os.makedirs(rdir)
        recv = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(
            os.path.abspath(__file__)), "..", "notify", "receiver.py"), "--dir", rdir])
        for _ in range(100):
            if os.path.exists(os.path.join(rdir, "port")):
                break
            time.sleep(0.1)
        with open(os.path.join(rdir, "port")) as f:
            rport = int(f.read().strip())
        with open(os.path.join(copy, "notify.conf"), "w") as f:
            f.write("json=http://127.0.0.1:%d/hook/secret-part name=hook\n" % rport)
        srv = Server(copy, self.env, self.work, "sched",
                     extra=("--schedule", "--schedule-every", "1"))
        try:
            deadline, runs = time.time() + 60, {}
            while time.time() < deadline:
                m, _ = parse_exposition(call(srv.port, "GET", "/metrics")[2])
                runs = {k: v for k, v in m.items() if k[0] == "aifx_cycle_runs_total"}
                if runs:
                    break
                time.sleep(0.2)
            self.assertTrue(runs, "no cycle run counted")
            cycles = {dict(k[1])["cycle"] for k in runs}
            self.assertTrue(cycles & {"full", "incremental", "rank", "run-due"}, cycles)
            # the scheduler's runs are in the store's log like a cron run-due's
            st, _, lg = call(srv.port, "GET", "/v1/log")
            self.assertGreater(len(lg["log"]), 2)
            # predictions go on meanwhile
            st, _, p = call(srv.port, "POST", "/v1/predict",
                            {"pair": "EURUSD", "as_of": AS_OF, "record": False})
            self.assertEqual(st, 200, p)
            # the store's events reach the webhook from the scheduler's thread, each once
            log = os.path.join(rdir, "log")
            deadline, lines = time.time() + 60, []
            while time.time() < deadline:
                if os.path.exists(log):
                    with open(log) as f:
                        lines = [l.split("\t") for l in f.read().splitlines()]
                if any(len(l) > 4 for l in lines):
                    break
                time.sleep(0.2)
            keys = [l[4] for l in lines if len(l) > 4]
            self.assertTrue(keys, "no notification delivered")
            self.assertTrue(all(k.startswith("aifx-hook-") for k in keys), keys)
            with open(os.path.join(rdir, "body-1")) as f:
                first = json.load(f)
            self.assertEqual(first["id"], 1)
            self.assertIn(first["kind"], ("training_completed", "model_deployed"))
        finally:
            self.assertEqual(srv.stop(), 0, srv.stderr())
            recv.terminate()
            recv.wait()
        self.assertNotIn("secret-part", srv.stderr())

    def test_schedule_enqueue(self):
        """--schedule --enqueue queues the due slots as jobs instead of running them."""
        p = run([ARGS.serve, "--store", self.store, "--enqueue"], self.env, check=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        copy = os.path.join(self.work, "enqstore")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(self.store, copy)
        log = lambda: [r for r in json.loads(run([ARGS.train, "log", "--json", "--store", copy],
                                                 self.env).stdout)
                       if r["cycle"] in ("full", "incremental", "rank", "drift")]
        before = log()
        srv = Server(copy, self.env, self.work, "enq",
                     extra=("--schedule", "--enqueue", "--schedule-every", "1"))
        try:
            deadline, runs = time.time() + 60, {}
            while time.time() < deadline:
                m, _ = parse_exposition(call(srv.port, "GET", "/metrics")[2])
                runs = {dict(k[1])["cycle"]: v for k, v in m.items()
                        if k[0] == "aifx_cycle_runs_total" and dict(k[1])["status"] == "enqueued"}
                if runs:
                    break
                time.sleep(0.2)
            self.assertTrue(runs, "nothing enqueued")
            self.assertTrue(set(runs) <= {"full", "incremental", "rank", "drift", "abtest"}, runs)
            time.sleep(1.5)  # another round: the slots are queued already, nothing added
        finally:
            self.assertEqual(srv.stop(), 0, srv.stderr())
        jobs = json.loads(run([ARGS.train, "jobs", "list", "--json", "--store", copy],
                              self.env).stdout)
        self.assertEqual(sorted(j["cycle"] for j in jobs), sorted(runs), jobs)
        self.assertTrue(all(j["state"] == "queued" and j["attempts"] == 0 for j in jobs), jobs)
        self.assertEqual(log(), before)  # queued, not run: the workers train

    def test_docs_examples(self):
        """Every example of docs/api-http.md against a server on a fresh store."""
        store = os.path.join(self.work, "docstore")
        shutil.rmtree(store, ignore_errors=True)
        make_store(store, self.env, False)
        srv = Server(store, self.env, self.work, "docs")
        try:
            examples = doc_examples(ARGS.docs)
            self.assertGreaterEqual(len(examples), 15)
            covered = set()
            for ex in examples:
                st, _, b = call(srv.port, ex["method"], ex["path"], raw=ex["body"],
                                token=TOKEN if ex["auth"] else None)
                where = "%s line %d: %s %s" % (ARGS.docs, ex["line"], ex["method"], ex["path"])
                self.assertEqual(st, ex["status"], "%s: %r" % (where, b))
                if ex["json"] is not None:
                    shape_diff(ex["json"], b, ex["varies"], where)
                else:
                    self.assertIsInstance(b, str, where)
                covered.add((ex["method"], re.sub(r"\?.*", "", ex["path"])))
            # every route has an example
            for method, tmpl in ROUTES:
                rx = "^" + re.sub(r"\{[a-z]+\}", "[^/]+", tmpl) + "$"
                self.assertTrue(any(m == method and re.match(rx, p) for m, p in covered),
                                "docs/api-http.md has no example of %s %s" % (method, tmpl))
        finally:
            self.assertEqual(srv.stop(), 0)


@unittest.skipUnless(os.environ.get("AIFX_TEST_PG"),
                     "PostgreSQL suite: AIFX_TEST_PG is unset (scripts/lib/pg.sh starts one)")
class PostgresStore(ServeSuite, unittest.TestCase):
    PG = True

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        psql("DROP DATABASE IF EXISTS aifx_serve_test")

    def test_other_host_loads_from_database(self):
        """A second aifx-serve with an empty models directory of its own (another host, no shared
        file system): the version comes from the database through its cache; the same answer."""
        env = dict(self.env)
        models_b = os.path.join(self.work, "hostB-models")
        shutil.rmtree(models_b, ignore_errors=True)
        env["AIFX_MODELS_DIR"] = models_b
        srv = Server(self.store, env, self.work, "hostB")
        try:
            body = {"pair": "EURUSD", "as_of": AS_OF, "record": False}
            st_a, _, a = self.req("POST", "/v1/predict", body)
            st_b, _, b = call(srv.port, "POST", "/v1/predict", body)
            self.assertEqual((st_a, st_b), (200, 200), (a, b))
            self.assertEqual((a["version"], a["probabilities"]), (b["version"], b["probabilities"]))
            cache = os.listdir(os.path.join(models_b, "cache"))
            self.assertTrue(any(f.endswith("-%s.ckpt" % a["version"]) for f in cache), cache)
            self.assertFalse(os.path.exists(os.path.join(models_b, a["version"] + ".ckpt")))
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_zz_database_down_under_load(self):
        """The server stopped under load: 503 with Retry-After, then recovery, no restart."""
        stop_cmd, start_cmd = os.environ["AIFX_TEST_PG_STOP"], os.environ["AIFX_TEST_PG_START"]
        stop = threading.Event()
        results = []

        def hammer():
            while not stop.is_set():
                try:
                    st, h, b = call(self.port, "POST", "/v1/predict",
                                    {"pair": "EURUSD", "as_of": AS_OF, "record": False})
                    results.append((time.time(), st, h.get("retry-after"),
                                    b["error"]["code"] if st != 200 else None,
                                    b["error"]["message"] if st != 200 else None))
                except Exception as ex:
                    results.append((time.time(), 0, None, repr(ex)))
                time.sleep(0.01)

        t = threading.Thread(target=hammer)
        t.start()
        try:
            time.sleep(0.3)
            subprocess.run(stop_cmd, shell=True, check=True, stdout=subprocess.DEVNULL)
            down_at = time.time()
            time.sleep(1.5)
            st, h, b = self.req("GET", "/readyz")
            self.assertEqual((st, h.get("retry-after")), (503, "5"), b)
            self.assertEqual(self.req("GET", "/healthz")[0], 200)
            starting_at = time.time()  # the server answers before pg_ctl returns
            subprocess.run(start_cmd, shell=True, check=True, stdout=subprocess.DEVNULL)
            up_at = time.time()
            deadline = up_at + 30
            while time.time() < deadline:
                if results and results[-1][0] > up_at and results[-1][1] == 200:
                    break
                time.sleep(0.1)
        finally:
            stop.set()
            t.join()
        during = [r for r in results if down_at + 0.2 < r[0] < starting_at]
        self.assertTrue(during)
        bad = [r for r in during
               if not (r[1] == 503 and r[2] == "5" and r[3] == "store_unavailable")]
        self.assertEqual(bad, [])
        self.assertEqual(results[-1][1], 200, results[-5:])
        self.assertEqual(self.req("GET", "/readyz")[0], 200)
        # a write works again too
        st, _, b = self.req("POST", "/v1/predict", {"pair": "EURUSD", "as_of": AS_OF})
        self.assertEqual(st, 200, b)


# ---- docs/api-http.md -------------------------------------------------------------------------

ROUTES = [
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("POST", "/v1/predict"),
    ("POST", "/v1/bars"), ("GET", "/v1/versions"), ("GET", "/v1/versions/{v}"),
    ("POST", "/v1/versions/{v}/activate"), ("POST", "/v1/rollback"), ("GET", "/v1/log"),
    ("GET", "/v1/signals"), ("POST", "/v1/signals/{id}/outcome"), ("GET", "/v1/ab-tests"),
    ("POST", "/v1/ab-tests"), ("GET", "/v1/ab-tests/{id}"), ("POST", "/v1/ab-tests/{id}/stop"),
    ("GET", "/v1/ab-tests/{id}/report"), ("GET", "/v1/drift"), ("GET", "/v1/data-quality"),
    ("GET", "/"), ("GET", "/assets/{name}"),
]


def doc_examples(path):
    """The (```http request, ```json STATUS [varies=a,b] or ```text STATUS response) pairs."""
    with open(path) as f:
        lines = f.read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = re.match(r"^```(\w+)(.*)$", lines[i])
        if m:
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            blocks.append((i + 1, m.group(1), m.group(2).strip(), "\n".join(lines[i + 1:j])))
            i = j
        i += 1
    out = []
    for k, (line, lang, info, text) in enumerate(blocks):
        if lang != "http":
            continue
        assert k + 1 < len(blocks), "request at line %d has no response block" % line
        _, rlang, rinfo, rtext = blocks[k + 1]
        head, _, body = text.partition("\n\n")
        hl = head.split("\n")
        method, target = hl[0].split(" ")[:2]
        auth = any(h.startswith("Authorization: Bearer") for h in hl[1:])
        fields = rinfo.split()
        status = int(fields[0])
        varies = set()
        for f in fields[1:]:
            if f.startswith("varies="):
                varies |= set(f[len("varies="):].split(","))
        out.append({"line": line, "method": method, "path": target, "auth": auth,
                    "body": body.encode() if body.strip() else None, "status": status,
                    "json": json.loads(rtext) if rlang == "json" else None,
                    "varies": varies})
    return out


def kind(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


def shape_diff(doc, got, varies, where, at="$"):
    """The doc's value and the server's agree in keys and types (values marked varies: any)."""
    if isinstance(doc, dict):
        assert isinstance(got, dict), "%s: %s is %s in the doc, %r from the server" % (
            where, at, "an object", got)
        assert set(doc) == set(got), "%s: %s keys differ: doc %s, server %s" % (
            where, at, sorted(doc), sorted(got))
        for k in doc:
            if k in varies:
                continue
            shape_diff(doc[k], got[k], varies, where, at + "." + k)
    elif isinstance(doc, list):
        assert isinstance(got, list), "%s: %s is an array in the doc" % (where, at)
        if doc and got:
            for g in got:
                shape_diff(doc[0], g, varies, where, at + "[]")
    else:
        assert kind(doc) == kind(got), "%s: %s is %s in the doc, %s (%r) from the server" % (
            where, at, kind(doc), kind(got), got)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--serve", required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--docs", required=True)
    p.add_argument("--work", required=True)
    ARGS, rest = p.parse_known_args()
    t0 = time.time()
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    print("test_serve: %.1f s" % (time.time() - t0))
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
