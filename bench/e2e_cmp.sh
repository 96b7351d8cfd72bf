#!/bin/sh
# e2e_cmp.sh - are two replays' directory stores the same result? (issue 18's bit-identity check,
# as docs/results.md's "Restart" one.)
#
#   bench/e2e_cmp.sh STORE_A STORE_B
#
# Every file of the two stores is compared with cmp (bars, the signal log with the signals'
# outcomes, every checkpoint, the rank and cycle reports) except two that hold wall-clock
# figures by construction (docs/operations.md, section 4): registry.aifx, compared field by field
# after blanking the wall-clock fields (*_at, started/finished times, seconds, the "at" of events)
# and the store's own name in report paths, and the replay's timeline, compared without its
# timing line. Prints what differs; exit 0 when nothing does, 1 otherwise.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 STORE_A STORE_B" >&2; exit 2; }
a=$1
b=$2
status=0
n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$a" && find . -type f ! -name 'lock*' | sort) >"$tmp/a"
(cd "$b" && find . -type f ! -name 'lock*' | sort) >"$tmp/b"
if ! cmp -s "$tmp/a" "$tmp/b"; then
    echo "e2e_cmp: the stores hold different files:"
    diff "$tmp/a" "$tmp/b" || true
    status=1
fi
# a registry or timeline with its wall-clock figures and the store's name blanked
mask() {
    tr '\t' '\n' <"$1" |
        sed -E -e 's/^(AIFXREG [0-9]+ [0-9]+) .*/\1/' \
            -e 's/^((started_at|finished_at|created_at|deployed_at|deprecated_at|trained_at|at|seconds|ended_at)=).*/\1*/' \
            -e 's/"(started_at|finished_at|seconds|at|trained_at|created_at|deployed_at)":("[^"]*"|[-0-9.e+]+|null)/"\1":*/g' \
            -e "s#$2/#STORE/#g" \
            -e 's/[0-9.]+ s wall \(cycles [0-9.]+ s, predictions [0-9.]+ s\)/* s wall/'
}
while IFS= read -r f; do
    [ -f "$b/$f" ] || continue
    n=$((n + 1))
    case $f in
    ./registry.aifx | ./reports/replay-*.md)
        mask "$a/$f" "$a" >"$tmp/ma"
        mask "$b/$f" "$b" >"$tmp/mb"
        if ! cmp -s "$tmp/ma" "$tmp/mb"; then
            echo "e2e_cmp: $f differs beyond its wall-clock fields:"
            diff "$tmp/ma" "$tmp/mb" | head -20
            status=1
        fi
        ;;
    *)
        if ! cmp -s "$a/$f" "$b/$f"; then
            # the rank reports name the store's reports directory
            if sed "s#$a/#STORE/#g" "$a/$f" >"$tmp/ra" && sed "s#$b/#STORE/#g" "$b/$f" >"$tmp/rb" &&
                cmp -s "$tmp/ra" "$tmp/rb"; then
                :
            else
                echo "e2e_cmp: $f differs"
                status=1
            fi
        fi
        ;;
    esac
done <"$tmp/a"
if [ $status = 0 ]; then
    echo "e2e_cmp: $n files, the same (registry and timeline apart from wall-clock fields)"
fi
exit $status
