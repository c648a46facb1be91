# Shared helpers for the guest scripts (busybox ash).
#
# Protocol on /dev/ttyS1 (the host saves it as results.log), one line each:
#   @@BOOTED ... / @@MODULES_LOADED ... / @@DONE ...
#   @@SETUP phase=P ok=0|1 what="..."         namespace/filesystem set-up
#   @@RESULT step=S phase=P rc=N secs=T total=N passed=N failed=N skipped=N
#   @@RESULT step=S phase=P rc=NOTBUILT        binary missing from bin/
#   @@TEST step=S phase=P status=FAILED|SKIPPED name=Suite.Test
#   @@KERNEL_PATH expected=legacy|refcounted|unknown release=R
#   @@FILE name=N  ...base64...  @@ENDFILE name=N
# Step output itself goes to the console (ttyS0, the host's console.log).

lab_init_markers() {
  stty -F /dev/ttyS1 raw -echo 2>/dev/null
  exec 3>/dev/ttyS1
}

mark() { echo "@@$* t=$(uptime_s)" >&3; }

uptime_s() { cut -d' ' -f1 /proc/uptime; }

cmdline_arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n1; }

have_bin() { [ -x "/lab/bin/$1" ]; }

# Elapsed seconds since $1 (an uptime_s value), two decimals.
since() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN {printf "%.2f", b - a}'; }

gtest_count() {  # gtest_count PATTERN FILE: first number after PATTERN
  sed -n "s/^$1 \([0-9][0-9]*\) test.*/\1/p" "$2" | head -n1
}

# run_step NAME TIMEOUT_S CMD...: runs CMD (its first word a binary in
# /lab/bin) with output to the console, then reports its exit code and, for
# GoogleTest binaries, the test counts and the names of failed/skipped tests.
# Set NEEDS to name the binary when CMD is a wrapper (sh -c ...).
run_step() {
  name=$1 limit=$2
  shift 2
  needs=${NEEDS:-$1}
  NEEDS=""
  if ! have_bin "$needs"; then
    echo "lab: step $name: $needs NOT BUILT"
    mark "RESULT step=$name phase=$PHASE rc=NOTBUILT"
    return 0
  fi
  echo "==== lab step $name ($PHASE): $*"
  mark "BEGIN step=$name phase=$PHASE"
  t0=$(uptime_s)
  out=/tmp/step.out
  { timeout -s KILL "$limit" "$@" 2>&1; echo $? >/tmp/step.rc; } | tee "$out"
  rc=$(cat /tmp/step.rc)
  secs=$(since "$t0")
  total=$(sed -n 's/^\[==========\] \([0-9][0-9]*\) tests\{0,1\} from .* ran\..*/\1/p' "$out" | head -n1)
  passed=$(gtest_count '\[  PASSED  \]' "$out")
  failed=$(gtest_count '\[  FAILED  \]' "$out")
  skipped=$(gtest_count '\[  SKIPPED \]' "$out")
  mark "RESULT step=$name phase=$PHASE rc=$rc secs=$secs total=${total:--}" \
    "passed=${passed:--} failed=${failed:-0} skipped=${skipped:-0}"
  awk '$1 == "[" && ($2 == "FAILED" || $2 == "SKIPPED") && $3 == "]" &&
    $4 ~ /[.]/ { sub(/,$/, "", $4); print $2, $4 }' "$out" |
    sort -u | while read -r status test; do
      mark "TEST step=$name phase=$PHASE status=$status name=$test"
    done
  return 0
}

# json_step NAME LIMIT OUT CMD...: run_step, with CMD's stdout (alone) also
# saved in OUT for send_file.
json_step() {
  name=$1 limit=$2 json=$3
  shift 3
  rm -f "$json"
  NEEDS=$1
  run_step "$name" "$limit" sh -c 'out=$1; shift; "$@" >"$out"; rc=$?; cat "$out"; exit $rc' \
    sh "$json" "$@"
}

send_file() {  # send_file NAME PATH
  [ -f "$2" ] || { echo "lab: no file $2 to send"; return 0; }
  mark "FILE name=$1"
  base64 "$2" >&3
  mark "ENDFILE name=$1"
}

wait_for() {  # wait_for PATH SECONDS
  n=0
  while [ ! -e "$1" ] && [ "$n" -lt "$(($2 * 10))" ]; do
    usleep 100000
    n=$((n + 1))
  done
  [ -e "$1" ]
}

# expected_fault_path: exports DAXKV_TEST_FAULT_PATH, the DAX fault path
# this kernel must show, from its own symbols: vmf_insert_page_mkwrite
# exists only where the refcounted ZONE_DEVICE DAX series landed (6.15);
# reports it as @@KERNEL_PATH. Every evidence check compares against it.
expected_fault_path() {
  if grep -q ' vmf_insert_page_mkwrite$' /proc/kallsyms; then
    export DAXKV_TEST_FAULT_PATH=refcounted
  elif grep -q ' vmf_insert_mixed_mkwrite$' /proc/kallsyms; then
    export DAXKV_TEST_FAULT_PATH=legacy
  else
    export DAXKV_TEST_FAULT_PATH=unknown
  fi
  mark "KERNEL_PATH expected=$DAXKV_TEST_FAULT_PATH release=$(uname -r)"
}

# setup_ns MODE ALIGN: reconfigures namespace0.0 (devdax or fsdax), or
# creates it in region0 where the region has none yet (a fresh CXL region).
setup_ns() {
  where="-e namespace0.0"
  [ -n "$(ndctl list -n namespace0.0 2>/dev/null)" ] || where="-r region0"
  echo "==== lab setup: ndctl create-namespace $where -m $1 -a $2"
  # shellcheck disable=SC2086  # $where is two words
  if ! ndctl create-namespace -f $where -m "$1" -a "$2"; then
    mark "SETUP phase=$PHASE ok=0 what=\"ndctl create-namespace $where -m $1 -a $2 failed\""
    return 1
  fi
  return 0
}

# setup_cxl_region: a pmem region on the CXL type-3 memdev through the
# root decoder (cxl create-region), which the kernel's cxl_pmem driver
# turns into an nvdimm region (provider CXL) for setup_ns.
setup_cxl_region() {
  decoder=$(cxl list -D -d root | sed -n 's/.*"decoder":"\([^"]*\)".*/\1/p' | head -n1)
  memdev=$(cxl list -M | sed -n 's/.*"memdev":"\([^"]*\)".*/\1/p' | head -n1)
  echo "==== lab setup: cxl create-region -m -d $decoder -t pmem -w 1 $memdev"
  if [ -z "$decoder" ] || [ -z "$memdev" ] ||
    ! cxl create-region -m -d "$decoder" -t pmem -w 1 "$memdev"; then
    cxl list -vvv
    mark "SETUP phase=cxl-region ok=0 what=\"cxl create-region on '$decoder' '$memdev' failed\""
    return 1
  fi
  mark "SETUP phase=cxl-region ok=1 what=\"$(cxl list -R | tr -d ' \n' | tr '"' "'")\""
}
