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

compare "proxy + balancer/header/body filters" ours=http://127.0.0.1:18091/t reference=http://127.0.0.1:18092/t plain-proxy=http://127.0.0.1:18093/t
