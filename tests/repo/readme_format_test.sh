#!/usr/bin/env bash
# README.md's sample `daxkv-inspect pool` output names the media format
# version this build writes (engine/format.h's kFormatVersion), so the
# README goes stale loudly, not silently, when the format moves on.
# Usage: tests/repo/readme_format_test.sh [REPO_DIR]
set -euo pipefail
repo=${1:-$(dirname "$0")/../..}
version=$(sed -n 's/^inline constexpr uint32_t kFormatVersion = \([0-9]*\);.*/\1/p' \
  "$repo/engine/format.h")
if [ -z "$version" ]; then
  echo "FAIL: no 'kFormatVersion = N;' in engine/format.h" >&2
  exit 1
fi
want="format:      version $version (this build reads $version)"
if ! grep -qF "$want" "$repo/README.md"; then
  echo "FAIL: README.md's 'daxkv-inspect pool' sample does not show" \
    "'$want' (engine/format.h: kFormatVersion = $version); update the sample" >&2
  grep -n "format:      version" "$repo/README.md" >&2 || true
  exit 1
fi
echo "PASS: README shows format version $version"
