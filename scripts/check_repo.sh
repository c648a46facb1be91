#!/usr/bin/env bash
# Fails when the repository tracks a file over 1 MiB that is not a
# documented fixture: a large file is allowed only in a directory whose
# README.md names it (as tools/faultbench_compare/testdata/ does).
# Usage: scripts/check_repo.sh [REPO_DIR]   (default: this checkout)
set -euo pipefail
repo=${1:-$(dirname "$0")/..}
cd "$repo"
limit=$((1024 * 1024))
bad=0
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue  # deleted in the work tree, not yet committed
  size=$(stat -c %s "$f")
  [ "$size" -gt "$limit" ] || continue
  readme="$(dirname "$f")/README.md"
  if [ -f "$readme" ] && grep -qF "$(basename "$f")" "$readme"; then
    continue
  fi
  echo "check_repo: $f is $size bytes (> 1 MiB) and no README.md beside it documents it as a fixture" >&2
  bad=1
done < <(git ls-files -z)
if [ "$bad" -ne 0 ]; then
  echo "check_repo: remove the file, or document it in a README.md in its directory" >&2
  exit 1
fi
echo "check_repo: no undocumented file over 1 MiB is tracked"
