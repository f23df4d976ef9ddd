#!/usr/bin/env bash
# A proxied request through balancer_by_lua_block (peer chosen in Lua, with
# upstream keepalive) + header_filter_by_lua_block (header rewrite, drops
# Content-Length) + body_filter_by_lua_block (rewrites the chunk): ours vs
# the reference module (Debian's libnginx-mod-http-lua) on Debian's nginx
# 1.22.1, same config, 1 worker (the backend is a server of the same nginx);
# rounds interleaved; prints ratios. A plain proxy_pass (no Lua) is the
# ceiling.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bash "$BENCH_ROOT/nginx-src/debian.sh" >/dev/null

plain() { # $1 = backend port
  proxy_conf "$1" "    server 127.0.0.1:$1;" ""
}

start_server ours 18091 "$OURS_LOAD" "$(proxy_lua_conf 18191)"
start_server ref 18092 "$REF_LOAD" "$(proxy_lua_conf 18192)"
start_server plain 18093 "" "$(plain 18193)"
trap 'stop_server ours; stop_server ref; stop_server plain' EXIT
sleep 0.5
for p in 18091 18092; do
  body=$(curl -sf "http://127.0.0.1:$p/t")
  [ "$body" = "hello from the backend, user=alice token=***" ] || { echo "bad response on $p: $body" >&2; exit 1; }
done
curl -sf "http://127.0.0.1:18093/t" >/dev/null

rounds=${ROUNDS:-3}
declare -a O R P
for i in $(seq "$rounds"); do
  O+=("$(rps http://127.0.0.1:18091/t)")
  R+=("$(rps http://127.0.0.1:18092/t)")
  P+=("$(rps http://127.0.0.1:18093/t)")
done
sum() { awk '{s=0; for(i=1;i<=NF;i++) s+=$i; print s/NF}' <<< "$*"; }
o=$(sum "${O[@]}"); r=$(sum "${R[@]}"); p=$(sum "${P[@]}")
echo "rounds ours: ${O[*]}  reference: ${R[*]}  plain-proxy: ${P[*]}"
echo "proxy + balancer/header/body filters, req/s (mean of $rounds interleaved ${BENCH_SECONDS:-5}s rounds): ours=$o reference=$r plain-proxy=$p"
echo "ratio ours/reference = $(ratio "$o" "$r")   ours/plain-proxy = $(ratio "$o" "$p")"
