#!/usr/bin/env bash
# Builds the lab's initramfs: busybox, ndctl/daxctl/mkfs.ext4/redis-cli, every
# ELF in the project's bin/ (debug info stripped), their shared libraries,
# the DAX/ext4 kernel modules with their dependencies, and the guest scripts.
# Uncompressed on purpose: under software emulation the guest kernel would
# spend longer inflating a gzip archive than QEMU spends loading a raw one.
#
# Usage: initramfs.sh MODDIR KVER BIN_DIR OUT_CPIO
# MODDIR is the kernel's unpacked modules directory (with modules.dep), as
# kernel.sh prints it; one initramfs per kernel.
set -euo pipefail
MODDIR=${1:?} KVER=${2:?} BIN_DIR=${3:?} OUT=${4:?}
HERE=$(cd "$(dirname "$0")" && pwd)
STAGE="$OUT.d"

# Insmod order from machine-facts.md; dependencies found in modules.dep are
# loaded first. crc32c is a crypto-API soft dependency of ext4/jbd2, which
# modules.dep cannot express, so it is named explicitly. "a|b": the first of
# these the kernel has (6.1 has crc32c_generic; 7.x only crc32c-cryptoapi,
# which jbd2 finds as crypto-crc32c); "a?": loaded where the kernel has it.
WANTED_MODULES=(libnvdimm nd_btt nd_pmem nd_e820 device_dax dax_pmem nfit
  'crc32c-intel?' 'crc32c_generic|crc32c-cryptoapi' jbd2 mbcache crc16 ext4
  loop)
# The CXL type-3 pmem stack (lab flavour cxl): loaded only by that flavour,
# from its own order file. Optional: Debian's 6.1 has no dax_cxl.
CXL_MODULES=('cxl_acpi?' 'cxl_pci?' 'cxl_mem?' 'cxl_pmem?' 'dax_cxl?')
HOST_TOOLS=(/usr/bin/ndctl /usr/bin/daxctl /usr/bin/cxl /usr/sbin/mke2fs
  /usr/bin/redis-cli)

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

# Modules in dependency order (depth-first over modules.dep), decompressed
# here: busybox insmod would have to decompress .ko.xz in user space.
declare -A seen=()
: > "$STAGE/lab/modules.order"
: > "$STAGE/lab/modules-cxl.order"
module_path() {  # the modules.dep path of a module name, or nothing
  local name=$1 alt=${1//-/_}
  awk -F: -v a="/$name.ko" -v b="/$alt.ko" '
    { p = $1; sub(/\.(xz|zst|gz)$/, "", p) }
    index(p, a) && index(p, a) == length(p) - length(a) + 1 ||
    index(p, b) && index(p, b) == length(p) - length(b) + 1 {print $1; exit}' \
    "$MODDIR/modules.dep"
}
add_module() {  # $1: path relative to MODDIR, $2: order file
  local rel=$1 order=$2 dep base
  [ -n "${seen[$rel]:-}" ] && return 0
  seen[$rel]=1
  for dep in $(awk -F': *' -v m="$rel" '$1 == m {print $2}' "$MODDIR/modules.dep"); do
    add_module "$dep" "$order"
  done
  base=$(basename "$rel")
  case "$base" in
    *.ko.xz) xz -dc "$MODDIR/$rel" > "$STAGE/lab/modules/${base%.xz}" ;;
    *.ko.zst) zstd -qdc "$MODDIR/$rel" > "$STAGE/lab/modules/${base%.zst}" ;;
    *.ko.gz) gzip -dc "$MODDIR/$rel" > "$STAGE/lab/modules/${base%.gz}" ;;
    *) cp "$MODDIR/$rel" "$STAGE/lab/modules/" ;;
  esac
  echo "${base%.ko*}.ko" >> "$order"
}
add_wanted() {  # $1: order file, then the wanted names
  local order=$1 want alt rel optional
  shift
  for want in "$@"; do
    optional=""
    case "$want" in *\?) optional=1 want=${want%\?} ;; esac
    rel=""
    for alt in ${want//|/ }; do
      rel=$(module_path "$alt")
      [ -n "$rel" ] && break
    done
    if [ -n "$rel" ]; then
      add_module "$rel" "$order"
    elif [ -z "$optional" ]; then
      echo "lab: kernel $KVER has no module $want" >&2
      exit 1
    fi
  done
}
add_wanted "$STAGE/lab/modules.order" "${WANTED_MODULES[@]}"
add_wanted "$STAGE/lab/modules-cxl.order" "${CXL_MODULES[@]}"
echo "$KVER" > "$STAGE/lab/kernel.release"

install -m 0755 "$HERE/guest/init" "$STAGE/init"
install -m 0644 "$HERE"/guest/*.sh "$STAGE/lab/"

(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "lab: initramfs $(du -m "$OUT" | cut -f1) MiB," \
  "$(wc -l < "$STAGE/lab/binaries") project binaries," \
  "$(wc -l < "$STAGE/lab/modules.order") modules" \
  "(+$(wc -l < "$STAGE/lab/modules-cxl.order") CXL) for $KVER" >&2
