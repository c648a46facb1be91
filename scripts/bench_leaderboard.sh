#!/usr/bin/env bash
# A leaderboard: ZINCRBY by 1 over a sorted set of BENCH_MEMBERS members
# ("u<i>", unpadded, as user ids usually are) that all start at score 0, so
# that thousands of members share each score and every update tie-breaks
# among them. redis-benchmark cannot send this: its __rand_int__ is
# zero-padded to 12 digits, which gives every member the same first 8
# bytes. The requests go through `redis-cli --pipe` (one connection, fully
# pipelined), the same stream to each server.
#
# Servers: daxkv-server (durable, a /dev/shm pool flushed by cache line),
# BENCH_DAXKV_BASE (another daxkv-server binary, optional) and redis-server
# without persistence. Rounds alternate; the table gives the MEDIAN server
# CPU µs per ZINCRBY (user + system, all threads, /proc/PID/stat around the
# updates) and requests/s.
#
# Usage: scripts/bench_leaderboard.sh [BUILD_DIR]
# Knobs: BENCH_MEMBERS (100000), BENCH_UPDATES (400000), BENCH_ROUNDS (3).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD="$REPO/$BUILD" ;; esac
MEMBERS=${BENCH_MEMBERS:-100000}
UPDATES=${BENCH_UPDATES:-400000}
ROUNDS=${BENCH_ROUNDS:-3}
WORK=$(mktemp -d /dev/shm/daxkv-lb.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK" "$MEMBERS" "$UPDATES" <<'PY'
import random, sys
work, members, updates = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def cmd(*args):
    args = [a.encode() for a in args]
    return b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
with open(work + "/fill.resp", "wb") as f:
    for first in range(0, members, 1000):
        args = ["ZADD", "lb"]
        for i in range(first, min(members, first + 1000)):
            args += ["0", "u%d" % i]
        f.write(cmd(*args))
rng = random.Random(1)
with open(work + "/updates.resp", "wb") as f:
    for _ in range(updates):
        f.write(cmd("ZINCRBY", "lb", "1", "u%d" % rng.randrange(members)))
PY

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run_one NAME: one server, fill, timed updates; appends "NAME cpu rps".
run_one() {
  local name=$1 port=$((20000 + RANDOM % 20000)) pid
  case $name in
    redis) redis-server --port "$port" --save '' --appendonly no \
             --bind 127.0.0.1 >/dev/null 2>&1 & pid=$! ;;
    *) local bin="$BUILD/bin/daxkv-server"
       [ "$name" = daxkv-base ] && bin=$BENCH_DAXKV_BASE
       PMEM2_FORCE_GRANULARITY=CACHE_LINE "$bin" --pool "$WORK/$name.pool" \
         --pool_size 2G --port "$port" --bind 127.0.0.1 >/dev/null 2>&1 &
       pid=$! ;;
  esac
  for _ in $(seq 100); do
    redis-cli -p "$port" PING >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$port" --pipe <"$WORK/fill.resp" >/dev/null
  local a t0 b t1
  a=$(cpu_ticks "$pid"); t0=$(date +%s.%N)
  redis-cli -p "$port" --pipe <"$WORK/updates.resp" >/dev/null
  b=$(cpu_ticks "$pid"); t1=$(date +%s.%N)
  local card
  card=$(redis-cli -p "$port" ZCARD lb)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$WORK/$name.pool"
  if [ "$card" != "$MEMBERS" ]; then
    echo "bench-leaderboard: $name holds $card members, not $MEMBERS" >&2
    exit 1
  fi
  python3 -c "import sys; t=int(sys.argv[2])-int(sys.argv[1]); \
print(sys.argv[5], t*1e6/float(sys.argv[6])/int(sys.argv[7]), \
int(sys.argv[7])/(float(sys.argv[4])-float(sys.argv[3])))" \
    "$a" "$b" "$t0" "$t1" "$name" "$(getconf CLK_TCK)" "$UPDATES" \
    >>"$WORK/raw.txt"
}

configs=(daxkv redis)
[ -n "${BENCH_DAXKV_BASE:-}" ] && configs=(daxkv daxkv-base redis)
for ((round = 0; round < ROUNDS; round++)); do
  for ((i = 0; i < ${#configs[@]}; i++)); do
    run_one "${configs[$(((i + round) % ${#configs[@]}))]}"
  done
done

python3 - "$WORK/raw.txt" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, cpu, rps = line.split()
    rows.setdefault(name, []).append((float(cpu), float(rps)))
base = statistics.median(r for _, r in rows["redis"])
print("%-12s %18s %14s %10s" % ("server", "CPU us/ZINCRBY", "requests/s",
                                "vs redis"))
for name, runs in rows.items():
    cpu = statistics.median(c for c, _ in runs)
    rps = statistics.median(r for _, r in runs)
    print("%-12s %18.2f %14.0f %9.2fx" % (name, cpu, rps, rps / base))
PY
