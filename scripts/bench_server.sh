#!/usr/bin/env bash
# The body of `make bench-server`: redis-benchmark with identical flags
# against daxkv-server (every write durable before its reply; /dev/shm pool
# persisted with cache-line flushes) and against Debian's redis-server in
# its persistence modes: redis-benchmark's tests one at a time (SET, GET,
# the list, set, hash and sorted-set tests, LRANGE_100/600, MSET), 100-byte
# values, -c 50, -P 1 and -P 16, and EVALSHA of a small read-modify-write
# script (GET, add, SET: issue 16). Beside each figure: the server's CPU
# time per request (user + system of the server process, all its threads,
# from /proc/PID/stat around that one test).
# Rounds run alternately (the order of the servers rotates each round) and
# the table reports the MEDIAN of the rounds and the ratio against
# redis-server without persistence measured in the same run.
#
# Usage: scripts/bench_server.sh [BUILD_DIR]
# Knobs (environment): BENCH_N (requests per run, 200000), BENCH_ROUNDS (3),
#   BENCH_CLIENTS (50), BENCH_PIPELINES ("1 16"), BENCH_KEYSPACE (100000),
#   BENCH_CONFIGS (subset of the names below), BENCH_OUT (JSON path),
#   BENCH_TESTS (comma-separated redis-benchmark -t names; the default is
#   issue 14's list, plus spop_full and zpopmin_full: SPOP / ZPOPMIN of a
#   key filled, untimed, with exactly BENCH_N members first, so that every
#   pop removes one. redis-benchmark's own spop and zpopmin tests pop a key
#   its sadd / zadd filled with at most BENCH_KEYSPACE members: past those,
#   the pops find the key empty and no server writes anything, durable or
#   not), BENCH_CLIENT_THREADS (redis-benchmark --threads, 1 =
#   the issue's flags), BENCH_EVALSHA (1: also the EVALSHA test),
#   ping_mbulk (in the default list) is the ceiling: PING does no command
#   work, so its rate is what the client and the loopback path allow; the
#   summary gives each test's rate as a fraction of its server's PING.
#   On 2 cores with one client thread no command can pass it, which bounds
#   any ratio (2x Redis with AOF always needs 2x its rate under it).
#   BENCH_DAXKV_BASE (another daxkv-server binary, e.g. main's: config
#   `daxkv-base` runs it like `daxkv`, for a before/after in one run).
#   Config `daxkv` runs daxkv-server with --io_engine epoll, `daxkv-uring`
#   with --io_engine io_uring (kv/io_loop.h). BENCH_DAXKV_ARGS: more
#   daxkv-server flags for every daxkv config (e.g. "--threads 1").
#   On a 2-core machine one redis-benchmark thread saturates near 90k
#   requests/s at -P 1, whatever the server: --threads 2 (the same for every
#   server) shows what the servers do when the client is not the limit.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD="$REPO/$BUILD" ;; esac
N=${BENCH_N:-200000}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-50}
PIPELINES=${BENCH_PIPELINES:-"1 16"}
KEYSPACE=${BENCH_KEYSPACE:-100000}
CLIENT_THREADS=${BENCH_CLIENT_THREADS:-1}
EVALSHA=${BENCH_EVALSHA:-1}
TESTS=${BENCH_TESTS:-"ping_mbulk,set,get,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,spop_full,zpopmin_full,lrange_100,lrange_600,mset"}
CLK_TCK=$(getconf CLK_TCK)
# The read-modify-write script: one GET, one SET, the new value returned.
RMW_SCRIPT="local v = tonumber(redis.call('get', KEYS[1]) or '0') + tonumber(ARGV[1]) redis.call('set', KEYS[1], v) return v"
OUT=${BENCH_OUT:-$BUILD/bench/server.json}
CONFIGS=${BENCH_CONFIGS:-"daxkv redis-nopersist redis-aof-everysec-disk redis-aof-always-disk redis-aof-always-tmpfs"}
DAXKV=$BUILD/bin/daxkv-server

if [ "$ROUNDS" -lt 3 ]; then
  echo "bench-server: BENCH_ROUNDS must be >= 3 (medians)" >&2
  exit 2
fi
for tool in redis-server redis-benchmark redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "bench-server: $tool missing (make deps)" >&2; exit 2; }
done
if [[ " $CONFIGS " == *" daxkv"* ]] && [ ! -x "$DAXKV" ]; then
  echo "bench-server: $DAXKV not built (make build)" >&2
  exit 2
fi

SHM_DIR=$(mktemp -d /dev/shm/daxkv-bench.XXXXXX)
DISK_DIR="$BUILD/bench/aof-disk"
RAW="${OUT%.json}-raw.csv"
mkdir -p "$BUILD/bench" "$(dirname "$OUT")"
rm -rf "$DISK_DIR" && mkdir -p "$DISK_DIR"
declare -A PORT PID

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cleanup() {
  for name in "${!PID[@]}"; do
    kill "${PID[$name]}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$SHM_DIR" "$DISK_DIR"
}
trap cleanup EXIT

start_server() {
  local name=$1 port dir
  port=$(free_port)
  PORT[$name]=$port
  local redis=(redis-server --port "$port" --bind 127.0.0.1 --save ""
    --daemonize no --protected-mode no --logfile "")
  case $name in
    daxkv | daxkv-base | daxkv-uring)
      local bin=$DAXKV engine=()
      [ "$name" = daxkv-base ] && bin=${BENCH_DAXKV_BASE:?daxkv-base needs BENCH_DAXKV_BASE}
      [ "$name" = daxkv ] && engine=(--io_engine epoll)
      # daxkv-base runs on daxkv's loop (epoll) too, or a before/after
      # compares io_uring with epoll; only a binary that predates
      # --io_engine runs with its own default.
      if [ "$name" = daxkv-base ] &&
        [[ $("$bin" --help 2>&1 || true) == *-io_engine* ]]; then
        engine=(--io_engine epoll)
      fi
      [ "$name" = daxkv-uring ] && engine=(--io_engine io_uring)
      PMEM2_FORCE_GRANULARITY=CACHE_LINE "$bin" --pool "$SHM_DIR/$name.pool" \
        --pool_size 2G --port "$port" --bind 127.0.0.1 "${engine[@]}" \
        ${BENCH_DAXKV_ARGS:-} \
        >"$BUILD/bench/$name-server.log" 2>&1 &
      ;;
    redis-nopersist)
      "${redis[@]}" --appendonly no --dir "$SHM_DIR" >/dev/null &
      ;;
    redis-aof-everysec-disk)
      dir="$DISK_DIR/everysec"; mkdir -p "$dir"
      "${redis[@]}" --appendonly yes --appendfsync everysec --dir "$dir" >/dev/null &
      ;;
    redis-aof-always-disk)
      dir="$DISK_DIR/always"; mkdir -p "$dir"
      "${redis[@]}" --appendonly yes --appendfsync always --dir "$dir" >/dev/null &
      ;;
    redis-aof-always-tmpfs)
      dir="$SHM_DIR/always"; mkdir -p "$dir"
      "${redis[@]}" --appendonly yes --appendfsync always --dir "$dir" >/dev/null &
      ;;
    *) echo "bench-server: unknown config $name" >&2; exit 2 ;;
  esac
  PID[$name]=$!
  for _ in $(seq 1 600); do
    if [ "$(redis-cli -p "$port" PING 2>/dev/null)" = "PONG" ]; then return; fi
    kill -0 "${PID[$name]}" 2>/dev/null || { echo "bench-server: $name exited at start-up" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench-server: $name not ready" >&2
  exit 1
}

read -r -a configs <<<"$CONFIGS"
for name in "${configs[@]}"; do start_server "$name"; done

echo "bench-server: $N requests/run, -c $CLIENTS, -d 100, -r $KEYSPACE, client threads $CLIENT_THREADS, pipelines: $PIPELINES, $ROUNDS rounds"
echo "config,pipeline,test,round,rps,cpu_us_per_req" >"$RAW"

# user + system clock ticks of a process, every thread included.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# One redis-benchmark run of `test` (a -t name, or a whole command after
# "cmd:") against config $1 at pipeline $2; appends "test,rps,cpu" lines.
run_one() {
  local name=$1 p=$2 test=$3 label=$4 before after csv rps
  local bench=(redis-benchmark -p "${PORT[$name]}" -n "$N" -c "$CLIENTS" -P "$p"
    -d 100 -r "$KEYSPACE" --threads "$CLIENT_THREADS" --csv)
  before=$(cpu_ticks "${PID[$name]}")
  case $test in
    cmd:*) read -r -a words <<<"${test#cmd:}"; csv=$("${bench[@]}" "${words[@]}" 2>/dev/null) ;;
    *) csv=$("${bench[@]}" -t "$test" 2>/dev/null) ;;
  esac
  after=$(cpu_ticks "${PID[$name]}")
  if grep -q ERR <<<"$csv"; then
    echo "bench-server: $name $label -P $p returned errors" >&2
    exit 1
  fi
  rps=$(tail -n 1 <<<"$csv" | cut -d, -f2 | tr -d '"')
  python3 -c "print('%s,%.2f' % ('$label', ($after - $before) * 1e6 / $CLK_TCK / $N))" \
    | { IFS=, read -r l cpu; echo "$name,$p,$l,$round,$rps,$cpu" >>"$RAW";
        printf '  round %d  %-24s -P %-2s %-11s %12s ops/s %8s us CPU/req\n' \
          "$round" "$name" "$p" "$l" "$rps" "$cpu"; }
}

# Fills `key` of config $1 with exactly $N members, untimed, through
# redis-cli --pipe: SADD (set) or ZADD with score i (zset), 1000 per command.
fill_key() {
  local name=$1 type=$2 key=$3
  redis-cli -p "${PORT[$name]}" DEL "$key" >/dev/null
  python3 - "$type" "$key" "$N" <<'PY' | redis-cli -p "${PORT[$name]}" --pipe >/dev/null
import sys
kind, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
out = sys.stdout.buffer
for first in range(0, n, 1000):
    members = [b"element:%012d" % i for i in range(first, min(n, first + 1000))]
    if kind == "set":
        args = [b"SADD", key.encode()] + members
    else:
        args = [b"ZADD", key.encode()]
        for i, m in enumerate(members, first):
            args += [str(i).encode(), m]
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
PY
  local have
  have=$(redis-cli -p "${PORT[$name]}" "$([ "$type" = set ] && echo SCARD || echo ZCARD)" "$key")
  if [ "$have" != "$N" ]; then
    echo "bench-server: $name: $key holds $have members after the fill, not $N" >&2
    exit 1
  fi
}

# After a *_full run: each of its $N pops removed one member.
expect_popped() {
  if [ "$(redis-cli -p "${PORT[$1]}" EXISTS "$2")" != 0 ]; then
    echo "bench-server: $1: $2 is not empty after $N pops" >&2
    exit 1
  fi
}

count=${#configs[@]}
for ((round = 0; round < ROUNDS; round++)); do
  for ((i = 0; i < count; i++)); do
    name=${configs[$(((i + round) % count))]}
    for p in $PIPELINES; do
      for t in ${TESTS//,/ }; do
        case $t in
          lrange_*)
            # redis-benchmark's own LRANGE tests first push N elements in the
            # same run; push them untimed so the CPU column is LRANGE's.
            redis-benchmark -p "${PORT[$name]}" -n 600 -c 1 -q \
              LPUSH mylist "$(printf 'x%.0s' {1..100})" >/dev/null 2>&1
            run_one "$name" "$p" "cmd:LRANGE mylist 0 $((${t#lrange_} - 1))" "${t^^}" ;;
          spop_full)
            fill_key "$name" set fullset
            run_one "$name" "$p" "cmd:SPOP fullset" SPOP_FULL
            expect_popped "$name" fullset ;;
          zpopmin_full)
            fill_key "$name" zset fullzset
            run_one "$name" "$p" "cmd:ZPOPMIN fullzset" ZPOPMIN_FULL
            expect_popped "$name" fullzset ;;
          *) run_one "$name" "$p" "$t" "${t^^}" ;;
        esac
      done
      if [ "$EVALSHA" = 1 ]; then
        sha=$(redis-cli -p "${PORT[$name]}" SCRIPT LOAD "$RMW_SCRIPT")
        run_one "$name" "$p" "cmd:EVALSHA $sha 1 rmw:__rand_int__ 1" EVALSHA
      fi
    done
  done
done

python3 - "$RAW" "$OUT" "$N" "$CLIENTS" "$ROUNDS" "$CLIENT_THREADS" <<'EOF'
import csv, json, os, statistics, sys, time
raw, out, n, clients, rounds, client_threads = sys.argv[1:7]
runs, cpus = {}, {}
for row in csv.DictReader(open(raw)):
    key = (row["config"], int(row["pipeline"]), row["test"])
    runs.setdefault(key, []).append(float(row["rps"]))
    cpus.setdefault(key, []).append(float(row["cpu_us_per_req"]))
med = {k: statistics.median(v) for k, v in runs.items()}
cpu = {k: statistics.median(v) for k, v in cpus.items()}
configs = list(dict.fromkeys(k[0] for k in runs))
rows = list(dict.fromkeys((k[2], k[1]) for k in runs))
rows.sort(key=lambda r: r[1])
base = "redis-nopersist"
print("\nmedian ops/s (ratio vs %s, same run) and server CPU us per request"
      % base)
head = "%-18s" % "test" + "".join("%30s" % c for c in configs)
print(head)
print("-" * len(head))
result = []
for t, p in rows:
    cells = []
    for c in configs:
        v, b = med.get((c, p, t)), med.get((base, p, t))
        if v is None:
            cells.append("%30s" % "-")
            continue
        ratio = v / b if b else None
        cells.append("%12.0f (%5.2fx) %6.2fus" % (v, ratio or 0, cpu[(c, p, t)]))
        ping = med.get((c, p, "PING_MBULK"))
        result.append({"config": c, "pipeline": p, "test": t, "median_rps": v,
                       "runs_rps": runs[(c, p, t)],
                       "median_cpu_us_per_request": cpu[(c, p, t)],
                       "ratio_vs_" + base.replace("-", "_"): ratio,
                       "fraction_of_ping": v / ping if ping else None})
    print("%-18s" % ("%s -P %d" % (t, p)) + "".join("%30s" % x for x in cells))
if any(k[2] == "PING_MBULK" for k in med):
    print("\neach test's rate as a fraction of its server's PING_MBULK at the "
          "same -P (the ceiling: PING does no command work)")
    print(head)
    print("-" * len(head))
    for t, p in rows:
        cells = []
        for c in configs:
            v, ping = med.get((c, p, t)), med.get((c, p, "PING_MBULK"))
            cells.append("%30s" % ("%.2f" % (v / ping) if v and ping else "-"))
        print("%-18s" % ("%s -P %d" % (t, p)) + "".join(cells))
spread = max(max(v) / min(v) for v in runs.values() if min(v) > 0)
print("\nnoise: the widest cell's fastest round is %.2fx its slowest "
      "(load average %.1f)" % (spread, os.getloadavg()[0]))
json.dump({"benchmark": "daxkv-server vs redis-server (redis-benchmark)",
           "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "requests_per_run": int(n), "clients": int(clients), "value_size": 100,
           "rounds": int(rounds), "client_threads": int(client_threads),
           "baseline": base, "max_round_spread": spread,
           "results": result},
          open(out, "w"), indent=2)
print("\nsaved %s (raw runs: %s)" % (out, raw))
EOF
