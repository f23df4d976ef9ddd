#!/usr/bin/env bash
# content_by_lua_block { ngx.say("hello world") }: ours vs the reference
# module (Debian's libnginx-mod-http-lua) vs a static `return 200`, all on
# Debian's nginx 1.22.1 with 1 worker; rounds interleaved; prints ratios.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bash "$BENCH_ROOT/nginx-src/debian.sh" >/dev/null

hello='server { listen 127.0.0.1:__PORT__; location = /t { content_by_lua_block { ngx.say("hello world") } } }'
static='server { listen 127.0.0.1:__PORT__; location = /t { return 200 "hello world\n"; } }'

start_server ours 18081 "$OURS_LOAD" "$hello"
start_server ref 18082 "$REF_LOAD" "$hello"
start_server static 18083 "" "$static"
trap 'stop_server ours; stop_server ref; stop_server static' EXIT
sleep 0.5
for p in 18081 18082 18083; do curl -sf "http://127.0.0.1:$p/t" >/dev/null; done

compare "hello world" ours=http://127.0.0.1:18081/t reference=http://127.0.0.1:18082/t static=http://127.0.0.1:18083/t
