#!/usr/bin/env bash
# fuzz.sh - builds the three libFuzzer targets with clang (address + undefined sanitizers) and
# runs each for a bounded time from its committed seed corpus:
#   fuzz_checkpoint  the checkpoint loader (tests/fuzz/corpus/)
#   fuzz_family      a model family's definition text (tests/fuzz/family_corpus/)
#   fuzz_serve       aifx-serve's request handling, serve_handle, on a small directory store
#                    (tests/fuzz/serve_corpus/); built from aifxcore's sources compiled here with
#                    clang (the CMake build's objects are gcc's and carry no fuzzer
#                    instrumentation), trainer/serve/ without main.c and http.c, and jansson
#
#   scripts/fuzz.sh [SECONDS]     each target SECONDS, default 30; CI runs it from scripts/test.sh
#   scripts/fuzz.sh --seeds       rewrites tests/fuzz/corpus/ (after a format change)
#
# New inputs that libFuzzer finds go to scratch corpora under build/fuzz, not into the
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

# fuzz_family: the definition parser and writer, with the few files they use
mkdir -p "$out/family_corpus"
clang "${cflags[@]}" -Itrainer -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
    tests/fuzz/fuzz_family.c trainer/registry/family.c trainer/base/{err,timeutil,strbuf}.c \
    trainer/market/{labels,decide,backtest,ta}.c libaifxnn/*.c "${libs[@]}" -o "$out/fuzz_family"
"$out/fuzz_family" -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2560 \
    -artifact_prefix="$out/family-" -print_final_stats=1 "$out/family_corpus" \
    tests/fuzz/family_corpus

# fuzz_serve: the core's layers (as trainer/CMakeLists.txt globs them, without PostgreSQL) and
# the server's handling; -O1 keeps the build near a minute on two cores.
mkdir -p "$out/serve_corpus"
mapfile -t core < <(ls trainer/{base,market,registry,store,data,report,cycles}/*.c |
    grep -v '/store/store_pg\.c$')
mapfile -t serve < <(ls trainer/serve/*.c | grep -Ev '/serve/(main|http)\.c$')
clang "${cflags[@]}" -Itrainer $(pkg-config --cflags jansson plplot libcurl) -D_GNU_SOURCE \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
    tests/fuzz/fuzz_serve.c "${serve[@]}" "${core[@]}" libaifxnn/*.c \
    $(pkg-config --libs jansson plplot libcurl) -lpthread "${libs[@]}" -o "$out/fuzz_serve"
# -rss_limit_mb: a body is at most 64 KiB here; the store grows with the bars the fuzzer posts
"$out/fuzz_serve" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2560 \
    -artifact_prefix="$out/serve-" -print_final_stats=1 "$out/serve_corpus" \
    tests/fuzz/serve_corpus
