# The guest half of one power-cut round (NVDIMM flavour, devdax).
# Usage: sh powercut.sh write|verify. Kernel command line: lab.seed=S,
# lab.start=N (first write seq), lab.fresh=1 on a blank backing file
# (creates the devdax namespace), lab.verify=1 to verify before writing.
# The host SIGKILLs QEMU while the writer runs; "@@ACK" lines on ttyS1 are
# the acknowledged writes, "@@PCV" lines the recovered pool (see
# powercut/powercut_main.cc).
. /lab/lib.sh
exec 3>/dev/ttyS1
PHASE=powercut
seed=$(cmdline_arg lab.seed)
start=$(cmdline_arg lab.start)

if [ "$(cmdline_arg lab.fresh)" = 1 ]; then
  ndctl list -NRu
  setup_ns devdax 2M || exit 0
fi
if ! wait_for /dev/dax0.0 20; then
  mark "SETUP phase=$PHASE ok=0 what=\"no /dev/dax0.0 after boot\""
  ndctl list -NRu
  exit 0
fi
mark "SETUP phase=$PHASE ok=1 what=\"$(ndctl list -N | tr -d ' \n' | tr '"' "'")\""
if ! have_bin daxkv-powercut; then
  mark "RESULT step=powercut phase=$PHASE rc=NOTBUILT"
  exit 0
fi

if [ "$1" = verify ] || [ "$(cmdline_arg lab.verify)" = 1 ]; then
  t0=$(uptime_s)
  daxkv-powercut verify --path=/dev/dax0.0 --seed="$seed" >&3
  mark "PCV_RC rc=$? secs=$(since "$t0")"
fi
if [ "$1" = write ]; then
  daxkv-powercut write --path=/dev/dax0.0 --seed="$seed" --start="$start" >&3
  mark "PC_WRITER_EXIT rc=$?"
fi
