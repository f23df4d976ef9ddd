#!/usr/bin/env bash
# A redis GET through Debian's lua-nginx-redis with keepalive, per request:
# ours vs the reference module on Debian's nginx (1 worker), interleaved.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bash "$BENCH_ROOT/nginx-src/debian.sh" >/dev/null

rport=18379
$LOADGEN redis-server --port $rport --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$BENCH_TMP/redis.pid" >/dev/null
trap 'redis-cli -p $rport shutdown nosave >/dev/null 2>&1; stop_server ours; stop_server ref' EXIT
sleep 0.3
redis-cli -p $rport set bench-key "hello from redis" >/dev/null

body=$(redis_get_body "$rport")

start_server ours 18091 "$OURS_LOAD" "$body"
start_server ref 18092 "$REF_LOAD" "$body"
sleep 0.5
for p in 18091 18092; do curl -sf "http://127.0.0.1:$p/t" >/dev/null; done

compare "redis GET with keepalive" ours=http://127.0.0.1:18091/t reference=http://127.0.0.1:18092/t
