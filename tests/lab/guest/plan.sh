# The lab's test plan, run by the guest's init (busybox ash). For each
# namespace configuration (devdax 2 MiB, devdax 4 KiB, fsdax + ext4 -o dax)
# it runs the project's binaries against the real DAX target and reports
# each step on /dev/ttyS1 (see lib.sh). Steps whose binary was not built
# report NOTBUILT; the host decides whether that fails the lab.
. /lab/lib.sh
exec 3>/dev/ttyS1
FLAVOUR=$(cmdline_arg lab.flavour)
STEP_LIMIT=$(cmdline_arg lab.step_timeout)
STEP_LIMIT=${STEP_LIMIT:-300}
SEEDS=$(cmdline_arg lab.seeds)
# The crash harness's operation counts, scaled for software emulation.
DAXKV_CRASH_SCALE=$(cmdline_arg lab.crash_scale)
export DAXKV_CRASH_SCALE=${DAXKV_CRASH_SCALE:-0.05}
# engine_test runs on simulated regions, the same in every phase and flavour:
# once per lab (lab.engine_test=1 on one flavour) is enough.
ENGINE_TEST=$(cmdline_arg lab.engine_test)

echo "==== lab plan: flavour $FLAVOUR, kernel $(uname -r)"

expected_fault_path

# wipe PATH: zeroes the head of a pool target (superblocks included) so the
# next step starts from a blank pool; devdax cannot be written with write(2),
# so dd cannot. 8 MiB, not the whole device: that is slow under TCG.
wipe() {
  have_bin daxkv-powercut && daxkv-powercut wipe --path="$1" --bytes=8388608 >/dev/null 2>&1
}

# engine_on_dax POOL: the engine itself on the DAX target: 3000 synced puts
# through daxkv-powercut's workload, a clean close, then recovery and a check
# of every value (engine_test runs on simulated regions, not on DAX).
engine_on_dax() {
  NEEDS=daxkv-powercut
  run_step engine_dax "$STEP_LIMIT" sh -c 'daxkv-powercut write --path="$1" \
    --seed=42 --count=3000 | tail -n1 && daxkv-powercut verify --path="$1" \
    --seed=42 | tail -n1' sh "$1"
}

# dax_steps KIND TARGET: every step against one DAX target. faultbench runs
# the DAX cases and, as same-run baselines, anonymous memory and (fsdax) a
# page-cache file on the block-backed /var/tmp; the non-DAX seed cases
# belong to host runs.
dax_steps() {
  kind=$1 target=$2
  if [ "$kind" = devdax ]; then
    export DAXKV_TEST_DEVDAX=$target
    unset DAXKV_TEST_FSDAX_DIR
    pool=$target poolsize="" fbflag="--devdax=$target"
    fbfilter='^touch/(devdax/|anon/4k/write/iter)'
  else
    export DAXKV_TEST_FSDAX_DIR=$target
    unset DAXKV_TEST_DEVDAX
    pool=$target/daxkv.pool poolsize=256M fbflag="--fsdax=$target"
    fbfilter='^touch/(fsdax/|fsdax-sync/|file-shared/4k/(write|upgrade)|anon/4k/write/iter)'
  fi
  run_step dax_test "$STEP_LIMIT" dax_test
  # The kernel probes' real-device tests (discovery, features, fault path,
  # kprobe counters). Page-state and userfaultfd tests are host tests: they
  # need page-cache files, which the guest's initramfs root is not.
  run_step probe_test "$STEP_LIMIT" probe_test \
    --gtest_filter='-PageStateTest.*:UffdTest.*'
  if [ "$PHASE" != devdax-4K ]; then
    if [ "$PHASE" = devdax-2M ] && [ "$ENGINE_TEST" = 1 ]; then
      # The crash-point suites replay thousands of simulated images, and
      # the collection structures' randomized and memory tests are pure
      # computation: user space that the host's ctest runs natively; under
      # TCG they took most of the step limit. The rest (recovery, space,
      # transactions, flush races) runs here on the guest's kernel.
      run_step engine_test "$STEP_LIMIT" engine_test \
        --gtest_filter='-*Crash*:Coll*:ItemSort*:CorruptMedia*:StateCode*:*Concurrency*'
    fi
    # daxkv-inspect's real-device tests: devices lists this bus and device,
    # pages sees one fault per 2 MiB on 2 MiB devdax, fault-path finds the
    # path DAXKV_TEST_FAULT_PATH names from evidence.
    run_step tools_test "$STEP_LIMIT" tools_test --gtest_filter='*Real*'
    wipe "$pool"
    engine_on_dax "$pool"
    wipe "$pool"
    rm -f "$target/daxkv.pool" 2>/dev/null
    NEEDS=daxkv-server
    run_step server_smoke "$STEP_LIMIT" sh /lab/server_smoke.sh "$pool" "$poolsize" "$FLAVOUR-$PHASE"
    json_step inspect_devices 60 /tmp/j.json daxkv-inspect devices --json
    send_file "inspect-devices-$PHASE.json" /tmp/j.json
    json_step inspect_pool 120 /tmp/j.json daxkv-inspect pool "$pool" --check --json
    send_file "inspect-pool-$PHASE.json" /tmp/j.json
    json_step inspect_pages 120 /tmp/j.json daxkv-inspect pages "$pool" --length=8M --touch=read --json
    send_file "inspect-pages-$PHASE.json" /tmp/j.json
    json_step inspect_fault_path 120 /tmp/j.json daxkv-inspect fault-path --path="$target" --json
    send_file "inspect-fault-path-$PHASE.json" /tmp/j.json
    wipe "$pool"
  fi
  rm -f /tmp/fb.json
  # --kernel_functions=on: every DAX case must carry its kprobe evidence.
  run_step faultbench "$STEP_LIMIT" daxkv-faultbench --short "$fbflag" \
    --file_dir=/var/tmp --benchmark_filter="$fbfilter" --kernel_functions=on \
    --benchmark_out=/tmp/fb.json --benchmark_out_format=json
  send_file "faultbench-$PHASE.json" /tmp/fb.json
}

# The other seeds (uffd MINOR/MOVE, PAGEMAP_SCAN + WP_ASYNC vs soft-dirty
# vs mprotect, fork with pinned pages): anonymous memory and memfd, so once
# per boot, next to the host's figures of the same cases.
seed_steps() {
  PHASE=seeds
  rm -f /tmp/fb.json
  run_step faultbench "$STEP_LIMIT" daxkv-faultbench --short \
    --benchmark_filter='^(uffd|dirty|fork)/|^touch/anon/4k/write/iter' \
    --benchmark_out=/tmp/fb.json --benchmark_out_format=json
  send_file "faultbench-seeds.json" /tmp/fb.json
}

case "$FLAVOUR" in
  memmap) export DAXKV_TEST_PROVIDER=e820 ;;
  nvdimm) export DAXKV_TEST_PROVIDER=ACPI.NFIT ;;
  cxl)
    export DAXKV_TEST_PROVIDER=CXL
    setup_cxl_region
    ;;
esac
ndctl list -RNu >/tmp/ndctl.json
cat /tmp/ndctl.json
send_file "ndctl-$FLAVOUR.json" /tmp/ndctl.json

[ "$SEEDS" = 1 ] && seed_steps

PHASE=devdax-2M
if setup_ns devdax 2M && wait_for /dev/dax0.0 10; then
  mark "SETUP phase=$PHASE ok=1 what=\"/dev/dax0.0 align 2M\""
  dax_steps devdax /dev/dax0.0
fi

PHASE=devdax-4K
if setup_ns devdax 4K && wait_for /dev/dax0.0 10; then
  mark "SETUP phase=$PHASE ok=1 what=\"/dev/dax0.0 align 4K\""
  dax_steps devdax /dev/dax0.0
fi

PHASE=fsdax
if setup_ns fsdax 2M && wait_for /dev/pmem0 10 &&
  mkfs.ext4 -q -F -b 4096 -E stride=512,stripe_width=512 /dev/pmem0 && mount -o dax /dev/pmem0 /mnt/pmem; then
  mark "SETUP phase=$PHASE ok=1 what=\"ext4 -o dax on /dev/pmem0: $(grep /mnt/pmem /proc/mounts)\""
  dax_steps fsdax /mnt/pmem
  umount /mnt/pmem
else
  mark "SETUP phase=$PHASE ok=0 what=\"mkfs.ext4 or mount -o dax failed\""
fi
ndctl list -RNu
