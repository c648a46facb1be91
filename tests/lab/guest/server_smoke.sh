# Server smoke test in the guest: daxkv-server on a real DAX pool, driven by
# redis-cli over loopback. Round 1 writes and is ended with SIGKILL; round 2
# restarts on the same pool and checks that every acknowledged write is back.
# Usage: sh server_smoke.sh POOL [POOL_SIZE] TAG
pool=$1 size=$2 tag=$3
port=6390
set -- --pool="$pool" --port=$port --bind=127.0.0.1 --require_dax
[ -n "$size" ] && set -- "$@" --pool_size="$size"
cli() { redis-cli -p $port "$@"; }
fail() { echo "server_smoke: $*"; cat /tmp/server.log; kill -9 "$pid" 2>/dev/null; exit 1; }

for round in 1 2; do
  daxkv-server "$@" >/tmp/server.log 2>&1 &
  pid=$!
  n=0
  until cli PING 2>/dev/null | grep -q PONG; do
    n=$((n + 1))
    kill -0 "$pid" 2>/dev/null || fail "server exited before answering (round $round)"
    [ "$n" -gt 600 ] && fail "no PONG within 60 s (round $round)"
    usleep 100000
  done
  if [ "$round" = 1 ]; then
    [ "$(cli SET lab:key "value-$tag")" = OK ] || fail "SET failed"
    [ "$(cli INCR lab:counter)" = 1 ] || fail "INCR failed"
    seq 1 200 | sed 's/.*/SET lab:bulk:& v&/' | cli >/tmp/bulk.out
    [ "$(grep -c '^OK$' /tmp/bulk.out)" = 200 ] || fail "not every bulk SET said OK"
  fi
  [ "$(cli GET lab:key)" = "value-$tag" ] || fail "GET lab:key = '$(cli GET lab:key)' (round $round)"
  [ "$(cli GET lab:counter)" = 1 ] || fail "lab:counter lost (round $round)"
  [ "$(cli GET lab:bulk:137)" = v137 ] || fail "lab:bulk:137 lost (round $round)"
  [ "$(cli DBSIZE)" = 202 ] || fail "DBSIZE $(cli DBSIZE), want 202 (round $round)"
  echo "server_smoke: round $round OK"
  if [ "$round" = 1 ]; then kill -9 "$pid"; else kill "$pid"; fi
  wait "$pid"
done
echo "server_smoke: acknowledged writes survived SIGKILL + restart on $pool"
