#!/usr/bin/env bash
# ngx.shared.DICT in tight Lua loops inside one request (1M set, 1M get hits,
# 1M incr, 1M mixed 60% get / 30% set / 10% incr), timed with
# ngx.update_time()/ngx.now(), ours vs the reference module (Debian's
# libnginx-mod-http-lua + lua-resty-core's FFI shdict), both on Debian's
# nginx 1.22.1 with 1 worker; rounds interleaved, best of ROUNDS; prints
# ratios (reference time / our time: > 1 means we are faster). Then fills a
# 1 MiB dict with fixed-size items until the first eviction and compares how
# many items fit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -f "$OURS_SO" ] || bash "$BENCH_ROOT/nginx-src/debian.sh"

body='
lua_shared_dict d 64m;
lua_shared_dict m1 1m;
server {
    listen 127.0.0.1:__PORT__;
    location = /bench {
        content_by_lua_block {
            local d = ngx.shared.d
            local N = tonumber(ngx.var.arg_n) or 1000000
            local op = ngx.var.arg_op
            local keys = {}
            for i = 1, 1024 do keys[i] = "key:" .. i end
            local sval = string.rep("v", 32)
            d:flush_all()
            d:flush_expired()
            for i = 1, 1024 do d:set(keys[i], i) end
            d:set("counter", 0)
            ngx.update_time()
            local t0 = ngx.now()
            if op == "set" then
                for i = 1, N do d:set(keys[i % 1024 + 1], i) end
            elseif op == "setstr" then
                for i = 1, N do d:set(keys[i % 1024 + 1], sval) end
            elseif op == "get" then
                local s = 0
                for i = 1, N do s = s + d:get(keys[i % 1024 + 1]) end
            elseif op == "getstr" then
                for i = 1, 1024 do d:set(keys[i], sval) end
                ngx.update_time()
                t0 = ngx.now()
                local n = 0
                for i = 1, N do n = n + #d:get(keys[i % 1024 + 1]) end
            elseif op == "incr" then
                for i = 1, N do d:incr(keys[i % 1024 + 1], 1, 0) end
            elseif op == "mixed" then
                for i = 1, N do
                    local k = keys[i % 1024 + 1]
                    local r = i % 10
                    if r < 6 then
                        d:get(k)
                    elseif r < 9 then
                        d:set(k, i)
                    else
                        d:incr("counter", 1, 0)
                    end
                end
            end
            ngx.update_time()
            ngx.say(ngx.now() - t0)
        }
    }
    location = /fill {
        content_by_lua_block {
            local m = ngx.shared.m1
            local size = tonumber(ngx.var.arg_size)
            m:flush_all()
            m:flush_expired()
            local v = size == 0 and 1.5 or string.rep("x", size)
            local n = 0
            while true do
                local ok, err, forcible = m:set("item:" .. n, v)
                if not ok or forcible then break end
                n = n + 1
            end
            ngx.say(n)
        }
    }
}'

start_server ours 18191 "$OURS_LOAD" "$body"
start_server ref 18192 "$REF_LOAD" "$body"
trap 'stop_server ours; stop_server ref' EXIT
sleep 0.5
for p in 18191 18192; do curl -sf "http://127.0.0.1:$p/bench?op=set&n=1000" >/dev/null; done

rounds=${ROUNDS:-5}
min() { tr ' ' '\n' <<< "$*" | sort -g | head -n 1; }
printf '%-8s %12s %12s %8s\n' op "ours (s)" "ref (s)" "ref/ours"
for op in set get incr mixed setstr getstr; do
  O=() R=()
  for i in $(seq "$rounds"); do
    O+=("$(curl -sf "http://127.0.0.1:18191/bench?op=$op")")
    R+=("$(curl -sf "http://127.0.0.1:18192/bench?op=$op")")
  done
  o=$(min "${O[@]}") r=$(min "${R[@]}")
  printf '%-8s %12s %12s %8s\n' "$op" "$o" "$r" "$(ratio "$r" "$o")"
done

echo
echo "items stored in a 1 MiB dict before the first eviction (key \"item:N\")"
printf '%-14s %8s %8s %8s\n' value ours ref ours/ref
for size in 0 16 32 64 100 200; do
  o=$(curl -sf "http://127.0.0.1:18191/fill?size=$size")
  r=$(curl -sf "http://127.0.0.1:18192/fill?size=$size")
  label=$([ "$size" = 0 ] && echo "number" || echo "string $size B")
  printf '%-14s %8s %8s %8s\n' "$label" "$o" "$r" "$(ratio "$o" "$r")"
done
