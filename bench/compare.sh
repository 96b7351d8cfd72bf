#!/bin/sh
# compare.sh - aifx-bench, PyTorch (torch_lstm.py) and oneDNN (aifx-onednn-lstm) side by side.
#
#   bench/compare.sh BUILD_DIR [ROUNDS]        (ROUNDS default 3)
#
# For each configuration - threads 1 and 2, each with OPENBLAS_CORETYPE as found in the
# environment and with it unset (one run when it is unset already) - runs the three programs
# interleaved, A B C A B C ..., ROUNDS times, every program with OPENBLAS_NUM_THREADS (and, for
# oneDNN's OpenMP, OMP_NUM_THREADS) set explicitly to the thread count, then prints one table of
# medians over the rounds and the ratios ours/PyTorch, ours/oneDNN and the fraction of the same
# aifx-bench run's 2048^3 sgemm GFLOP/s. Raw JSON lands in $COMPARE_OUT (default
# BUILD_DIR/compare-<date>). A program that is missing (no torch, no oneDNN) is skipped.
# Environment: COMPARE_THREADS (default "1 2"), COMPARE_REPS (3), COMPARE_MIN_TIME (0.15),
# COMPARE_BASE: a second build directory (e.g. of the commit before a change) whose aifx-bench
# runs in the same rounds, A B C D A B C D ..., and shows as "base" columns with ours/base.
# A last table pairs the programs by round (median over rounds of each round's ratio), which
# follows the programs rather than the load when other jobs share the machine.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [ROUNDS]" >&2
    exit 2
fi
build=$1
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
threads_list=${COMPARE_THREADS:-"1 2"}
reps=${COMPARE_REPS:-3}
min_time=${COMPARE_MIN_TIME:-0.15}
out=${COMPARE_OUT:-$build/compare-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"

aifx=$build/bench/aifx-bench
onednn=$build/bench/aifx-onednn-lstm
py=/usr/bin/python3
[ -x "$aifx" ] || { echo "compare.sh: $aifx not built" >&2; exit 1; }
have_torch=0
if [ -x "$py" ] && "$py" -c 'import torch' 2>/dev/null; then have_torch=1; fi
have_onednn=0
[ -x "$onednn" ] && have_onednn=1
base=${COMPARE_BASE:-}
have_base=0
if [ -n "$base" ]; then
    [ -x "$base/bench/aifx-bench" ] || { echo "compare.sh: $base/bench/aifx-bench not built" >&2; exit 1; }
    have_base=1
fi

found=${OPENBLAS_CORETYPE-}
if [ -n "$found" ]; then envs="found unset"; else envs="found"; fi

echo "compare.sh: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cpus"
echo "compare.sh: OPENBLAS_CORETYPE as found: '${found:-<unset>}'; torch: $have_torch; oneDNN: $have_onednn; base: ${base:-none}"
echo "compare.sh: load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "compare.sh: raw results in $out"

# run ENV THREADS ROUND PROGRAM
run() {
    tag=$1-t$2-r$3-$4
    if [ "$1" = unset ]; then ct_unset="-u OPENBLAS_CORETYPE"; else ct_unset=""; fi
    # shellcheck disable=SC2086
    case $4 in
    aifx)
        env $ct_unset OPENBLAS_NUM_THREADS="$2" OMP_NUM_THREADS="$2" \
            "$aifx" --threads "$2" --reps "$reps" --min-time "$min_time" --json >"$out/$tag.json" ;;
    torch)
        env $ct_unset OPENBLAS_NUM_THREADS="$2" OMP_NUM_THREADS="$2" \
            "$py" "$here/torch_lstm.py" --threads "$2" --reps "$reps" --min-time "$min_time" \
            --json >"$out/$tag.json" ;;
    base)
        env $ct_unset OPENBLAS_NUM_THREADS="$2" OMP_NUM_THREADS="$2" \
            "$base/bench/aifx-bench" --threads "$2" --reps "$reps" --min-time "$min_time" \
            --json >"$out/$tag.json" ;;
    onednn)
        env $ct_unset OPENBLAS_NUM_THREADS="$2" OMP_NUM_THREADS="$2" \
            "$onednn" --threads "$2" --reps "$reps" --min-time "$min_time" --json >"$out/$tag.json" ;;
    esac
}

for e in $envs; do
    for t in $threads_list; do
        r=1
        while [ "$r" -le "$rounds" ]; do
            echo "compare.sh: env=$e threads=$t round $r/$rounds"
            run "$e" "$t" "$r" aifx
            [ $have_torch = 1 ] && run "$e" "$t" "$r" torch
            [ $have_onednn = 1 ] && run "$e" "$t" "$r" onednn
            [ $have_base = 1 ] && run "$e" "$t" "$r" base
            r=$((r + 1))
        done
    done
done
echo "compare.sh: load after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$py" - "$out" "$found" <<'EOF'
import glob, json, os, statistics, sys
out, found = sys.argv[1], sys.argv[2]
rows = {}
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    env, t, _, prog = os.path.basename(path)[:-5].split("-")
    with open(path) as f:
        d = json.load(f)
    for w in d["workloads"]:
        k = (env, int(t[1:]), w["workload"])
        r = rows.setdefault(k, {})
        for field in ("train_samples_per_s", "infer_seq_per_s_b256", "latency_b1_us", "peak_rss_mib"):
            r.setdefault((prog, field), []).append(w[field])
        if prog in ("aifx", "base"):
            r.setdefault((prog, "sgemm"), []).append(d["sgemm_2048_gflops"])
            r.setdefault((prog, "gflops"), []).append(w["train_gflops"])
        if prog == "aifx":
            r.setdefault(("aifx", "core"), []).append(d["openblas_corename"])
def med(r, prog, field):
    v = r.get((prog, field))
    return statistics.median(v) if v else float("nan")
def ratio(a, b):
    return a / b if b == b and b > 0 else float("nan")
print()
print("medians over rounds; train = training samples/s, infer = sequences/s at batch 256, lat = batch-1 us;")
print("/torch, /dnnl = ours over theirs (for lat: our time over theirs, lower is better)")
hdr = ("env", "thr", "wl", "core", "sgemm", "aifx tr", "torch tr", "dnnl tr", "/torch", "/dnnl", "%peak",
       "aifx inf", "torch inf", "dnnl inf", "/torch", "/dnnl", "aifx lat", "torch lat", "dnnl lat", "/dnnl",
       "rss MiB")
fmt = "%-6s %3s %-3s %-9s %6s | %8s %8s %8s %6s %6s %6s | %9s %9s %9s %6s %6s | %8s %9s %8s %6s | %7s"
print(fmt % hdr)
for k in sorted(rows):
    r = rows[k]
    env = (found or "unset") if k[0] == "found" else "unset"
    core = (r.get(("aifx", "core")) or ["?"])[0]
    a, t_, d = (med(r, p, "train_samples_per_s") for p in ("aifx", "torch", "onednn"))
    ai, ti, di = (med(r, p, "infer_seq_per_s_b256") for p in ("aifx", "torch", "onednn"))
    al, tl, dl = (med(r, p, "latency_b1_us") for p in ("aifx", "torch", "onednn"))
    sg = med(r, "aifx", "sgemm")
    print(fmt % (env, k[1], k[2], core, "%.0f" % sg, "%.0f" % a, "%.0f" % t_, "%.0f" % d,
                 "%.2f" % ratio(a, t_), "%.2f" % ratio(a, d), "%.1f" % (100 * ratio(med(r, "aifx", "gflops"), sg)),
                 "%.0f" % ai, "%.0f" % ti, "%.0f" % di, "%.2f" % ratio(ai, ti), "%.2f" % ratio(ai, di),
                 "%.1f" % al, "%.1f" % tl, "%.1f" % dl, "%.2f" % ratio(al, dl),
                 "%.1f" % med(r, "aifx", "peak_rss_mib")))
# against the base build, same rounds
if any(("base", "train_samples_per_s") in r for r in rows.values()):
    print()
    print("against the base build (same rounds): train, infer, lat = base's figures; /base = ours over base (lat: base over ours)")
    fmt2 = "%-6s %3s %-3s | %8s %8s %6s %6s %6s | %9s %9s %6s | %8s %8s %6s"
    print(fmt2 % ("env", "thr", "wl", "base tr", "aifx tr", "/base", "%pk b", "%pk", "base inf", "aifx inf", "/base",
                  "base lat", "aifx lat", "/base"))
    for k in sorted(rows):
        r = rows[k]
        env = (found or "unset") if k[0] == "found" else "unset"
        bt, at = med(r, "base", "train_samples_per_s"), med(r, "aifx", "train_samples_per_s")
        bi, ai = med(r, "base", "infer_seq_per_s_b256"), med(r, "aifx", "infer_seq_per_s_b256")
        bl, al = med(r, "base", "latency_b1_us"), med(r, "aifx", "latency_b1_us")
        print(fmt2 % (env, k[1], k[2], "%.0f" % bt, "%.0f" % at, "%.2f" % ratio(at, bt),
                      "%.1f" % (100 * ratio(med(r, "base", "gflops"), med(r, "base", "sgemm"))),
                      "%.1f" % (100 * ratio(med(r, "aifx", "gflops"), med(r, "aifx", "sgemm"))),
                      "%.0f" % bi, "%.0f" % ai, "%.2f" % ratio(ai, bi),
                      "%.1f" % bl, "%.1f" % al, "%.2f" % ratio(bl, al)))
# paired by round: each round's ratio of two programs run back to back, then the median over the
# rounds; on a loaded machine this follows the programs where the ratio of medians follows the load
print()
print("paired by round: median over rounds of ours / theirs in the same round, the conventions of the")
print("tables above (lat/dnnl our time over theirs, lower is better; lat/base base's time over ours);")
print("probe = the rounds' sgemm GFLOP/s, min-max")
rounds = {}
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    env, t, rnd, prog = os.path.basename(path)[:-5].split("-")
    with open(path) as f:
        d = json.load(f)
    for w in d["workloads"]:
        rounds.setdefault((env, int(t[1:]), w["workload"]), {}).setdefault(rnd, {})[prog] = (
            w, d.get("sgemm_2048_gflops"))
fmt3 = "%-6s %3s %-3s | %9s | %7s %7s | %7s %7s | %7s %7s"
print(fmt3 % ("env", "thr", "wl", "probe", "tr/dnnl", "tr/base", "inf/dnnl", "inf/base", "lat/dnnl", "lat/base"))
def paired(per, field, other, inv):
    v = []
    for progs in per.values():
        a, b = progs.get("aifx"), progs.get(other)
        if a and b and a[0][field] > 0 and b[0][field] > 0:
            v.append(b[0][field] / a[0][field] if inv else a[0][field] / b[0][field])
    return "%.2f" % statistics.median(v) if v else "-"
for k in sorted(rounds):
    per = rounds[k]
    env = (found or "unset") if k[0] == "found" else "unset"
    probes = [p["aifx"][1] for p in per.values() if "aifx" in p and p["aifx"][1]]
    print(fmt3 % (env, k[1], k[2], "%.0f-%.0f" % (min(probes), max(probes)) if probes else "-",
                  paired(per, "train_samples_per_s", "onednn", False),
                  paired(per, "train_samples_per_s", "base", False),
                  paired(per, "infer_seq_per_s_b256", "onednn", False),
                  paired(per, "infer_seq_per_s_b256", "base", False),
                  paired(per, "latency_b1_us", "onednn", False),
                  paired(per, "latency_b1_us", "base", True)))
# 2 threads against 1 thread, ours
print()
for env in sorted({k[0] for k in rows}):
    for wl in ("W1", "W2", "W3"):
        one, two = rows.get((env, 1, wl)), rows.get((env, 2, wl))
        if one and two:
            print("aifx %s %s: train 2 threads / 1 thread = %.2f, infer %.2f" % (
                (found or "unset") if env == "found" else "unset", wl,
                ratio(med(two, "aifx", "train_samples_per_s"), med(one, "aifx", "train_samples_per_s")),
                ratio(med(two, "aifx", "infer_seq_per_s_b256"), med(one, "aifx", "infer_seq_per_s_b256"))))
EOF
