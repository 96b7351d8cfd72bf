#!/bin/sh
# e2e.sh - the loop end to end on the shared real data (issue 18): aifx-train's replay, one
# weekly retrain and one daily fine-tune, timed as whole processes.
#
#   bench/e2e.sh BUILD_DIR [ROUNDS]           (ROUNDS default 3)
#
# On EURUSD and USDJPY 15-minute bars ($E2E_DATA/eurusd_m15.csv, usdjpy_m15.csv):
#   retrain    `aifx-train full --as-of $E2E_RETRAIN_AS_OF` on a store with both pairs ingested
#              (3 months, both pairs, every default), a fresh copy of that store per run;
#   finetune   `aifx-train incremental --as-of $E2E_FINETUNE_AS_OF` on a copy of that store
#              after one full retrain (its version active);
#   replay-N   `aifx-train replay` of both pairs from $E2E_FROM for N months, N in $E2E_MONTHS,
#              on a new store each run; cost per replayed month = wall time / N; the longest
#              replay's progress lines, timestamped as they arrive, give each simulated month's
#              own cost (the curve).
# Retrain and fine-tune run ROUNDS times, the replays $E2E_REPLAY_ROUNDS times (default 1: they
# take minutes); with E2E_BASE=OTHER_BUILD_DIR that build's aifx-train runs in the same rounds,
# interleaved (A B A B ...), for before/after figures from one run (E2E_BASE may be BUILD_DIR
# itself, at another thread count). Every run has OPENBLAS_NUM_THREADS=1 and
# AIFX_TRAIN_THREADS=$E2E_THREADS (default 1; the base: $E2E_BASE_THREADS, default 1; a program
# from before --train-threads ignores it and trains on one) set explicitly, and
# OPENBLAS_CORETYPE as found.
# Prints the CPU, the core type, the thread counts, the load average around every run, and one
# table of medians (and ours over base). Raw output in $E2E_OUT (default BUILD_DIR/e2e-<date>).
# Environment: E2E_DATA (default: ../shared/data next to the repository, else /work/shared/data),
# E2E_MONTHS ("1 3"), E2E_FROM (2024-09-01: 12 months fit in both files),
# E2E_RETRAIN_AS_OF (2025-06-01T01:00:00Z, a Sunday's slot), E2E_FINETUNE_AS_OF
# (2025-06-04T02:00:00Z, a Wednesday's), E2E_REPLAY_ROUNDS (1), E2E_SKIP ("" or a list of
# retrain finetune replay), E2E_RANK: rankings as "N@TIME" (e.g. "1@2024-09-12T00:00:00Z"); for
# each, `aifx-train rank --as-of TIME` on a copy of the store of the N-month replay (each
# replay's first round's store is kept as $E2E_OUT/replay-store-PROG-N), ROUNDS times, each
# program on the store it replayed itself, recorded as "rank@TIME" with the number of versions
# it evaluated.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [ROUNDS]" >&2
    exit 2
fi
build=$1
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
train=$build/trainer/aifx-train
[ -x "$train" ] || { echo "e2e.sh: $train not built" >&2; exit 1; }
train=$(cd "$(dirname "$train")" && pwd)/aifx-train
base_train=
if [ -n "${E2E_BASE:-}" ]; then
    base_train=$E2E_BASE/trainer/aifx-train
    [ -x "$base_train" ] || { echo "e2e.sh: $base_train not built" >&2; exit 1; }
    base_train=$(cd "$(dirname "$base_train")" && pwd)/aifx-train
fi
data=${E2E_DATA:-}
if [ -z "$data" ]; then
    if [ -d "$repo/../shared/data" ]; then data=$repo/../shared/data; else data=/work/shared/data; fi
fi
eur=$data/eurusd_m15.csv
jpy=$data/usdjpy_m15.csv
[ -r "$eur" ] && [ -r "$jpy" ] || { echo "e2e.sh: no $eur or $jpy" >&2; exit 1; }
months=${E2E_MONTHS:-"1 3"}
from=${E2E_FROM:-2024-09-01}
retrain_as_of=${E2E_RETRAIN_AS_OF:-2025-06-01T01:00:00Z}
finetune_as_of=${E2E_FINETUNE_AS_OF:-2025-06-04T02:00:00Z}
replay_rounds=${E2E_REPLAY_ROUNDS:-1}
threads=${E2E_THREADS:-1}
base_threads=${E2E_BASE_THREADS:-1}
skip=${E2E_SKIP:-}
out=${E2E_OUT:-$build/e2e-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
py=python3

export OPENBLAS_NUM_THREADS=1
progs="after"
[ -n "$base_train" ] && progs="after base"

echo "e2e.sh: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cpus"
echo "e2e.sh: OPENBLAS_CORETYPE '${OPENBLAS_CORETYPE:-<unset>}', OPENBLAS_NUM_THREADS $OPENBLAS_NUM_THREADS, AIFX_TRAIN_THREADS $threads${base_train:+ (base: $base_threads)}"
echo "e2e.sh: program $train${base_train:+; base $base_train}"
echo "e2e.sh: data $data; replay from $from, months: $months; retrain as of $retrain_as_of; fine-tune as of $finetune_as_of"
echo "e2e.sh: raw results in $out"

now() { date +%s.%N; }
load() { cut -d' ' -f1 /proc/loadavg; }
prog_path() { if [ "$1" = base ]; then echo "$base_train"; else echo "$train"; fi; }
prog_threads() { if [ "$1" = base ]; then echo "$base_threads"; else echo "$threads"; fi; }

# record FIGURE PROG ROUND SECONDS LOAD_BEFORE LOAD_AFTER
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$out/times.tsv"
    printf 'e2e.sh: %-10s %-5s round %s: %8.2f s (load %s -> %s)\n' "$1" "$2" "$3" "$4" "$5" "$6"
}

# The stores the timed runs start from, made once by the program under test.
tmpl=$out/tmpl
rm -rf "$tmpl"
mkdir -p "$tmpl"
"$train" ingest --pair EURUSD --csv "$eur" --store "$tmpl/bars" >"$out/ingest.log" 2>&1
"$train" ingest --pair USDJPY --csv "$jpy" --store "$tmpl/bars" >>"$out/ingest.log" 2>&1
case " $skip " in *" finetune "*) ;; *)
    cp -a "$tmpl/bars" "$tmpl/active"
    "$train" full --as-of "$retrain_as_of" --quiet --store "$tmpl/active" >"$out/tmpl-full.log" 2>&1
    ;;
esac

# timed CMD... : runs CMD, prints its wall seconds (stdout and stderr to $log)
timed() {
    t0=$(now)
    "$@" >"$log" 2>&1 || { echo "e2e.sh: failed: $* (see $log)" >&2; exit 1; }
    t1=$(now)
    echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}'
}

r=1
while [ "$r" -le "$rounds" ]; do
    for p in $progs; do
        exe=$(prog_path "$p")
        export AIFX_TRAIN_THREADS="$(prog_threads "$p")"
        case " $skip " in *" retrain "*) ;; *)
            s=$out/run-store
            rm -rf "$s"
            cp -a "$tmpl/bars" "$s"
            log=$out/retrain-$p-r$r.log
            l0=$(load)
            sec=$(timed "$exe" full --as-of "$retrain_as_of" --quiet --store "$s")
            record retrain "$p" "$r" "$sec" "$l0" "$(load)"
            rm -rf "$s"
            ;;
        esac
        case " $skip " in *" finetune "*) ;; *)
            s=$out/run-store
            rm -rf "$s"
            cp -a "$tmpl/active" "$s"
            log=$out/finetune-$p-r$r.log
            l0=$(load)
            sec=$(timed "$exe" incremental --as-of "$finetune_as_of" --quiet --store "$s")
            record finetune "$p" "$r" "$sec" "$l0" "$(load)"
            rm -rf "$s"
            ;;
        esac
    done
    r=$((r + 1))
done

# months after $from, as a date
month_end() {
    "$py" -c 'import sys
y, m, d = map(int, sys.argv[1].split("-")); m += int(sys.argv[2])
y += (m - 1) // 12; m = (m - 1) % 12 + 1
print("%04d-%02d-%02d" % (y, m, d))' "$from" "$1"
}

case " $skip " in *" replay "*) ;; *)
    r=1
    while [ "$r" -le "$replay_rounds" ]; do
        for n in $months; do
            to=$(month_end "$n")
            for p in $progs; do
                exe=$(prog_path "$p")
                export AIFX_TRAIN_THREADS="$(prog_threads "$p")"
                s=$out/run-store
                rm -rf "$s"
                tag=replay$n-$p-r$r
                l0=$(load)
                t0=$(now)
                # the progress lines (stderr), each with the wall time it arrived at
                "$exe" replay --csv "$eur" --pair EURUSD --csv "$jpy" --pair USDJPY \
                    --from "$from" --to "$to" --json --store "$s" 2>&1 >"$out/$tag.json" |
                    while IFS= read -r line; do printf '%s %s\n' "$(now)" "$line"; done >"$out/$tag.progress"
                t1=$(now)
                "$py" -c 'import json,sys; json.load(open(sys.argv[1]))' "$out/$tag.json" 2>/dev/null ||
                    { echo "e2e.sh: replay failed (see $out/$tag.json, $out/$tag.progress)" >&2; exit 1; }
                echo "$t0" >"$out/$tag.start"
                record "replay$n" "$p" "$r" "$(echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}')" "$l0" "$(load)"
                if [ "$r" = 1 ]; then
                    rm -rf "$out/replay-store-$p-$n"
                    mv "$s" "$out/replay-store-$p-$n"
                fi
                rm -rf "$s"
            done
        done
        r=$((r + 1))
    done
    ;;
esac
for nt in ${E2E_RANK:-}; do
    n=${nt%%@*}
    t=${nt#*@}
    r=1
    while [ "$r" -le "$rounds" ]; do
        for p in $progs; do
            exe=$(prog_path "$p")
            export AIFX_TRAIN_THREADS="$(prog_threads "$p")"
            [ -d "$out/replay-store-$p-$n" ] || { echo "e2e.sh: $nt needs the $n-month replay (no $out/replay-store-$p-$n)" >&2; exit 1; }
            s=$out/run-store
            rm -rf "$s"
            cp -a "$out/replay-store-$p-$n" "$s"
            log=$out/rank-$t-$p-r$r.json
            l0=$(load)
            sec=$(timed "$exe" rank --as-of "$t" --json --store "$s")
            n_eval=$("$py" -c 'import json,sys; print(sum(1 for v in json.load(open(sys.argv[1]))["versions"] if v["evaluated"]))' "$log")
            record "rank@$t" "$p" "$r" "$sec" "$l0" "$(load)"
            echo "e2e.sh: rank@$t $p: $n_eval versions evaluated"
            echo "$n_eval" >"$out/rank-$t-$p.evaluated"
            rm -rf "$s"
        done
        r=$((r + 1))
    done
done
echo "e2e.sh: load after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$py" - "$out" "$months" <<'EOF'
import glob, json, os, re, statistics, sys
out, months = sys.argv[1], [int(m) for m in sys.argv[2].split()]
runs = {}
with open(os.path.join(out, "times.tsv")) as f:
    for line in f:
        fig, prog, rnd, sec, l0, l1 = line.rstrip("\n").split("\t")
        runs.setdefault((fig, prog), []).append((float(sec), float(l0), float(l1)))
def med(fig, prog):
    v = runs.get((fig, prog))
    return statistics.median(s for s, _, _ in v) if v else float("nan")
def loads(fig, prog):
    v = runs.get((fig, prog), [])
    return "%.1f-%.1f" % (min(min(a, b) for _, a, b in v), max(max(a, b) for _, a, b in v)) if v else "-"
def ratio(a, b):
    return b / a if a == a and b == b and a > 0 else float("nan")
progs = ["after"] + (["base"] if any(p == "base" for _, p in runs) else [])
figs = [f for f in ["retrain", "finetune"] + ["replay%d" % m for m in months] if (f, "after") in runs]
figs += sorted({f for f, p in runs if f.startswith("rank@") and p == "after"})
print()
print("medians of wall seconds (n = runs); per month = replay seconds / months; base/ours > 1: ours faster")
hdr = "%-26s %3s %10s %10s" % ("figure", "n", "ours s", "per month")
if "base" in progs:
    hdr += " %10s %10s %8s" % ("base s", "per month", "base/ours")
print(hdr + "  load")
for f in figs:
    n = len(runs[(f, "after")])
    a = med(f, "after")
    m = int(f[6:]) if f.startswith("replay") else 0
    line = "%-26s %3d %10.1f %10s" % (f, n, a, "%.1f" % (a / m) if m else "")
    if "base" in progs:
        b = med(f, "base")
        line += " %10.1f %10s %8.2f" % (b, "%.1f" % (b / m) if m else "", ratio(a, b))
    if f.startswith("rank@"):
        ev = [open(os.path.join(out, "rank-%s-%s.evaluated" % (f[5:], p))).read().strip()
              for p in progs if os.path.exists(os.path.join(out, "rank-%s-%s.evaluated" % (f[5:], p)))]
        line += "  evaluated " + "/".join(ev)
    print(line + "  " + loads(f, "after") + ("/" + loads(f, "base") if "base" in progs else ""))
# the replay's own split of its time, and each simulated month's cost in the longest replay
for prog in progs:
    for m in months:
        js = sorted(glob.glob(os.path.join(out, "replay%d-%s-r*.json" % (m, prog))))
        for path in js[:1]:
            d = json.load(open(path))
            tl = d.get("timeline_markdown", "")
            mm = re.search(r"([0-9.]+) s wall \(cycles ([0-9.]+) s, predictions ([0-9.]+) s\)", tl)
            if mm:
                print("replay%-3d %-5s: %s steps, %s signals; %s s wall, cycles %s s, predictions %s s"
                      % (m, prog, d.get("steps"), d.get("signals"), mm.group(1), mm.group(2), mm.group(3)))
longest = max(months) if months else 0
for prog in progs:
    paths = sorted(glob.glob(os.path.join(out, "replay%d-%s-r*.progress" % (longest, prog))))
    if not paths:
        continue
    path = paths[0]
    t0 = float(open(path[:-len(".progress")] + ".start").read())
    cuts, prev_month, prev_t = [], None, t0
    for line in open(path):
        mm = re.match(r"([0-9.]+) replay (\d{4}-\d{2})-\d\dT", line)
        if not mm:
            continue
        t, month = float(mm.group(1)), mm.group(2)
        if prev_month is not None and month != prev_month:
            cuts.append((prev_month, t - prev_t))
            prev_t = t
        prev_month = month
    if prev_month is not None:
        end = os.path.getmtime(path)
        cuts.append((prev_month + " (to the end)", end - prev_t))
    print()
    print("each simulated month's wall seconds in the %d-month replay (%s), from its progress lines:" % (longest, prog))
    for month, sec in cuts:
        print("  %-22s %8.1f" % (month, sec))
EOF
