/*
 * app.js - fills aifx-serve's dashboard (index.html) from the JSON endpoints, GET only:
 *   v1/versions               the versions and the active one
 *   v1/versions/{v}           each version's production figures (the newest MAX_DETAILS and
 *                             the active one)
 *   v1/log?limit=N            the last cycles with their verdicts, the activations
 *   v1/ab-tests               running and finished A/B tests
 *   v1/signals?limit=N        closed signals: the equity curve (cumulative pnl_pips by exit time)
 *   v1/drift, v1/data-quality 200: shown; 404: "not measured yet"
 * Charts with Chart.js when assets/chart.min.js loaded; without it the tables still fill.
 *
 * For tests and scripts the page states what it shows in attributes: each figure's raw value
 * in data-value, rows with data-version / data-log-id / data-ab-id, the equity curve's
 * data-points and data-final, and on <body> data-ready="1" once every panel is filled,
 * data-chart-ready="1" once the charts are drawn ("0" without Chart.js) and
 * data-csp-violations (the Content-Security-Policy reports seen).
 */
"use strict";

(function () {
    const LOG_LIMIT = 20;
    const SIGNALS_LIMIT = 10000;
    const MAX_DETAILS = 30;
    const REFRESH_MS = 60000;

    const body = document.body;
    const charts = {};
    let cspViolations = 0;
    body.dataset.cspViolations = "0";
    document.addEventListener("securitypolicyviolation", function () {
        cspViolations++;
        body.dataset.cspViolations = String(cspViolations);
    });

    function $(id) {
        return document.getElementById(id);
    }

    /* {status, body}: body is the parsed JSON, or null */
    async function get(path) {
        try {
            const r = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
            let data = null;
            try {
                data = await r.json();
            } catch (e) {
                data = null;
            }
            return { status: r.status, body: data };
        } catch (e) {
            return { status: 0, body: null };
        }
    }

    function errorText(res) {
        if (res.status === 0)
            return "the server did not answer";
        const msg = res.body && res.body.error ? res.body.error.message : "";
        return "HTTP " + res.status + (msg ? ": " + msg : "");
    }

    function isNum(v) {
        return typeof v === "number" && isFinite(v);
    }
    function fmtInt(v) {
        return isNum(v) ? String(Math.round(v)) : "\u2013";
    }
    function fmtNum(v, digits) {
        return isNum(v) ? v.toFixed(digits) : "\u2013";
    }
    function fmtPct(v) {
        return isNum(v) ? (v * 100).toFixed(1) + "%" : "\u2013";
    }
    function fmtTime(t) {
        return typeof t === "string" && t.length >= 16 ? t.slice(0, 16).replace("T", " ") + "Z" : "\u2013";
    }

    /* A figure: the formatted text, the raw value in data-value ("" for none) */
    function setFigure(id, value, text) {
        const el = $(id);
        el.dataset.value = value === null || value === undefined ? "" : String(value);
        el.textContent = text;
    }

    function cell(tr, text, cls) {
        const td = document.createElement("td");
        td.textContent = text === null || text === undefined || text === "" ? "\u2013" : String(text);
        if (cls)
            td.className = cls;
        tr.appendChild(td);
        return td;
    }

    function clearRows(tableId) {
        const tbody = $(tableId).tBodies[0];
        tbody.replaceChildren();
        return tbody;
    }

    function messageRow(tableId, text, cls) {
        const tbody = clearRows(tableId);
        const tr = document.createElement("tr");
        const td = cell(tr, text, cls || "muted");
        td.colSpan = $(tableId).tHead.rows[0].cells.length;
        tbody.appendChild(tr);
    }

    /* ---- the panels ----------------------------------------------------------------------- */

    function showActive(list, detail) {
        const name = list.active;
        $("active-version").textContent = name || "none";
        $("active-version").dataset.version = name || "";
        $("serving-note").textContent =
            list.serving && list.serving !== name ? "(this server still serves " + list.serving + ")" : "";
        const p = detail && detail.production ? detail.production : {};
        if (detail)
            $("active-meta").textContent = detail.type + " version, trained " + fmtTime(detail.trained_at) +
                " on " + fmtTime(detail.data_from) + " .. " + fmtTime(detail.data_to) +
                (detail.parent ? ", parent " + detail.parent : "");
        else
            $("active-meta").textContent = name ? "" : "no version is active";
        setFigure("prod-predictions", p.predictions, fmtInt(p.predictions));
        setFigure("prod-open", p.open, fmtInt(p.open));
        setFigure("prod-trades", p.trades, fmtInt(p.trades));
        setFigure("prod-wins", p.wins, fmtInt(p.wins));
        setFigure("prod-reported", p.reported, fmtInt(p.reported));
        setFigure("prod-win-rate", p.win_rate, fmtPct(p.win_rate));
        setFigure("prod-avg-pnl", p.avg_pnl, fmtNum(p.avg_pnl, 2));
        setFigure("prod-total-pips", p.total_pips, fmtNum(p.total_pips, 1));
        setFigure("prod-sharpe", p.sharpe_ratio, fmtNum(p.sharpe_ratio, 2));
    }

    function showVersions(list, details) {
        const tbody = clearRows("versions");
        const rows = list.versions.slice().reverse(); /* newest first */
        for (const v of rows) {
            const tr = document.createElement("tr");
            tr.dataset.version = v.version;
            if (v.version === list.active)
                tr.className = "active";
            cell(tr, v.version + (v.version === list.active ? " \u2605" : ""));
            cell(tr, v.type);
            cell(tr, v.status);
            cell(tr, fmtTime(v.trained_at));
            cell(tr, fmtTime(v.data_to));
            cell(tr, fmtNum(v.val && v.val.macro_f1, 3), "num");
            cell(tr, fmtNum(v.test && v.test.macro_f1, 3), "num");
            const bt = v.backtest || {};
            cell(tr, fmtInt(bt.trades), "num");
            cell(tr, fmtPct(bt.win_rate), "num");
            cell(tr, fmtNum(bt.total_pips, 1), "num");
            const d = details[v.version];
            const p = d && d.production ? d.production : null;
            cell(tr, p ? fmtInt(p.predictions) : "", "num");
            cell(tr, p ? fmtInt(p.trades) : "", "num");
            const wr = cell(tr, p ? fmtPct(p.win_rate) : "", "num live-win-rate");
            wr.dataset.value = p && isNum(p.win_rate) ? String(p.win_rate) : "";
            cell(tr, p ? fmtNum(p.total_pips, 1) : "", "num");
            tbody.appendChild(tr);
        }
        if (!rows.length)
            messageRow("versions", "no version is registered yet");
        $("versions-count").textContent = rows.length + " registered";
        $("versions").dataset.count = String(rows.length);
    }

    function showLog(lg) {
        const tbody = clearRows("cycles");
        const rows = lg.log.slice().reverse();
        for (const r of rows) {
            const tr = document.createElement("tr");
            tr.dataset.logId = String(r.id);
            tr.className = "status-" + r.status;
            cell(tr, r.id);
            cell(tr, r.cycle);
            cell(tr, fmtTime(r.as_of));
            cell(tr, r.status);
            cell(tr, r.version);
            cell(tr, r.verdict, "verdict");
            cell(tr, fmtNum(r.candidate_value, 3) + " / " + fmtNum(r.active_value, 3), "num");
            cell(tr, r.error || r.reason, "reason").title = r.error || r.reason;
            tbody.appendChild(tr);
        }
        if (!rows.length)
            messageRow("cycles", "no cycle has run yet");
        const acts = clearRows("activations");
        for (const a of lg.activations.slice().reverse().slice(0, 10)) {
            const tr = document.createElement("tr");
            cell(tr, fmtTime(a.at));
            cell(tr, a.from);
            cell(tr, a.to);
            cell(tr, a.reason);
            acts.appendChild(tr);
        }
    }

    function showAbTests(ab) {
        const tbody = clearRows("abtests");
        const tests = ab.ab_tests.slice().reverse();
        /* running first, then the finished ones, newest first */
        tests.sort(function (x, y) {
            return (x.status === "running" ? 0 : 1) - (y.status === "running" ? 0 : 1);
        });
        for (const t of tests) {
            const tr = document.createElement("tr");
            tr.dataset.abId = t.id;
            tr.dataset.status = t.status;
            tr.className = "status-" + t.status;
            cell(tr, t.id);
            cell(tr, t.version_a + " vs " + t.version_b);
            cell(tr, t.pairs || "all");
            cell(tr, t.status);
            cell(tr, fmtTime(t.started_at));
            cell(tr, fmtTime(t.planned_end));
            cell(tr, fmtInt(t.n_pred_a) + " / " + fmtInt(t.n_pred_b), "num");
            cell(tr, t.verdict, "verdict");
            const end = t.end_reason ? fmtTime(t.ended_at) + ": " + t.end_reason : "";
            cell(tr, end, "reason").title = end;
            tbody.appendChild(tr);
        }
        if (!tests.length)
            messageRow("abtests", "no A/B test yet");
        const running = tests.filter(function (t) {
            return t.status === "running";
        }).length;
        $("ab-count").textContent = running + " running, " + (tests.length - running) + " finished";
    }

    /* The closed signals in exit-time order and their running sum of pips. */
    function equityOf(signals) {
        const closed = signals.filter(function (g) {
            return (g.outcome === "win" || g.outcome === "loss") && isNum(g.pnl_pips) && g.exit_time;
        });
        closed.sort(function (a, b) {
            return a.exit_time < b.exit_time ? -1 : a.exit_time > b.exit_time ? 1 : a.id - b.id;
        });
        let sum = 0;
        const labels = [], values = [];
        for (const g of closed) {
            sum += g.pnl_pips;
            labels.push(fmtTime(g.exit_time).slice(5)); /* MM-DD HH:MMZ */
            values.push(sum);
        }
        return { labels: labels, values: values, final: sum };
    }

    function showEquity(eq, n, limited) {
        const box = $("equity-chart");
        box.dataset.points = String(eq.values.length);
        box.dataset.final = String(eq.final);
        $("equity-summary").textContent = eq.values.length
            ? eq.values.length + " closed trades of " + n + " signals" + (limited ? " (the newest " + n + ")" : "") +
              ", " + fmtNum(eq.final, 1) + " pips in all"
            : "no closed signal yet: the position monitor resolves outcomes on new bars";
    }

    function showProbe(id, res) {
        const el = $(id);
        const out = el.querySelector(".probe-body");
        out.replaceChildren();
        out.className = "probe-body";
        if (res.status === 404) {
            el.dataset.state = "not-measured";
            out.className = "probe-body muted";
            out.textContent = "not measured yet";
            return;
        }
        if (res.status !== 200 || !res.body || typeof res.body !== "object") {
            el.dataset.state = "error";
            out.className = "probe-body warn";
            out.textContent = "not available (" + errorText(res) + ")";
            return;
        }
        el.dataset.state = "measured";
        const dl = document.createElement("dl");
        for (const k of Object.keys(res.body)) {
            const v = res.body[k];
            const dt = document.createElement("dt");
            dt.textContent = k;
            const dd = document.createElement("dd");
            let text = typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
            if (text.length > 160)
                text = text.slice(0, 157) + "...";
            dd.textContent = text;
            dl.append(dt, dd);
        }
        out.appendChild(dl);
    }

    /* ---- charts ---------------------------------------------------------------------------- */

    function drawCharts(eq, list, details) {
        if (typeof window.Chart !== "function") {
            $("charts-missing").hidden = false;
            body.dataset.chartReady = "0";
            return;
        }
        const Chart = window.Chart;
        for (const k of Object.keys(charts)) {
            charts[k].destroy();
            delete charts[k];
        }
        const common = { animation: false, responsive: true, maintainAspectRatio: false };
        charts.equity = new Chart($("equity-chart"), {
            type: "line",
            data: {
                labels: eq.labels,
                datasets: [{ label: "cumulative pips", data: eq.values, borderColor: "#2563eb",
                             backgroundColor: "rgba(37, 99, 235, 0.12)", fill: true, pointRadius: 2,
                             tension: 0.1 }],
            },
            options: Object.assign({}, common, {
                plugins: { legend: { display: false } },
                scales: {
                    x: { ticks: { maxTicksLimit: 6, maxRotation: 0 } },
                    y: { title: { display: true, text: "pips" } },
                },
            }),
        });
        const names = list.versions.map(function (v) {
            return v.version;
        });
        function series(f) {
            return list.versions.map(function (v) {
                const x = f(v);
                return isNum(x) ? x : null;
            });
        }
        charts.versions = new Chart($("versions-chart"), {
            type: "bar",
            data: {
                labels: names,
                datasets: [
                    { label: "val macro-F1", data: series(function (v) { return v.val && v.val.macro_f1; }),
                      backgroundColor: "#94a3b8" },
                    { label: "backtest win rate", data: series(function (v) { return v.backtest && v.backtest.win_rate; }),
                      backgroundColor: "#60a5fa" },
                    { label: "live win rate", data: series(function (v) {
                        const d = details[v.version];
                        return d && d.production ? d.production.win_rate : null;
                    }), backgroundColor: "#16a34a" },
                ],
            },
            options: Object.assign({}, common, { scales: { y: { min: 0, max: 1 } } }),
        });
        /* drawn: Chart.js laid out one point per closed trade */
        const drawn = charts.equity.getDatasetMeta(0).data.length === eq.values.length;
        body.dataset.chartReady = drawn ? "1" : "0";
    }

    /* ---- loading --------------------------------------------------------------------------- */

    async function load() {
        const [vres, lres, ares, sres, dres, qres] = await Promise.all([
            get("v1/versions"),
            get("v1/log?limit=" + LOG_LIMIT),
            get("v1/ab-tests"),
            get("v1/signals?limit=" + SIGNALS_LIMIT),
            get("v1/drift"),
            get("v1/data-quality"),
        ]);
        let list = { active: null, serving: null, versions: [] };
        const details = {};
        if (vres.status === 200 && vres.body) {
            list = vres.body;
            const names = list.versions.slice(-MAX_DETAILS).map(function (v) {
                return v.version;
            });
            if (list.active && names.indexOf(list.active) < 0)
                names.push(list.active);
            const got = await Promise.all(names.map(function (n) {
                return get("v1/versions/" + encodeURIComponent(n));
            }));
            names.forEach(function (n, i) {
                if (got[i].status === 200)
                    details[n] = got[i].body;
            });
            showActive(list, list.active ? details[list.active] : null);
            showVersions(list, details);
        } else {
            $("active-version").textContent = "unavailable";
            $("active-meta").textContent = errorText(vres);
            messageRow("versions", "versions unavailable (" + errorText(vres) + ")", "warn");
        }
        if (lres.status === 200 && lres.body)
            showLog(lres.body);
        else
            messageRow("cycles", "log unavailable (" + errorText(lres) + ")", "warn");
        if (ares.status === 200 && ares.body)
            showAbTests(ares.body);
        else
            messageRow("abtests", "A/B tests unavailable (" + errorText(ares) + ")", "warn");
        let eq = { labels: [], values: [], final: 0 };
        if (sres.status === 200 && sres.body) {
            eq = equityOf(sres.body.signals);
            showEquity(eq, sres.body.count, sres.body.count >= SIGNALS_LIMIT);
        } else {
            $("equity-summary").textContent = "signals unavailable (" + errorText(sres) + ")";
        }
        showProbe("drift", dres);
        showProbe("data-quality", qres);
        drawCharts(eq, list, details);
        $("updated").textContent = "updated " + new Date().toISOString().slice(0, 19).replace("T", " ") + "Z";
        body.dataset.ready = "1";
    }

    async function loop() {
        try {
            await load();
        } finally {
            setTimeout(loop, REFRESH_MS);
        }
    }
    loop();
})();
