#!/usr/bin/env bash
# quickstart.sh - the main job end to end on the embedded default store (./aifx-data):
# installs missing Debian packages (as root; see scripts/lib/deps.sh), builds aifx-train, loads
# EUR/USD and USD/JPY 15-minute bars (the real ones from ../shared/data when that folder is
# there, else deterministic synthetic bars), runs the weekly full retrain, one daily fine-tune
# with its deploy gate, a prediction for each pair, and shows the registry and training log.
#
#   scripts/quickstart.sh            store in ./aifx-data (kept; rerun to see a new version)
#   AIFX_STORE=DIR scripts/quickstart.sh
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

data="$root/../shared/data"
if [ -f "$data/eurusd_m15.csv" ] && [ -f "$data/usdjpy_m15.csv" ]; then
    section "Ingest the real bars of ../shared/data"
    "$train" ingest --pair EURUSD --timeframe 15m --csv "$data/eurusd_m15.csv"
    "$train" ingest --pair USDJPY --timeframe 15m --csv "$data/usdjpy_m15.csv"
    as_of=2025-06-01T00:00:00Z
    day=2025-06-04T02:00:00Z
else
    section "No ../shared/data: synthetic bars"
    "$train" synth --pair EURUSD --from 2024-01-01 --to 2024-07-01 --seed 7
    "$train" synth --pair USDJPY --from 2024-01-01 --to 2024-07-01 --seed 8
    as_of=2024-06-28T00:00:00Z
    day=2024-06-28T02:00:00Z
fi
"$train" bars

section "Weekly full retrain as of $as_of"
"$train" full --as-of "$as_of"

section "Daily fine-tune as of $day, with the deploy gate"
"$train" incremental --as-of "$day"

section "Signals"
for pair in EURUSD USDJPY; do
    "$train" predict --pair "$pair" --as-of "$day" --max-age 72
done

section "Registry"
"$train" versions
"$train" log
