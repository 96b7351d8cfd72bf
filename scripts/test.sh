#!/usr/bin/env bash
# test.sh - the project's test command, and what CI runs (through .ci/run).
#
# Installs missing Debian packages (as root; see scripts/lib/deps.sh), then
#   0. scripts/lint.sh: formatting (clang-format), cppcheck, the trainer's layers;
#   1. build/ci:   Release, warnings as errors, every ctest test;
#   2. build/asan: Debug with -fsanitize=address,undefined, warnings as errors, every ctest test
#                  again with CK_FORK=no.
# Exits non-zero on the first failure.
#
#   3. scripts/fuzz.sh: the checkpoint loader under libFuzzer for AIFX_FUZZ_SECONDS (30).
# AIFX_TEST_SKIP_ASAN=1 skips step 2, for a quick local run. CI never sets it.
# Before step 1 a private PostgreSQL server starts in a temporary directory (scripts/lib/pg.sh)
# for the PostgreSQL store's tests of steps 1 and 2; it is stopped and deleted at exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=lib/deps.sh
. scripts/lib/deps.sh
# shellcheck source=lib/pg.sh
. scripts/lib/pg.sh

section() {
    printf '\n==== %s ====\n' "$*"
}

jobs="$(nproc 2>/dev/null || echo 2)"

section "Dependencies"
aifx_ensure_packages

# A private PostgreSQL server for the PostgreSQL tests of both ctest runs (scripts/lib/pg.sh),
# stopped and deleted at exit, whether the tests pass or not.
section "PostgreSQL test server"
trap aifx_pg_stop EXIT
aifx_pg_start

section "Static checks (scripts/lint.sh)"
bash scripts/lint.sh

section "Release build (build/ci, -Werror)"
cmake -S . -B build/ci -DCMAKE_BUILD_TYPE=Release -DAIFX_WERROR=ON
cmake --build build/ci -j"$jobs"

section "Tests (build/ci)"
ctest --test-dir build/ci --output-on-failure -j"$jobs"

if [ "${AIFX_TEST_SKIP_ASAN:-0}" = "1" ]; then
    section "Sanitizer build skipped (AIFX_TEST_SKIP_ASAN=1)"
else
    section "Sanitizer build (build/asan, address + undefined, -Werror)"
    cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DAIFX_SANITIZE=ON -DAIFX_WERROR=ON
    cmake --build build/asan -j"$jobs"

    section "Tests under sanitizers (build/asan)"
    CK_FORK=no ctest --test-dir build/asan --output-on-failure -j"$jobs"
fi

section "Fuzzing the checkpoint loader (libFuzzer, ${AIFX_FUZZ_SECONDS:-30} s)"
bash scripts/fuzz.sh "${AIFX_FUZZ_SECONDS:-30}"

section "All tests passed"
