#!/usr/bin/env bash
# signal_log.sh BUILD_DIR [COUNTS...] - the cost of recording a signal as the log grows.
#
# For each count N (default 10000 100000 1000000): a store with two pairs of synthetic bars and
# one small trained version, N signals already recorded (aifx-fill-signals: resolved outcomes,
# two pairs, one per bar, years before the bars predicted), then `aifx-train predict` with
# recording on R (default 9) new bars in turn, each timed as a whole process; and `rank` once.
# Prints the median and the range of the predict times per N, and the rank time. Runs with
# OPENBLAS_NUM_THREADS=1; the machine's CPU is printed first.
#   AIFX_BENCH_LEGACY=1      the N signals as an older store's single file (signals.aifx); the
#                            first predict moves it into the log and is shown apart ("first")
#   AIFX_BENCH_TRAIN=EXE     another aifx-train for the predicts and rank (a build of before the
#                            split log, with AIFX_BENCH_LEGACY=1), to compare
set -euo pipefail
build="${1:?usage: signal_log.sh BUILD_DIR [COUNTS...]}"
shift
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(10000 100000 1000000)
runs="${AIFX_BENCH_RUNS:-9}"
train="${AIFX_BENCH_TRAIN:-$build/trainer/aifx-train}"
legacy=()
[ "${AIFX_BENCH_LEGACY:-0}" = "1" ] && legacy=(--legacy)
fill="$build/bench/aifx-fill-signals"
work="$(mktemp -d "${TMPDIR:-/tmp}/aifx-siglog.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export OPENBLAS_NUM_THREADS=1

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores;" \
     "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
base="$work/base"
"$train" synth --pair EURUSD --from 2024-01-01 --to 2024-04-01 --seed 7 --store "$base" >/dev/null
"$train" synth --pair USDJPY --from 2024-01-01 --to 2024-04-01 --seed 8 --store "$base" >/dev/null
"$train" full --as-of 2024-03-25T00:00:00Z --months 2 --hidden 8 --epochs 2 --quiet \
    --store "$base" >/dev/null

now_ns() { date +%s%N; }
printf '%10s  %10s  %14s  %14s  %10s  %10s\n' signals "first" "predict median" "predict range" \
    "rank" "store MB"
for n in "${counts[@]}"; do
    st="$work/s$n"
    cp -a "$base" "$st"
    "$fill" "$st" "$n" "${legacy[@]}"
    times=()
    first=-
    for ((i = 0; i <= runs; i++)); do
        # a new bar each time: 2024-03-28 10:00 + i x 15 min
        as_of="$(date -u -d "2024-03-28 10:00 UTC + $((15 * (i + 1))) min" +%Y-%m-%dT%H:%M:%SZ)"
        t0=$(now_ns)
        "$train" predict --pair EURUSD --as-of "$as_of" --store "$st" >/dev/null
        ms=$(( ($(now_ns) - t0) / 1000000 ))
        if [ "$i" -eq 0 ]; then first=$ms; else times+=("$ms"); fi
    done
    sorted=($(printf '%s\n' "${times[@]}" | sort -n))
    t0=$(now_ns)
    "$train" rank --as-of 2024-03-29T00:00:00Z --store "$st" >/dev/null
    rank_ms=$(( ($(now_ns) - t0) / 1000000 ))
    mb=$(du -sm "$st" | cut -f1)
    printf '%10s  %7s ms  %11s ms  %6s-%-5s ms  %7s ms  %10s\n' "$n" "$first" "${sorted[$((runs / 2))]}" \
        "${sorted[0]}" "${sorted[$((runs - 1))]}" "$rank_ms" "$mb"
done
