#!/usr/bin/env bash
# quickstart.sh - the main job end to end on the embedded default store (./aifx-data):
# installs missing Debian packages (as root; see scripts/lib/deps.sh), builds aifx-train,
# generates deterministic synthetic 15-minute bars of EUR/USD and USD/JPY, and replays three
# months of the loop on them (`aifx-train replay`: each bar's signal from the active version,
# the signals' outcomes, the daily fine-tunes, weekly retrains and monthly rankings on their
# schedule), then prints the timeline (also in <store>/reports/).
#
#   scripts/quickstart.sh            store in ./aifx-data (a rerun prints the finished replay)
#   AIFX_STORE=DIR scripts/quickstart.sh   (a new or empty DIR, or one of this replay)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=lib/deps.sh
. scripts/lib/deps.sh

jobs="$(nproc 2>/dev/null || echo 2)"
section() { printf '\n==== %s ====\n' "$*"; }

section "Dependencies"
aifx_ensure_packages

section "Build (build/release)"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build/release -j"$jobs" --target aifx-train
train=build/release/trainer/aifx-train
export AIFX_STORE="${AIFX_STORE:-$root/aifx-data}"
echo "store: $AIFX_STORE"

# The same synthetic bars everywhere (../shared/data or not), so the quick start is the same on
# every machine; README.md shows the replay on the real CSVs.
bars="$root/build/quickstart"
mkdir -p "$bars"
section "Synthetic bars: 3 months to replay, 3.5 months of history before them"
"$train" synth --pair EURUSD --from 2023-12-15 --to 2024-07-01 --seed 7 --csv "$bars/eurusd_m15.csv"
"$train" synth --pair USDJPY --from 2023-12-15 --to 2024-07-01 --seed 8 --csv "$bars/usdjpy_m15.csv"

section "Replay 2024-04-01 .. 2024-07-01: predictions, outcomes, and run-due at every 15-minute step"
# Killed, the same command continues where it was (state in $AIFX_STORE/replay.state).
start=$(date +%s)
"$train" replay --csv "$bars/eurusd_m15.csv" --pair EURUSD --csv "$bars/usdjpy_m15.csv" \
    --pair USDJPY --from 2024-04-01 --to 2024-07-01
echo "quickstart: replay took $(( $(date +%s) - start )) s"
