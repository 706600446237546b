#!/bin/sh
# Fails, listing the files, when a tracked .c/.h file is not formatted with the
# project's .clang-format. Outside a git checkout it checks every .c/.h file.
set -eu
root=${1:?usage: check-format.sh SOURCE_ROOT}
cd "$root"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files -- '*.c' '*.h')
else
  files=$(find . -path ./build -prune -o \( -name '*.c' -o -name '*.h' \) -print | grep -v '/build')
fi
bad=0
for f in $files; do
  [ -f "$f" ] || continue
  if ! clang-format --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (run: clang-format -i $f)"
    bad=$((bad + 1))
  fi
done
n=$(echo "$files" | grep -c . || true)
echo "format: $n files checked, $bad not formatted"
[ "$bad" -eq 0 ]
