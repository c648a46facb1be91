#!/usr/bin/env bash
# Fetches Debian's current linux-image-6.1.0-N-amd64 with `apt-get download`
# and unpacks it under CACHE_DIR, once: a later run with the same package
# version reuses the cached .deb and the unpacked tree.
#
# Usage: kernel.sh CACHE_DIR
# Prints "KVER=<version> ROOT=<unpacked dir>" on success. Exits 77 (skip)
# with the reason on stderr when no kernel package can be had at all.
set -euo pipefail
CACHE=${1:?usage: kernel.sh CACHE_DIR}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
cd "$CACHE"

# linux-image-amd64 is Debian's meta package; its Depends names the current
# ABI (linux-image-6.1.0-N-amd64).
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
  awk '/Depends: linux-image-[0-9]/ {print $2; exit}' || true)

deb=""
if [ -n "$pkg" ]; then
  deb=$(ls -1 "${pkg}"_*.deb 2>/dev/null | tail -n1 || true)
  if [ -z "$deb" ]; then
    echo "lab: downloading $pkg" >&2
    # apt warns that _apt cannot write here; harmless, the download is ours.
    apt-get download "$pkg" >&2 2>/dev/null || true
    deb=$(ls -1 "${pkg}"_*.deb 2>/dev/null | tail -n1 || true)
  fi
fi
if [ -z "$deb" ]; then
  # Offline: fall back to whatever kernel package an earlier run cached.
  deb=$(ls -1 linux-image-6.1.0-*-amd64_*.deb 2>/dev/null | tail -n1 || true)
fi
if [ -z "$deb" ]; then
  echo "lab: SKIPPED: cannot fetch a linux-image-6.1.0-N-amd64 package" \
    "(apt-cache resolved '${pkg:-nothing}'; no cached .deb in $CACHE)" >&2
  exit 77
fi

name=${deb%%_*}                 # linux-image-6.1.0-56-amd64
kver=${name#linux-image-}        # 6.1.0-56-amd64
root="$CACHE/kernel-$kver"
if [ ! -f "$root/.unpacked" ]; then
  rm -rf "$root"
  dpkg -x "$deb" "$root"
  # The package leaves modules.dep to its postinst; build it here.
  depmod -b "$root" "$kver"
  touch "$root/.unpacked"
fi
[ -f "$root/boot/vmlinuz-$kver" ] || {
  echo "lab: $deb has no boot/vmlinuz-$kver" >&2
  exit 1
}
echo "KVER=$kver ROOT=$root"
