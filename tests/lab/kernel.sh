#!/usr/bin/env bash
# Fetches one of the lab's two guest kernels as Debian packages and unpacks
# it under CACHE_DIR, once: a later run that resolves the same version reuses
# the cached .debs and the unpacked tree.
#
#   legacy   Debian 12's own kernel (linux-image-6.1.0-N-amd64), through the
#            machine's apt configuration: the legacy DAX fault path.
#   current  the newest kernel of $LAB_CURRENT_SUITE (trixie-backports), at
#            least 6.15, so the refcounted DAX fault path: through a PRIVATE
#            apt configuration under CACHE_DIR/apt-SUITE (its own sources
#            list, lists and cache directories) pointing at the same mirror
#            the machine's apt uses. The machine's apt sources are never
#            changed; the version is resolved at run time, never pinned.
#
# Usage: kernel.sh CACHE_DIR legacy|current
# Prints "KVER=... ROOT=... VMLINUZ=... MODDIR=... VERSION=... SUITE=..." on
# success. Exits 77 (skip) with the reason on stderr when no package can be
# had (no mirror reachable and nothing cached).
set -euo pipefail
CACHE=${1:?usage: kernel.sh CACHE_DIR legacy|current}
SERIES=${2:-legacy}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
cd "$CACHE"

say() { echo "lab: kernel ($SERIES): $*" >&2; }
# Debian 12's kernels are 6.1.0-N; every other cached tree is "current".
series_of() { case "$(basename "$1")" in kernel-6.1.0-*) echo legacy ;; *) echo current ;; esac; }

# The mirror the machine's apt already uses for its own release (from
# `apt-cache policy`, which covers one-line and deb822 sources alike).
machine_mirror() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  apt-cache policy 2>/dev/null |
    awk -v s="$codename/main" '$3 == s && $2 ~ /^https?:/ {print $2; exit}'
}

APT=(apt-get)
APT_CACHE=(apt-cache)
if [ "$SERIES" = current ]; then
  SUITE=${LAB_CURRENT_SUITE:-trixie-backports}
  MIRROR=${LAB_DEBIAN_MIRROR:-$(machine_mirror)}
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  PRIV="$CACHE/apt-$SUITE"
  mkdir -p "$PRIV/lists/partial" "$PRIV/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
    "$MIRROR $SUITE main" > "$PRIV/sources.list"
  OPTS=(-o "Dir::Etc::sourcelist=$PRIV/sources.list"
    -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$PRIV/lists"
    -o "Dir::Cache=$PRIV/cache" -o "APT::Get::List-Cleanup=0")
  APT=(apt-get "${OPTS[@]}")
  APT_CACHE=(apt-cache "${OPTS[@]}")
  # A fresh index every run: "the newest kernel" is decided now. Offline,
  # the lists of an earlier run (or the cached .debs below) still serve.
  "${APT[@]}" -qq update >&2 2>"$PRIV/update.log" ||
    say "apt-get update of $SUITE failed ($(tail -n1 "$PRIV/update.log")); using cached lists"
  PATTERN='linux-image-[0-9]*-amd64_*.deb'
else
  SUITE=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  PATTERN='linux-image-6.1.0-*-amd64_*.deb'
fi

# linux-image-amd64 is Debian's meta package; its Depends names the current
# ABI package, linux-image-<KVER>.
pkg=$("${APT_CACHE[@]}" depends linux-image-amd64 2>/dev/null |
  awk '/Depends: linux-image-[0-9]/ {print $2; exit}' || true)

# The kernel proper: newer Debian kernels split it over linux-image- (a small
# meta package), linux-binary-, linux-modules- and linux-base-<KVER>; older
# ones ship everything in linux-image-<KVER>.
parts_of() {
  local kver=${1#linux-image-}
  echo "$1"
  "${APT_CACHE[@]}" depends "$1" 2>/dev/null |
    awk -v k="-$kver" '$1 == "Depends:" && $2 ~ /^linux-[a-z]+-/ &&
      substr($2, length($2) - length(k) + 1) == k {print $2}'
}

debs_for() {  # the cached .deb of each part, or nothing if one is missing
  local p d out=""
  for p in $(parts_of "$1"); do
    d=$(ls -1 "${p}"_*.deb 2>/dev/null | tail -n1 || true)
    [ -n "$d" ] || return 0
    out="$out $d"
  done
  echo "$out"
}

debs=""
if [ -n "$pkg" ]; then
  debs=$(debs_for "$pkg")
  if [ -z "$debs" ]; then
    # apt warns that _apt cannot write here; harmless, the download is ours.
    mapfile -t parts < <(parts_of "$pkg")
    say "downloading ${parts[*]}"
    (umask 022 && "${APT[@]}" -qq download "${parts[@]}" >&2 2>/dev/null) || true
    debs=$(debs_for "$pkg")
  fi
fi
if [ -z "$debs" ]; then
  # Offline: whatever kernel of this series an earlier run cached.
  # shellcheck disable=SC2086  # PATTERN is a glob
  cached=$(ls -1 $PATTERN 2>/dev/null | sort -V | tail -n1 || true)
  if [ -n "$cached" ]; then
    pkg=${cached%%_*}
    debs=$(ls -1 "${pkg}"_*.deb "linux-binary-${pkg#linux-image-}"_*.deb \
      "linux-modules-${pkg#linux-image-}"_*.deb \
      "linux-base-${pkg#linux-image-}"_*.deb 2>/dev/null | tr '\n' ' ' || true)
  fi
fi
if [ -z "$debs" ]; then
  say "SKIPPED: cannot fetch a kernel package from $SUITE" \
    "(apt-cache resolved '${pkg:-nothing}'; no cached .deb in $CACHE)"
  exit 77
fi

kver=${pkg#linux-image-}            # 6.1.0-57-amd64, 7.3.4+deb13-amd64
first_deb=$(echo "$debs" | awk '{print $1}')
version=$(dpkg-deb -f "$first_deb" Version 2>/dev/null || echo unknown)
root="$CACHE/kernel-$kver"
if [ ! -f "$root/.unpacked" ]; then
  rm -rf "$root"
  for d in $debs; do dpkg-deb -x "$d" "$root"; done
  # 7.x packages install to usr/lib/modules only; depmod -b (kmod 30)
  # looks under lib/modules.
  if [ ! -d "$root/lib/modules/$kver" ] && [ -d "$root/usr/lib/modules/$kver" ]; then
    mkdir -p "$root/lib/modules"
    ln -s "../../usr/lib/modules/$kver" "$root/lib/modules/$kver"
  fi
  # The package leaves modules.dep to its postinst; build it here.
  depmod -b "$root" "$kver"
  touch "$root/.unpacked"
  # Older kernels of this series: their trees and packages go.
  for old in "$CACHE"/kernel-*; do
    if [ "$old" = "$root" ] || [ "$(series_of "$old")" != "$SERIES" ]; then
      continue
    fi
    old_kver=${old#"$CACHE"/kernel-}
    say "dropping the cached older kernel $old_kver"
    rm -rf "$old" "$CACHE"/linux-*-"$old_kver"_*.deb
  done
fi
vmlinuz=""
for v in "$root/boot/vmlinuz-$kver" "$root/usr/lib/modules/$kver/vmlinuz"; do
  [ -f "$v" ] && vmlinuz=$v && break
done
[ -n "$vmlinuz" ] || { say "$pkg has no vmlinuz (boot/ or usr/lib/modules/)"; exit 1; }
moddir=$(readlink -f "$root/lib/modules/$kver")
echo "KVER=$kver ROOT=$root VMLINUZ=$vmlinuz MODDIR=$moddir" \
  "VERSION=$version SUITE=$SUITE"
