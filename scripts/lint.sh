#!/usr/bin/env bash
# lint.sh - the static checks of scripts/test.sh, also runnable alone:
#   1. formatting: clang-format (Debian's, .clang-format at the root) over every C source and
#      header the project owns; a file that would change is an error (run
#      `scripts/lint.sh --fix` to reformat in place);
#   2. cppcheck (warning, style, performance, portability) over libaifxnn/ and trainer/, zero
#      findings; each suppression is explained in scripts/cppcheck-suppressions.txt;
#   3. the trainer's layers: includes point down only (scripts/check-layers.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mapfile -t sources < <(git ls-files -- '*.c' '*.h' | grep -v '^tests/fuzz/corpus/')

if [ "${1:-}" = "--fix" ]; then
    clang-format -i "${sources[@]}"
    echo "lint: reformatted ${#sources[@]} files"
    exit 0
fi

echo "lint: clang-format --dry-run -Werror on ${#sources[@]} files"
clang-format --dry-run -Werror "${sources[@]}"

echo "lint: cppcheck"
cppcheck --quiet --error-exitcode=1 --std=c11 --language=c \
    --enable=warning,style,performance,portability --inline-suppr \
    --suppressions-list=scripts/cppcheck-suppressions.txt \
    -I include -I libaifxnn -I trainer -D__GNUC__ -DAIFX_WITH_POSTGRESQL=1 \
    libaifxnn trainer

bash scripts/check-layers.sh
echo "lint: clean"
