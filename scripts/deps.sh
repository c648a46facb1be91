#!/usr/bin/env bash
# Installs every Debian 12 package daxkv needs to build, test, benchmark and
# run its QEMU lab. Idempotent: installs only what is missing, and runs
# apt-get update only when something is.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config git clang-14 libclang-rt-14-dev
  # libraries
  libpmem2-dev libdaxctl-dev libndctl-dev libgflags-dev libgtest-dev
  libgmock-dev libbenchmark-dev nlohmann-json3-dev liburing-dev libabsl-dev
  liblzf-dev libssl-dev
  # scripting: Lua 5.1 and the cjson and bit modules scripts expect
  liblua5.1-0-dev lua-cjson-dev lua-bitop-dev
  # peers for side-by-side numbers
  liblmdb-dev librocksdb-dev redis-server redis-tools redis-sentinel python3-redis
  nutcracker
  # real applications run through daxkv-server in the tests
  python3-rq python3-celery
  # DAX tooling and the QEMU lab
  ndctl daxctl qemu-system-x86 busybox-static cpio kmod e2fsprogs xz-utils
  debian-archive-keyring
  # plots
  gnuplot-nox python3-matplotlib
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
