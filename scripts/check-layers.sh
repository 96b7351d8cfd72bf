#!/usr/bin/env bash
# check-layers.sh - the trainer's include rule: a file in trainer/<layer>/ includes headers of its
# own layer and of the layers below it only, never above (docs/architecture.md). The order is the
# list in trainer/CMakeLists.txt (AIFXCORE_LAYERS), then the programs' top floors, cli/
# (aifx-train) and serve/ (aifx-serve): nothing includes either, and neither includes the other.
# Prints each include that points up and exits 1 when there is one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/trainer"

layers=(base market registry store data report cycles cli serve)
tops=(cli serve) # side by side on top: each may include only itself among them
is_top() {
    local t
    for t in "${tops[@]}"; do
        [ "$t" = "$1" ] && return 0
    done
    return 1
}
rank_of() {
    local i
    for i in "${!layers[@]}"; do
        if [ "${layers[$i]}" = "$1" ]; then
            echo "$i"
            return
        fi
    done
    echo -1
}

bad=0
for dir in */; do
    layer="${dir%/}"
    r="$(rank_of "$layer")"
    if [ "$r" -lt 0 ]; then
        echo "check-layers: trainer/$layer/ is not a known layer (add it to this list and to" \
             "trainer/CMakeLists.txt)" >&2
        bad=1
        continue
    fi
    while IFS= read -r hit; do
        file="${hit%%:*}"
        inc="$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$hit")"
        case "$inc" in
        */*) ;;
        *) continue ;; # aifxnn.h, the library: below every layer
        esac
        target="${inc%%/*}"
        t="$(rank_of "$target")"
        if [ "$t" -lt 0 ] || [ "$t" -gt "$r" ] ||
            { is_top "$target" && [ "$target" != "$layer" ]; }; then
            echo "check-layers: trainer/$file includes \"$inc\": $layer may not include $target" >&2
            bad=1
        fi
    done < <(grep -rHn '^#include "' "$layer" --include='*.c' --include='*.h' | sed -E 's/:[0-9]+:/:/')
done
if [ "$bad" -ne 0 ]; then
    exit 1
fi
echo "check-layers: every include of trainer/ points down (${layers[*]})"
