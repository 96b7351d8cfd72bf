#!/usr/bin/env bash
# fuzz.sh - builds the checkpoint loader's libFuzzer target with clang (address + undefined
# sanitizers) and runs it for a bounded time from the committed seed corpus.
#
#   scripts/fuzz.sh [SECONDS]     default 30; CI runs it from scripts/test.sh
#   scripts/fuzz.sh --seeds       rewrites tests/fuzz/corpus/ (after a format change)
#
# New inputs that libFuzzer finds go to a scratch corpus under build/fuzz, not into the
# repository; a crash leaves its input in build/fuzz/ and makes the script fail. Inputs that
# once failed are kept in tests/fuzz/regressions/ (checksums unchecked in this build) and run
# first every time.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out=build/fuzz
mkdir -p "$out/corpus"
cflags=(-std=c11 -g -O1 -Iinclude -Ilibaifxnn $(pkg-config --cflags openblas lapacke 2>/dev/null || true))
libs=(-lopenblas -llapacke -lm)

if [ "${1:-}" = "--seeds" ]; then
    cc "${cflags[@]}" tests/fuzz/make_seeds.c libaifxnn/*.c "${libs[@]}" -o "$out/make_seeds"
    "$out/make_seeds" tests/fuzz/corpus
    ls -l tests/fuzz/corpus
    exit 0
fi

seconds="${1:-30}"
clang "${cflags[@]}" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
    tests/fuzz/fuzz_checkpoint.c libaifxnn/*.c "${libs[@]}" -o "$out/fuzz_checkpoint"
# -rss_limit_mb: the loader must refuse absurd sizes, not allocate them
"$out/fuzz_checkpoint" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2560 \
    -artifact_prefix="$out/" -print_final_stats=1 "$out/corpus" tests/fuzz/corpus \
    tests/fuzz/regressions
