#!/usr/bin/env bash
# quickstart.sh - the main job end to end on the embedded default store (./aifx-data):
# installs missing Debian packages (as root; see scripts/lib/deps.sh), builds aifx-train,
# generates deterministic synthetic 15-minute bars of EUR/USD and USD/JPY, and replays three
# weeks of the loop on them (`aifx-train replay`: each bar's signal from the active version,
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
section "Synthetic bars: 3 weeks to replay, 4 months of history before them"
"$train" synth --pair EURUSD --from 2024-01-12 --to 2024-06-03 --seed 7 --csv "$bars/eurusd_m15.csv"
"$train" synth --pair USDJPY --from 2024-01-12 --to 2024-06-03 --seed 8 --csv "$bars/usdjpy_m15.csv"

# Four weekly retrains (Sundays 2024-05-12, 19, 26 and June 2), a daily fine-tune behind the
# gate every night, and the monthly ranking of June 1st; the same command with --from/--to
# further apart replays months (README.md).
section "Replay 2024-05-12 .. 2024-06-03: predictions, outcomes, and run-due at every 15-minute step"
# Killed, the same command continues where it was (state in $AIFX_STORE/replay.state).
start=$(date +%s)
"$train" replay --csv "$bars/eurusd_m15.csv" --pair EURUSD --csv "$bars/usdjpy_m15.csv" \
    --pair USDJPY --from 2024-05-12 --to 2024-06-03
echo "quickstart: replay took $(( $(date +%s) - start )) s"

cat <<NEXT

==== Next ====
Three commands to try on this store:
  $train versions --store "$AIFX_STORE"                     # every version and its figures
  $train log --activations --store "$AIFX_STORE"            # why the active version changed
  $train evaluate --version v1.0 --from 2024-05-20 --to 2024-06-03 --store "$AIFX_STORE"
More: $train help, docs/cli.md, and docs/operations.md for running it every 15 minutes.
NEXT
