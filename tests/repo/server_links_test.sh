#!/bin/bash
# daxkv-server stands on dax/ (libpmem2), not on the kernel probes: it must
# not link libndctl or libdaxctl itself (libpmem2 may pull them in at run
# time; that is libpmem2's business, not ours). liburing it does link: the
# server's io_uring network loop (kv/uring_loop.h, docs/networking.md).
# Usage: server_links_test.sh PATH_TO_DAXKV_SERVER
set -euo pipefail
bin=$1
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || { echo "no NEEDED entries read from $bin"; exit 1; }
echo "$bin needs: $(echo $needed)"
if echo "$needed" | grep -E '^lib(ndctl|daxctl)\.'; then
  echo "FAIL: daxkv-server links a probe-only library (above)"
  exit 1
fi
echo "$needed" | grep -q '^libpmem2\.' || { echo "FAIL: no libpmem2"; exit 1; }
echo "$needed" | grep -q '^liburing\.' || { echo "FAIL: no liburing"; exit 1; }
