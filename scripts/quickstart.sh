#!/usr/bin/env bash
# quickstart.sh - installs missing Debian packages (as root; see scripts/lib/deps.sh), builds
# the project in build/release and runs aifx-demo, which trains a small LSTM on generated
# sequences and prints its loss falling.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=lib/deps.sh
. scripts/lib/deps.sh

jobs="$(nproc 2>/dev/null || echo 2)"

printf '\n==== Dependencies ====\n'
aifx_ensure_packages

printf '\n==== Build (build/release) ====\n'
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release
cmake --build build/release -j"$jobs" --target aifx-demo

printf '\n==== aifx-demo ====\n'
exec build/release/aifx-demo
