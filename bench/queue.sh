#!/usr/bin/env bash
# queue.sh BUILD_DIR [WHAT...] - the figures of docs/performance.md, "Issue 17: the job queue",
# on a directory store and, when $AIFX_TEST_PG names a server (scripts/lib/pg.sh), on PostgreSQL.
# WHAT (default: all four):
#   overhead   aifx-bench-queue overhead: 200 no-op jobs, per call, in an empty queue and after
#              a backlog of 1,000 finished jobs
#   synthetic  aifx-bench-queue drain: 24 jobs of 2 CPU seconds of arithmetic over 8 families
#              by 1, 2 and 4 worker processes, after the same work in 1, 2 and 4 processes
#              without a queue (what the shared machine gives that many processes)
#   waiting    the same drain of 24 jobs that wait 2 s each (the queue's dispatch alone)
#   real       `aifx-train worker --concurrency W` (W = 1, 2, 4) draining the real jobs that
#              daily `enqueue-due` calls queue over 12 days of the shared 15-minute EUR/USD and
#              USD/JPY bars ($AIFX_SHARED_DATA, default ../shared/data): 2 weekly retrains, 1
#              ranking, 12 fine-tunes and 12 drift checks in the default family, with the model
#              options in $AIFX_BENCH_MODEL (default none: run-due's defaults)
#   families   the same on 24 jobs of six model families (EUR/USD, USD/JPY and both, at 15m and
#              at 1h, from the shared 15-minute and hourly files): each family's two Sunday
#              retrains and two Thursday fine-tunes (2025-08-24 .. 2025-09-04; USD/JPY ends on 09-12)
# Each configuration starts from a fresh store (the real drains ingest the bars into it). Runs with
# OPENBLAS_NUM_THREADS=1 (one core per worker); prints the CPU, the load averages before each
# figure, and the results.
set -euo pipefail
build="${1:?usage: queue.sh BUILD_DIR [overhead|synthetic|waiting|real|families ...]}"
shift
what=("$@")
[ ${#what[@]} -gt 0 ] || what=(overhead synthetic waiting real)
train="$build/trainer/aifx-train"
bq="$build/bench/aifx-bench-queue"
data="${AIFX_SHARED_DATA:-../shared/data}"
read -r -a model <<<"${AIFX_BENCH_MODEL:-}"
work="$(mktemp -d "${TMPDIR:-/tmp}/aifx-queue.XXXXXX")"
cleanup() {
    if [ -n "${AIFX_TEST_PG:-}" ]; then
        for db in $(psql "$AIFX_TEST_PG" -Atc "SELECT datname FROM pg_database WHERE datname \
                    LIKE 'aifx_bench_queue_$$_%'" 2>/dev/null); do
            psql "$AIFX_TEST_PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT
export OPENBLAS_NUM_THREADS=1
psql() { "${AIFX_PG_BIN:-/usr/lib/postgresql/15/bin}/psql" "$@"; }

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores;" \
     "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, OPENBLAS_NUM_THREADS=1"
load() { echo "   load averages: $(cut -d' ' -f1-3 /proc/loadavg)"; }

# new_store KIND NAME: prints the location of a fresh, empty store (a migrated database); NAME
# is unique per configuration.
new_store() {
    if [ "$1" = dir ]; then
        echo "$work/$2"
    else
        local db="aifx_bench_queue_$$_$2"
        psql "$AIFX_TEST_PG" -qc "CREATE DATABASE $db" >/dev/null
        "$train" db migrate --store "$AIFX_TEST_PG dbname=$db" >/dev/null
        echo "$AIFX_TEST_PG dbname=$db"
    fi
}

# drain LOC W: runs `aifx-train worker --concurrency W` on the queue at LOC until no job is
# queued, running or failed, then stops it; prints the jobs, the time and jobs per minute.
drain() {
    local loc="$1" nw="$2" n t0 t1 pid
    n="$("$train" jobs list --json --store "$loc" | grep -o '"id":' | wc -l)"
    load
    t0=$(date +%s.%N)
    "$train" worker --concurrency "$nw" --poll 0.5 --quiet ${model[@]+"${model[@]}"} \
        --store "$loc" &
    pid=$!
    # (grep reads it all: with pipefail, -q would fail the list on SIGPIPE)
    while "$train" jobs list --store "$loc" | grep -E ' (queued|running|failed) ' >/dev/null; do
        sleep 0.2
    done
    t1=$(date +%s.%N)
    kill -TERM "$pid"
    wait "$pid" || true
    awk -v n="$n" -v t0="$t0" -v t1="$t1" 'BEGIN {
        printf "%d jobs: %.1f s, %.1f jobs/min\n", n, t1 - t0, 60 * n / (t1 - t0) }'
}

# shared_store TAG [h1]: a fresh store of kind $k in $loc holding both shared pairs' 15-minute
# bars (and, with h1, their hourly ones), its checkpoints in $AIFX_MODELS_DIR (work/models-TAG-k).
shared_store() {
    loc="$(new_store "$k" "$1")"
    export AIFX_MODELS_DIR="$work/models-$1-$k"
    local p P
    for p in eurusd usdjpy; do
        P="$(echo "$p" | tr a-z A-Z)"
        "$train" ingest --pair "$P" --csv "$data/${p}_m15.csv" --store "$loc" >/dev/null
        if [ "${2:-}" = h1 ]; then
            "$train" ingest --pair "$P" --csv "$data/${p}_h1.csv" --timeframe 1h \
                --store "$loc" >/dev/null
        fi
    done
}

kinds=(dir)
[ -n "${AIFX_TEST_PG:-}" ] && kinds+=(pg)

for w in "${what[@]}"; do
    case "$w" in
    overhead)
        for k in "${kinds[@]}"; do
            for backlog in 0 1000; do
                echo "== overhead, $k store, backlog $backlog"
                load
                loc="$(new_store "$k" "ov$backlog")"
                "$bq" overhead --store "$loc" --jobs 200 --backlog "$backlog"
            done
        done
        ;;
    synthetic)
        for nw in 1 2 4; do
            echo "== the same work without a queue, $nw processes"
            load
            "$bq" burn --jobs 24 --workers "$nw" --work 2
        done
        for k in "${kinds[@]}"; do
            for nw in 1 2 4; do
                echo "== synthetic drain, $k store, $nw workers"
                load
                loc="$(new_store "$k" "syn$nw")"
                "$bq" drain --store "$loc" --jobs 24 --families 8 --workers "$nw" --work 2
            done
        done
        ;;
    waiting)
        for k in "${kinds[@]}"; do
            for nw in 1 2 4; do
                echo "== synthetic drain of waiting jobs, $k store, $nw workers"
                load
                loc="$(new_store "$k" "wait$nw")"
                "$bq" drain --store "$loc" --jobs 24 --families 8 --workers "$nw" --work 2 --wait
            done
        done
        ;;
    real)
        for k in "${kinds[@]}"; do
            for nw in 1 2 4; do
                echo "== real drain, $k store, $nw workers (model options: ${model[*]:-defaults})"
                shared_store "real$nw"
                for d in $(seq 5 16); do
                    "$train" enqueue-due --as-of "2025-10-$(printf %02d "$d")T12:00:00Z" --quiet \
                        --store "$loc"
                done
                drain "$loc" "$nw"
                "$train" jobs list --store "$loc" >"$work/jobs-$k-$nw.txt"
                echo "   by cycle: jobs, attempts, seconds per run (the log's started and finished)"
                "$train" log --json --store "$loc" | python3 -c '
import json, sys, datetime
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
jobs = {}
for line in open(sys.argv[1]).readlines()[1:]:
    f = line.split()
    c = jobs.setdefault(f[2], [0, 0])
    c[0] += 1
    c[1] += int(f[5].split("/")[0])
runs = {}
for r in json.load(sys.stdin):
    runs.setdefault(r["cycle"], []).append(t(r["finished_at"]) - t(r["started_at"]))
for c in sorted(jobs):
    d = sorted(runs.get(c, [0]))
    print("     %-11s %2d jobs, %2d attempts, %5.1f s mean, %5.1f s max" %
          (c, jobs[c][0], jobs[c][1], sum(d) / len(d), d[-1]))
' "$work/jobs-$k-$nw.txt"
                unset AIFX_MODELS_DIR
            done
        done
        ;;
    families)
        for k in "${kinds[@]}"; do
            for nw in 1 2 4; do
                echo "== families drain, $k store, $nw workers (model options: ${model[*]:-defaults})"
                shared_store "fam$nw" h1
                fams=()
                for tf in 15m 1h; do
                    for set in eu:EURUSD uj:USDJPY ej:EURUSD,USDJPY; do
                        "$train" family add "${set%%:*}-$tf" --pairs "${set#*:}" --timeframe "$tf" \
                            --quiet --store "$loc"
                        fams+=("${set%%:*}-$tf")
                    done
                done
                # two weeks: each Sunday's retrain and Thursday's fine-tune, per family
                for f in "${fams[@]}"; do
                    for d in 2025-08-28 2025-09-04; do
                        "$train" enqueue-due --family "$f" --as-of "${d}T12:00:00Z" --disable rank \
                            --disable abtest --disable drift --quiet --store "$loc"
                    done
                done
                drain "$loc" "$nw"
                "$train" jobs list --store "$loc" | awk 'NR > 1 { n[$5]++; a[$5] += $6 + 0 }
                    END { for (s in n) printf "   %s: %d jobs, %d attempts\n", s, n[s], a[s] }'
                for f in "${fams[@]}"; do
                    "$train" log --family "$f" --json --store "$loc" | python3 -c '
import json, sys, datetime
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
r = json.load(sys.stdin)
print("   %-7s " % sys.argv[1] + ", ".join("%s %s %.0f s" % (x["cycle"], x["status"],
      t(x["finished_at"]) - t(x["started_at"])) for x in r))' "$f"
                done
                unset AIFX_MODELS_DIR
            done
        done
        ;;
    *)
        echo "queue.sh: unknown figure '$w' (overhead, synthetic, waiting, real, families)" >&2
        exit 2
        ;;
    esac
done
