#!/usr/bin/env python3
"""test_dashboard.py - aifx-serve's dashboard (GET /) in a real browser (Python 3 standard library
and Debian's chromium, headless).

    test_dashboard.py --serve BIN --train BIN --work DIR [--chartjs FILE] [--screenshot PNG]
                      [unittest args]

A small directory store made with the real aifx-train (synthetic EURUSD bars, two small full
retrains: v1.0 active, v1.1 registered), then through the server: an A/B test run on 2024-03-04
and stopped, predictions on 2024-03-06 and 07, a second A/B test left running, the position
monitor's outcomes (aifx-train monitor) and one outcome reported by the backend. Then chromium
loads the page from aifx-serve on 127.0.0.1:0 and the rendered DOM must hold what the API says:
the active version and its production figures (each figure's data-value), one row per version
with its live win rate, the last cycles, the A/B tests with their statuses, the equity curve's
number of closed trades and final sum, Chart.js loaded and drawn (body data-chart-ready="1"), no
Content-Security-Policy violation, the drift and data-quality panel saying "not measured yet",
and no token. The server's access log shows the page made GET requests only. Then the headers of
each file, the metrics' route labels, a second server whose --chartjs is missing (404, and a page
that still fills its tables without charts), and a screenshot (1280x900) kept in the work
directory or at --screenshot (docs/img/dashboard.png is made that way).

Exit 77 (ctest: skipped) with the reason when chromium or Chart.js is not installed.
"""
import argparse
import html.parser
import http.client
import json
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None
TOKEN = "dash-t0ken-" + "y" * 21
CHROMIUM_NAMES = ("chromium", "chromium-browser")
SKIP = 77


# ---- helpers ------------------------------------------------------------------------------------

def run(cmd, env, check=True):
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout,
                                                   p.stderr))
    return p


class Server:
    """An aifx-serve process on an ephemeral loopback port, with an access log."""

    def __init__(self, store, work, name, extra=()):
        self.log = os.path.join(work, name + ".stderr")
        self.access = os.path.join(work, name + ".access")
        args = [ARGS.serve, "--store", store, "--listen", "127.0.0.1:0",
                "--token-file", os.path.join(work, "token"), "--access-log", self.access]
        args += list(extra)
        self.errf = open(self.log, "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.errf, text=True)
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

    def access_lines(self):
        with open(self.access) as f:
            return [json.loads(x) for x in f if x.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc.stdout.close()
        self.errf.close()
        return rc


def call(port, method, path, body=None):
    """(status, headers with lower-case names, raw body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = {}
    data = None
    if method == "POST":
        h["Authorization"] = "Bearer " + TOKEN
        h["Content-Type"] = "application/json"
        data = json.dumps(body if body is not None else {}).encode()
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    raw = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, raw


def api(port, path, method="GET", body=None, want=200):
    st, _, raw = call(port, method, path, body)
    b = json.loads(raw)
    assert st == want, "%s %s: %d %r" % (method, path, st, b)
    return b


def chromium_binary():
    for n in CHROMIUM_NAMES:
        p = shutil.which(n)
        if p:
            return p
    return None


class Browser:
    """Headless chromium runs, each with a fresh profile under the work directory, on the
    loopback only; every process of a run is killed when it ends."""

    def __init__(self, work):
        self.exe = chromium_binary()
        self.home = tempfile.mkdtemp(prefix="chromium-", dir=work)
        self.n = 0

    def run(self, url, *mode, timeout=45):
        self.n += 1
        profile = os.path.join(self.home, "profile-%d" % self.n)
        env = dict(os.environ, HOME=self.home, XDG_CONFIG_HOME=self.home,
                   XDG_CACHE_HOME=self.home)
        args = [self.exe, "--headless=new", "--no-sandbox", "--disable-gpu",
                "--user-data-dir=" + profile, "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-default-apps",
                "--disable-crash-reporter", "--disable-breakpad",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--virtual-time-budget=10000", *mode, url]
        errlog = os.path.join(self.home, "run-%d.stderr" % self.n)
        with open(errlog, "w") as err:
            p = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=err,
                                 start_new_session=True)
            try:
                out, _ = p.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                out = b""
            finally:
                try:
                    os.killpg(p.pid, signal.SIGKILL)  # its own group: the browser's helpers
                except ProcessLookupError:
                    pass
                p.wait()
        if p.returncode not in (0, -signal.SIGKILL) or (not out and "--dump-dom" in mode):
            with open(errlog) as f:
                raise AssertionError("chromium %s: exit %s\n%s" % (" ".join(mode), p.returncode,
                                                                   f.read()[-3000:]))
        return out.decode("utf-8", "replace")

    def dom(self, port):
        return self.run("http://127.0.0.1:%d/" % port, "--dump-dom")

    def screenshot(self, port, path):
        if os.path.exists(path):
            os.remove(path)
        self.run("http://127.0.0.1:%d/" % port, "--hide-scrollbars", "--window-size=1280,900",
                 "--screenshot=" + path)
        return path


# ---- the rendered DOM -------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.texts = [], []

    def text(self):
        return "".join(t if isinstance(t, str) else t.text() for t in self.texts).strip()

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def find_all(self, tag=None, **attrs):
        return [n for n in self.walk() if (tag is None or n.tag == tag) and
                all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]


class Dom(html.parser.HTMLParser):
    """Chromium's serialized DOM as a tree of Nodes; by_id maps ids to nodes."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root
        self.by_id = {}
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        self.cur.texts.append(n)
        if "id" in n.attrs:
            self.by_id[n.attrs["id"]] = n
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.cur = self.cur.parent

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.texts.append(data)

    def body(self):
        return self.root.find_all("body")[0]

    def rows(self, table_id):
        t = self.by_id[table_id]
        return [r for r in t.find_all("tr") if r.parent.tag == "tbody"]


# ---- the store ----------------------------------------------------------------------------------

def make_store(store, env):
    t = ARGS.train
    run([t, "synth", "--pair", "EURUSD", "--from", "2024-01-01", "--to", "2024-03-08",
         "--store", store], env)
    for as_of in ("2024-03-01", "2024-03-05"):
        # argmax: the mechanics on a 2-epoch net, which has no edge to trade (docs/backtest.md)
        run([t, "full", "--as-of", as_of, "--months", "1", "--epochs", "2", "--hidden", "8",
             "--decision", "argmax", "--quiet", "--store", store], env)


def live_data(port, store, env):
    """Predictions, A/B tests and outcomes through the server and the monitor."""
    api(port, "/v1/ab-tests", "POST", {"a": "v1.0", "b": "v1.1", "days": 1,
                                       "as_of": "2024-03-04T00:00:00Z"}, want=201)
    for hh in range(0, 24, 3):
        api(port, "/v1/predict", "POST", {"pair": "EURUSD", "as_of": "2024-03-04T%02d:00:00Z" % hh})
    api(port, "/v1/ab-tests/ab1/stop", "POST", {"note": "dashboard test"})
    for day in ("06", "07"):
        for hh in range(0, 24, 2):
            api(port, "/v1/predict", "POST",
                {"pair": "EURUSD", "as_of": "2024-03-%sT%02d:00:00Z" % (day, hh)})
    api(port, "/v1/ab-tests", "POST", {"a": "v1.0", "b": "v1.1", "days": 7,
                                       "as_of": "2024-03-08T00:00:00Z"}, want=201)
    run([ARGS.train, "monitor", "--as-of", "2024-03-08T23:00:00Z", "--store", store], env)
    sig = api(port, "/v1/signals?limit=1000")["signals"]
    closed = [g for g in sig if g["outcome"] in ("win", "loss") and g["version"] == "v1.0"]
    assert closed, "the monitor closed no trade of v1.0"
    g = closed[0]
    api(port, "/v1/signals/%d/outcome" % g["id"], "POST",
        {"outcome": "loss", "pnl_pips": -3.25, "closed_at": g["exit_time"]})


# ---- the suite ----------------------------------------------------------------------------------

def num_or_none(s):
    return None if s == "" else float(s)


class Dashboard(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.work = ARGS.work
        shutil.rmtree(cls.work, ignore_errors=True)
        os.makedirs(cls.work)
        with open(os.path.join(cls.work, "token"), "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(os.path.join(cls.work, "token"), 0o600)
        cls.env = dict(os.environ)
        cls.store = os.path.join(cls.work, "store")
        t0 = time.time()
        make_store(cls.store, cls.env)
        cls.srv = Server(cls.store, cls.work, "main", extra=("--chartjs", ARGS.chartjs))
        cls.port = cls.srv.port
        live_data(cls.port, cls.store, cls.env)
        # what the API says, read before the browser
        p = cls.port
        cls.versions = api(p, "/v1/versions")
        cls.details = {v["version"]: api(p, "/v1/versions/" + v["version"])
                       for v in cls.versions["versions"]}
        cls.log = api(p, "/v1/log?limit=20")
        cls.ab = api(p, "/v1/ab-tests")["ab_tests"]
        cls.signals = api(p, "/v1/signals?limit=10000")["signals"]
        cls.n_access = len(cls.srv.access_lines())
        cls.browser = Browser(cls.work)
        t1 = time.time()
        cls.dom_text = cls.browser.dom(p)
        time.sleep(0.2)  # the access log's lines are written when each connection completes
        cls.page_access = cls.srv.access_lines()[cls.n_access:]
        with open(os.path.join(cls.work, "dom.html"), "w") as f:
            f.write(cls.dom_text)
        cls.dom = Dom(cls.dom_text)
        print("test_dashboard: store and data %.1f s, page %.1f s" % (t1 - t0, time.time() - t1),
              file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        srv = getattr(cls, "srv", None)
        if srv:
            rc = srv.stop()
            assert rc == 0, "aifx-serve exited %d after SIGTERM\n%s" % (rc, srv.stderr())

    # -- what the page shows --------------------------------------------------------------------

    def test_page_finished(self):
        b = self.dom.body().attrs
        self.assertEqual(b.get("data-ready"), "1", "the page's script did not finish")
        self.assertEqual(b.get("data-chart-ready"), "1", "Chart.js did not draw the charts")
        self.assertEqual(b.get("data-csp-violations"), "0", "Content-Security-Policy violations")
        self.assertTrue(self.dom.by_id["charts-missing"].attrs.get("hidden") is not None)

    def test_active_version_and_figures(self):
        active = self.versions["active"]
        self.assertEqual(active, "v1.0")
        el = self.dom.by_id["active-version"]
        self.assertEqual((el.text(), el.attrs.get("data-version")), (active, active))
        prod = self.details[active]["production"]
        self.assertGreater(prod["predictions"], 0, prod)
        self.assertGreater(prod["trades"], 0, prod)
        self.assertEqual(prod["reported"], 1, prod)
        for key, id_ in (("predictions", "prod-predictions"), ("open", "prod-open"),
                         ("trades", "prod-trades"), ("wins", "prod-wins"),
                         ("reported", "prod-reported"), ("win_rate", "prod-win-rate"),
                         ("avg_pnl", "prod-avg-pnl"), ("total_pips", "prod-total-pips"),
                         ("sharpe_ratio", "prod-sharpe")):
            got = num_or_none(self.dom.by_id[id_].attrs["data-value"])
            self.assertEqual(got, prod[key], "%s: page %r, API %r" % (key, got, prod[key]))
        self.assertEqual(self.dom.by_id["prod-predictions"].text(), str(prod["predictions"]))
        shown = self.dom.by_id["prod-win-rate"].text()
        m = re.fullmatch(r"(\d+\.\d)%", shown)
        self.assertTrue(m, shown)
        self.assertAlmostEqual(float(m.group(1)), prod["win_rate"] * 100, delta=0.05 + 1e-9)

    def test_versions_rows(self):
        rows = self.dom.rows("versions")
        names = [r.attrs.get("data-version") for r in rows]
        api_names = [v["version"] for v in self.versions["versions"]]
        self.assertEqual(sorted(names), sorted(api_names))
        self.assertEqual(len(rows), len(api_names))
        self.assertEqual(names, api_names[::-1], "newest first")
        for r in rows:
            v = r.attrs["data-version"]
            self.assertEqual("active" in r.attrs.get("class", ""), v == self.versions["active"])
            wr = [td for td in r.find_all("td") if "live-win-rate" in td.attrs.get("class", "")]
            self.assertEqual(len(wr), 1, v)
            wr = wr[0]
            self.assertEqual(num_or_none(wr.attrs["data-value"]),
                             self.details[v]["production"]["win_rate"], v)

    def test_cycles_and_ab_tests(self):
        ids = [r.attrs.get("data-log-id") for r in self.dom.rows("cycles")]
        self.assertEqual(ids, [str(x["id"]) for x in reversed(self.log["log"])])
        verdicts = [r.find_all("td")[5].text() for r in self.dom.rows("cycles")]
        self.assertEqual(verdicts, [x["verdict"] or "\u2013" for x in reversed(self.log["log"])])
        ab = {r.attrs.get("data-ab-id"): r.attrs.get("data-status") for r in self.dom.rows("abtests")}
        self.assertEqual(ab, {t["id"]: t["status"] for t in self.ab})
        self.assertEqual(ab, {"ab1": "stopped", "ab2": "running"})

    def test_equity_curve(self):
        closed = [g for g in self.signals if g["outcome"] in ("win", "loss")]
        self.assertGreater(len(closed), 3)
        closed.sort(key=lambda g: (g["exit_time"], g["id"]))
        total = 0.0
        for g in closed:
            total += g["pnl_pips"]
        c = self.dom.by_id["equity-chart"]
        self.assertEqual(c.tag, "canvas")
        self.assertEqual(int(c.attrs["data-points"]), len(closed))
        self.assertAlmostEqual(float(c.attrs["data-final"]), total, places=9)
        # Chart.js sized both canvases (it sets their width, height and style)
        for cid in ("equity-chart", "versions-chart"):
            self.assertIn("width", self.dom.by_id[cid].attrs, cid)
            self.assertIn("box-sizing", self.dom.by_id[cid].attrs.get("style", ""), cid)

    def test_drift_panel_not_measured(self):
        # no drift slot has run on this store: no report yet
        self.assertEqual(call(self.port, "GET", "/v1/drift")[0], 404)
        el = self.dom.by_id["drift"]
        self.assertEqual(el.attrs.get("data-state"), "not-measured")
        self.assertIn("not measured yet", el.text())

    def test_data_quality_panel_measured(self):
        st, _, b = call(self.port, "GET", "/v1/data-quality")
        self.assertEqual(st, 200, b)
        el = self.dom.by_id["data-quality"]
        self.assertEqual(el.attrs.get("data-state"), "measured")
        self.assertIn("EURUSD", el.text())

    def test_read_only_and_no_token(self):
        self.assertNotIn(TOKEN, self.dom_text)
        self.assertNotIn("Bearer", self.dom_text)
        page = self.page_access
        self.assertTrue(page)
        self.assertEqual({x["method"] for x in page} - {"GET"}, set(), page)
        got = {(x["path"], x["status"]) for x in page}
        for need in (("/", 200), ("/assets/app.js", 200), ("/assets/style.css", 200),
                     ("/assets/chart.min.js", 200), ("/v1/versions", 200), ("/v1/log", 200),
                     ("/v1/ab-tests", 200), ("/v1/signals", 200), ("/v1/drift", 404),
                     ("/v1/data-quality", 200)):
            self.assertIn(need, got)
        for x in page:
            if x["path"] not in ("/favicon.ico", "/v1/drift"):
                self.assertEqual(x["status"], 200, x)

    # -- the files over HTTP --------------------------------------------------------------------

    def test_headers(self):
        with open(ARGS.chartjs, "rb") as f:
            chart = f.read()
        for path, ctype, cache in (
                ("/", "text/html; charset=utf-8", "no-cache"),
                ("/assets/app.js", "text/javascript; charset=utf-8", "no-cache"),
                ("/assets/style.css", "text/css; charset=utf-8", "no-cache"),
                ("/assets/chart.min.js", "text/javascript; charset=utf-8",
                 "public, max-age=86400")):
            for method in ("GET", "HEAD"):
                st, h, raw = call(self.port, method, path)
                self.assertEqual(st, 200, path)
                self.assertEqual(h["content-type"], ctype, path)
                self.assertEqual(h["cache-control"], cache, path)
                csp = h["content-security-policy"]
                self.assertIn("default-src 'self'", csp)
                self.assertIn("frame-ancestors 'none'", csp)
                self.assertNotIn("unsafe-inline", csp)
                self.assertNotIn("http", csp)
                self.assertEqual(h["x-content-type-options"], "nosniff")
                if method == "HEAD":
                    self.assertEqual(raw, b"")
        self.assertEqual(call(self.port, "GET", "/assets/chart.min.js")[2], chart)
        self.assertIn(b"assets/app.js", call(self.port, "GET", "/")[2])
        # the JSON endpoints keep theirs
        st, h, _ = call(self.port, "GET", "/v1/versions")
        self.assertEqual((h["cache-control"], "content-security-policy" in h), ("no-store", False))
        st, h, raw = call(self.port, "GET", "/assets/nosuch.js")
        self.assertEqual((st, json.loads(raw)["error"]["code"]), (404, "not_found"))
        st, h, raw = call(self.port, "POST", "/")
        self.assertEqual((st, h.get("allow")), (405, "GET, HEAD"))
        st, _, _ = call(self.port, "GET", "/index.html")
        self.assertEqual(st, 404)

    def test_page_has_nothing_inline(self):
        """What the CSP would refuse is not in the page (its violations while parsing happen
        before app.js listens for them): no inline script, style or handler, no other origin."""
        page = Dom(call(self.port, "GET", "/")[2].decode())
        for n in page.root.walk():
            self.assertNotEqual(n.tag, "style")
            self.assertNotIn("style", n.attrs, n.tag)
            self.assertEqual([a for a in n.attrs if a.startswith("on")], [], n.tag)
            if n.tag == "script":
                self.assertTrue(n.attrs.get("src"), "an inline script")
                self.assertEqual(n.text(), "")
            for a in ("src", "href", "action"):
                if a in n.attrs:
                    self.assertNotRegex(n.attrs[a], r"^(?:[a-z]+:|//)", "another origin")
        srcs = [n.attrs["src"] for n in page.root.find_all("script")]
        self.assertEqual(srcs, ["assets/chart.min.js", "assets/app.js"])

    def test_metrics_use_route_templates(self):
        text = call(self.port, "GET", "/metrics")[2].decode()
        self.assertRegex(text, r'aifx_http_requests_total\{endpoint="/",method="GET",status="200"\}')
        self.assertRegex(text, r'aifx_http_requests_total\{endpoint="/assets/\{name\}",'
                               r'method="GET",status="200"\}')
        self.assertNotIn('endpoint="/assets/app.js"', text)
        self.assertNotIn('endpoint="/assets/chart.min.js"', text)

    # -- without Chart.js ----------------------------------------------------------------------

    def test_missing_chartjs(self):
        missing = os.path.join(self.work, "no-such-dir", "chart.min.js")
        srv = Server(self.store, self.work, "nochart", extra=("--chartjs", missing))
        try:
            st, h, raw = call(srv.port, "GET", "/assets/chart.min.js")
            e = json.loads(raw)["error"]
            self.assertEqual((st, e["code"]), (404, "not_found"))
            self.assertIn("libjs-chart.js", e["message"])
            self.assertNotIn(missing, e["message"])  # the server's paths stay its own
            dom = Dom(self.browser.dom(srv.port))
            b = dom.body().attrs
            self.assertEqual((b.get("data-ready"), b.get("data-chart-ready")), ("1", "0"))
            self.assertIsNone(dom.by_id["charts-missing"].attrs.get("hidden"))
            self.assertEqual(len(dom.rows("versions")), len(self.versions["versions"]))
            self.assertEqual(dom.by_id["prod-predictions"].attrs["data-value"],
                             str(self.details["v1.0"]["production"]["predictions"]))
            self.assertEqual(len(dom.rows("abtests")), 2)
            self.assertEqual(b.get("data-csp-violations"), "0")
        finally:
            rc = srv.stop()
        self.assertEqual(rc, 0, srv.stderr())
        self.assertIn('"event":"chartjs_missing"', srv.stderr())

    # -- the picture ----------------------------------------------------------------------------

    def test_screenshot(self):
        path = ARGS.screenshot or os.path.join(self.work, "dashboard.png")
        self.browser.screenshot(self.port, path)
        with open(path, "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n", path)
        self.assertEqual(struct.unpack(">II", head[16:24]), (1280, 900))
        self.assertGreater(os.path.getsize(path), 20000, "a blank picture?")
        print("test_dashboard: screenshot %s" % path, file=sys.stderr)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--serve", required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--chartjs", default="/usr/share/javascript/chart.js/chart.min.js")
    p.add_argument("--screenshot", default=None)
    ARGS, rest = p.parse_known_args()
    if not chromium_binary():
        print("test_dashboard: SKIPPED: no chromium on PATH (Debian package chromium); the "
              "dashboard is not tested in a browser")
        sys.exit(SKIP)
    if not os.path.isfile(ARGS.chartjs):
        print("test_dashboard: SKIPPED: no Chart.js at %s (Debian package libjs-chart.js)"
              % ARGS.chartjs)
        sys.exit(SKIP)
    if ARGS.screenshot:
        ARGS.screenshot = os.path.abspath(ARGS.screenshot)
    t0 = time.time()
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    print("test_dashboard: %.1f s" % (time.time() - t0))
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
