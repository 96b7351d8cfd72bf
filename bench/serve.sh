#!/usr/bin/env bash
# serve.sh - aifx-serve under load (docs/performance.md, "aifx-serve"): POST /v1/predict with wrk
# (Debian's wrk), keep-alive, 16 connections, 2 wrk threads, on a synthetic EUR/USD store with a
# production-size version (1 x 64, T 20), directory store and, when $AIFX_TEST_PG names a server
# (scripts/lib/pg.sh), PostgreSQL.
#
#   bench/serve.sh [SECONDS]        default 10 s per run
#   AIFX_BENCH_RSS_REQUESTS=1000000 bench/serve.sh   also: resident memory before and after
#                                   that many more requests (recording off)
#   BUILD=build/release (default)   where aifx-train and aifx-serve are built
#
# Runs, per store: recording off, then on (a signal per request; all for the same bar, so the
# store keeps one and the rest are duplicates it recognises). Prints wrk's figures: p50, p90,
# p99 latency in microseconds, throughput, and non-2xx answers; the CPU, the OpenBLAS core type
# and the server's thread count. The server and wrk share the machine's cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
secs="${1:-10}"
build="${BUILD:-build/release}"
if [ ! -x "$build/trainer/aifx-serve" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j"$(nproc)" --target aifx-train aifx-serve >/dev/null
fi
train="$build/trainer/aifx-train"
serve="$build/trainer/aifx-serve"
command -v wrk >/dev/null || { echo "serve.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

work="$(mktemp -d /tmp/aifx-bench-serve.XXXXXX)"
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$work/token"
export AIFX_BENCH_TOKEN
AIFX_BENCH_TOKEN="$(cat "$work/token")"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "cpu: $cpu; $(nproc) cores; OPENBLAS_CORETYPE ${OPENBLAS_CORETYPE:-unset}; aifx-serve --threads 2; wrk -t2 -c16 -d${secs}s"

# make_store LOCATION: synthetic EUR/USD bars and one trained version
make_store() {
    local loc="$1"
    "$train" synth --store "$loc" --pair EURUSD --from 2024-01-01 --to 2024-05-01 --seed 5 >/dev/null
    "$train" full --store "$loc" --as-of 2024-05-01T00:00:00Z --months 2 --epochs 1 \
        --json >/dev/null
}

# rss_kb PID
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

run_store() {
    local name="$1" loc="$2"
    "$serve" --store "$loc" ${AIFX_MODELS_DIR:+--models-dir "$AIFX_MODELS_DIR"} \
        --listen 127.0.0.1:0 --token-file "$work/token" --threads 2 \
        >"$work/serve.out" 2>"$work/serve.err" &
    pid=$!
    local port=""
    for _ in $(seq 1 100); do
        port="$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/serve.out")"
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$work/serve.err" >&2; exit 1; }
    local url="http://127.0.0.1:$port/v1/predict"
    for rec in false true; do
        export AIFX_BENCH_BODY="{\"pair\":\"EURUSD\",\"as_of\":\"2024-05-01T00:00:00Z\",\"record\":$rec}"
        curl -sf -H "Authorization: Bearer $AIFX_BENCH_TOKEN" -d "$AIFX_BENCH_BODY" "$url" >/dev/null
        echo "== $name store, record $rec"
        wrk -t2 -c16 -d"${secs}s" --latency -s bench/serve_predict.lua "$url" |
            grep -E '^(requests|latency_us|throughput_rps|socket_errors)'
    done
    if [ -n "${AIFX_BENCH_RSS_REQUESTS:-}" ]; then
        export AIFX_BENCH_BODY='{"pair":"EURUSD","as_of":"2024-05-01T00:00:00Z","record":false}'
        local r0 t
        r0="$(rss_kb "$pid")"
        # the measured rate sets the duration of AIFX_BENCH_RSS_REQUESTS more requests
        t="$(wrk -t2 -c16 -d3s -s bench/serve_predict.lua "$url" | awk '/throughput_rps/ {print $2}')"
        r0="$(rss_kb "$pid")"
        local d=$(( AIFX_BENCH_RSS_REQUESTS / (t > 0 ? t : 1) + 1 ))
        local n
        n="$(wrk -t2 -c16 -d"${d}s" -s bench/serve_predict.lua "$url" | awk '/^requests/ {print $2}')"
        echo "== $name store, resident memory: ${r0} kB before, $(rss_kb "$pid") kB after $n more requests"
    fi
    kill -TERM "$pid"
    wait "$pid" || true
    pid=""
}

make_store "$work/store"
run_store directory "$work/store"
if [ -n "${AIFX_TEST_PG:-}" ]; then
    db="aifx_bench_serve_$$"
    psql "$AIFX_TEST_PG" -qc "CREATE DATABASE $db" >/dev/null
    loc="$AIFX_TEST_PG dbname=$db"
    "$train" db migrate --store "$loc" >/dev/null
    export AIFX_MODELS_DIR="$work/pg-models"
    make_store "$loc"
    run_store postgresql "$loc"
    psql "$AIFX_TEST_PG" -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null
fi
