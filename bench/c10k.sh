#!/usr/bin/env bash
# 10,000 concurrent connections, each request sleeping 1 s (ngx.sleep) on one
# worker of Debian's nginx with our module: all must be answered without
# errors; prints the worker's RSS while they sleep.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bash "$BENCH_ROOT/nginx-src/debian.sh" >/dev/null
conns=${CONNS:-10000}

body='server { listen 127.0.0.1:__PORT__ backlog=16384; keepalive_timeout 0;
  location = /t { content_by_lua_block { ngx.sleep(1) ngx.say("ok") } } }'
start_server c10k 18095 "$OURS_LOAD" "$body"
trap 'stop_server c10k' EXIT
sed -i 's/worker_connections 4096;/worker_connections 20000;/' "$BENCH_TMP/c10k/conf/nginx.conf"
"$NGINX" -p "$BENCH_TMP/c10k/" -c conf/nginx.conf -e logs/error.log -s reload
sleep 1
worker=$(pgrep -f "nginx: worker process" -P "$(cat "$BENCH_TMP/c10k/logs/nginx.pid")" | head -n 1)

out=$(mktemp)
ulimit -n 65536 2>/dev/null || true
( wrk -t2 -c"$conns" -d4s --timeout 10s http://127.0.0.1:18095/t > "$out" 2>&1 ) &
sleep 2
rss=$(awk '/VmRSS/ {print $2 " " $3}' "/proc/$worker/status" 2>/dev/null || echo "n/a")
wait
cat "$out"
errors=$(awk '/Socket errors/ {print}' "$out")
echo "c10k: $conns connections sleeping 1 s on one worker; worker RSS while sleeping: $rss; ${errors:-no socket errors}"
grep -E '\[(alert|crit|emerg)\]' "$BENCH_TMP/c10k/logs/error.log" | tail -3 || true
