# The legacy-vs-refcounted comparison boot (lab.py compare): the same
# faultbench DAX cases as the plan, larger and without the other steps, on
# devdax 2 MiB, devdax 4 KiB and fsdax, each run with its own same-boot
# baseline (touch/anon/4k/write). Kernel command line: lab.region_mb=N,
# lab.reps=N. Output: faultbench-<phase>.json files (see lib.sh).
. /lab/lib.sh
exec 3>/dev/ttyS1
REGION_MB=$(cmdline_arg lab.region_mb)
REPS=$(cmdline_arg lab.reps)
STEP_LIMIT=900
echo "==== lab bench: kernel $(uname -r), ${REGION_MB:-64} MiB, ${REPS:-3} repetitions"
expected_fault_path

bench() {  # bench FLAG FILTER
  rm -f /tmp/fb.json
  run_step faultbench "$STEP_LIMIT" daxkv-faultbench "$1" \
    --region_mb="${REGION_MB:-64}" --repetitions="${REPS:-3}" \
    --file_dir=/var/tmp --kernel_functions=on --benchmark_filter="$2" \
    --benchmark_out=/tmp/fb.json --benchmark_out_format=json
  send_file "faultbench-$PHASE.json" /tmp/fb.json
}

for align in 2M 4K; do
  PHASE=devdax-$align
  if setup_ns devdax "$align" && wait_for /dev/dax0.0 10; then
    mark "SETUP phase=$PHASE ok=1 what=\"/dev/dax0.0 align $align\""
    bench --devdax=/dev/dax0.0 '^touch/(devdax/|anon/4k/write/iter)'
  fi
done

PHASE=fsdax
if setup_ns fsdax 2M && wait_for /dev/pmem0 10 &&
  mkfs.ext4 -q -F -b 4096 -E stride=512,stripe_width=512 /dev/pmem0 && mount -o dax /dev/pmem0 /mnt/pmem; then
  mark "SETUP phase=$PHASE ok=1 what=\"ext4 -o dax on /dev/pmem0\""
  bench --fsdax=/mnt/pmem '^touch/(fsdax/|fsdax-sync/|anon/4k/write/iter)'
  umount /mnt/pmem
else
  mark "SETUP phase=$PHASE ok=0 what=\"mkfs.ext4 or mount -o dax failed\""
fi
