#!/usr/bin/env bash
# Builds the lab's initramfs: busybox, ndctl/daxctl/mkfs.ext4/redis-cli, every
# ELF in the project's bin/ (debug info stripped), their shared libraries,
# the DAX/ext4 kernel modules with their dependencies, and the guest scripts.
# Uncompressed on purpose: under software emulation the guest kernel would
# spend longer inflating a gzip archive than QEMU spends loading a raw one.
#
# Usage: initramfs.sh KERNEL_ROOT KVER BIN_DIR OUT_CPIO
set -euo pipefail
KROOT=${1:?} KVER=${2:?} BIN_DIR=${3:?} OUT=${4:?}
HERE=$(cd "$(dirname "$0")" && pwd)
STAGE="$OUT.d"
MODDIR="$KROOT/lib/modules/$KVER"

# Insmod order from machine-facts.md; dependencies found in modules.dep are
# loaded first. crc32c is a crypto-API soft dependency of ext4/jbd2, which
# modules.dep cannot express, so it is named explicitly.
WANTED_MODULES=(libnvdimm nd_btt nd_pmem nd_e820 device_dax dax_pmem nfit
  crc32c-intel crc32c_generic jbd2 mbcache crc16 ext4 loop)
HOST_TOOLS=(/usr/bin/ndctl /usr/bin/daxctl /usr/sbin/mke2fs /usr/bin/redis-cli)

rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,lib64,dev,proc,sys,tmp,run,etc,mnt/pmem,lab/bin,lab/modules}

copy_libs() {  # copies the shared libraries (and loader) of an ELF
  ldd "$1" 2>/dev/null | awk '/=> \// {print $3} /^\t\/lib/ {print $1}' |
    while read -r lib; do
      [ -e "$STAGE$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$STAGE$lib"
    done
}

is_elf() { [ -f "$1" ] && [ "$(head -c4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }

install -m 0755 /bin/busybox "$STAGE/bin/busybox"
for tool in "${HOST_TOOLS[@]}"; do
  install -D -m 0755 "$tool" "$STAGE$tool"
  copy_libs "$tool"
done
ln -s mke2fs "$STAGE/usr/sbin/mkfs.ext4"
[ -f /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$STAGE/etc/"

# The project's binaries: every ELF in bin/ (test binaries included).
shopt -s nullglob
for f in "$BIN_DIR"/*; do
  is_elf "$f" || continue
  strip --strip-debug -o "$STAGE/lab/bin/$(basename "$f")" "$f"
  copy_libs "$f"
done
ls -1 "$STAGE/lab/bin" > "$STAGE/lab/binaries"

# Modules in dependency order (depth-first over modules.dep).
declare -A seen=()
: > "$STAGE/lab/modules.order"
module_path() {
  local name=$1 alt=${1//-/_}
  awk -F: -v a="/$name.ko" -v b="/$alt.ko" \
    'index($1, a) == length($1) - length(a) + 1 ||
     index($1, b) == length($1) - length(b) + 1 {print $1; exit}' \
    "$MODDIR/modules.dep"
}
add_module() {  # $1: path relative to MODDIR
  local rel=$1 dep
  [ -n "${seen[$rel]:-}" ] && return 0
  seen[$rel]=1
  for dep in $(awk -F': *' -v m="$rel" '$1 == m {print $2}' "$MODDIR/modules.dep"); do
    add_module "$dep"
  done
  cp "$MODDIR/$rel" "$STAGE/lab/modules/"
  echo "$(basename "$rel")" >> "$STAGE/lab/modules.order"
}
for m in "${WANTED_MODULES[@]}"; do
  rel=$(module_path "$m")
  if [ -z "$rel" ]; then
    echo "lab: kernel $KVER has no module $m" >&2
    exit 1
  fi
  add_module "$rel"
done

install -m 0755 "$HERE/guest/init" "$STAGE/init"
install -m 0644 "$HERE"/guest/*.sh "$STAGE/lab/"

(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "lab: initramfs $(du -m "$OUT" | cut -f1) MiB," \
  "$(wc -l < "$STAGE/lab/binaries") project binaries," \
  "$(wc -l < "$STAGE/lab/modules.order") modules" >&2
