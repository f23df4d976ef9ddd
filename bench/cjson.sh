#!/usr/bin/env bash
# cjson.encode and cjson.decode of a ~2 KB document in a Lua loop, timed
# inside one request (ngx.update_time + ngx.now): ours (built-in cjson) vs
# the reference module with Debian's lua-cjson (lua_package_cpath), both on
# Debian's nginx 1.22.1, 1 worker. Rounds interleaved; prints ratios
# (reference time / our time: > 1 means ours is faster).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -f "$OURS_SO" ] || bash "$BENCH_ROOT/nginx-src/debian.sh"
[ -f /usr/lib/x86_64-linux-gnu/lua/5.1/cjson.so ] || { echo "needs Debian's lua-cjson" >&2; exit 1; }

iters=${ITERS:-20000}
body='lua_package_cpath "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;;";
server { listen 127.0.0.1:__PORT__; location = /t { content_by_lua_block {
    local cjson = require "cjson"
    local doc = { id = 123456, name = "ngx-lua-rs benchmark document", active = true,
                  ratio = 0.75, tags = {}, items = {}, owner = { login = "someone",
                  url = "https://example.com/users/someone", score = 98.6, admin = false } }
    for i = 1, 8 do doc.tags[i] = "tag-" .. i end
    for i = 1, 18 do
        doc.items[i] = { n = i, price = i * 1.25, label = "item number " .. i,
                         path = "/a/b/" .. i, ok = i % 2 == 0, note = "line\tbreak\n" }
    end
    local s = cjson.encode(doc)
    local n = tonumber(ngx.var.arg_n) or 20000
    local encode, decode = cjson.encode, cjson.decode
    ngx.update_time()
    local t0 = ngx.now()
    for _ = 1, n do encode(doc) end
    ngx.update_time()
    local t1 = ngx.now()
    for _ = 1, n do decode(s) end
    ngx.update_time()
    local t2 = ngx.now()
    ngx.say((t1 - t0) * 1000, " ", (t2 - t1) * 1000, " ", #s, " ", cjson._VERSION)
} } }'

start_server cjson-ours 18471 "$OURS_LOAD" "$body"
start_server cjson-ref 18472 "$REF_LOAD" "$body"
trap 'stop_server cjson-ours; stop_server cjson-ref' EXIT
sleep 0.5
# Warm up (JIT, allocator) and show what runs.
for p in 18471 18472; do curl -sf "http://127.0.0.1:$p/t?n=2000" >/dev/null; done
echo "document: $(curl -sf "http://127.0.0.1:18471/t?n=1" | awk '{print $3}') bytes;" \
     "ours: cjson $(curl -sf "http://127.0.0.1:18471/t?n=1" | awk '{print $4}')," \
     "reference: lua-cjson $(curl -sf "http://127.0.0.1:18472/t?n=1" | awk '{print $4}')"

rounds=${ROUNDS:-5}
oe=0 od=0 re=0 rd=0
for _ in $(seq "$rounds"); do
  read -r e d _ < <(curl -sf "http://127.0.0.1:18471/t?n=$iters")
  oe=$(awk -v a="$oe" -v b="$e" 'BEGIN{print a+b}'); od=$(awk -v a="$od" -v b="$d" 'BEGIN{print a+b}')
  read -r e d _ < <(curl -sf "http://127.0.0.1:18472/t?n=$iters")
  re=$(awk -v a="$re" -v b="$e" 'BEGIN{print a+b}'); rd=$(awk -v a="$rd" -v b="$d" 'BEGIN{print a+b}')
done
per() { awk -v t="$1" -v r="$rounds" -v n="$iters" 'BEGIN { printf "%.2f", t * 1000 / r / n }'; }
echo "encode: ours $(per "$oe") us/op, reference $(per "$re") us/op, ratio reference/ours = $(ratio "$re" "$oe")"
echo "decode: ours $(per "$od") us/op, reference $(per "$rd") us/op, ratio reference/ours = $(ratio "$rd" "$od")"
