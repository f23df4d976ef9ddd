#!/usr/bin/env bash
# ngx.re inside one request, timed with ngx.now() + ngx.update_time(): ours vs
# the reference module (Debian's libnginx-mod-http-lua with lua-resty-core),
# both on Debian's nginx 1.22.1 with 1 worker; rounds interleaved; prints
# per-loop times (medians) and ratios (reference time / our time: > 1 means
# we are faster). N=loop count, ROUNDS=rounds, VERBOSE=1 prints every round.
#   match: ngx.re.match(uri, [[^/api/v(\d+)/users/(\d+)$]], "jo")  (a routing pattern)
#   gsub:  ngx.re.gsub(line, [[\s+]], " ", "jo")                    (whitespace folding)
#   gsubf: ngx.re.gsub(line, [[(\w+)=(\w+)]], function, "jo")       (function replacement)
#   find:  ngx.re.find(line, [[user=(\w+)]], "jo", nil, 1)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -f "$OURS_SO" ] || bash "$BENCH_ROOT/nginx-src/debian.sh"

N=${N:-1000000}
loc() {
  cat <<LUA
server { listen 127.0.0.1:__PORT__; location = /t { content_by_lua_block {
    local N = $N
    local uri = "/api/v2/users/123456"
    local line = "GET  /index.html   user=alice   id=42    lang=en  ok"
    local match, gsub, find = ngx.re.match, ngx.re.gsub, ngx.re.find
    local function time(f)
        f(1000)
        ngx.update_time()
        local t0 = ngx.now()
        f(N)
        ngx.update_time()
        return ngx.now() - t0
    end
    local t = {}
    t[#t + 1] = time(function(n)
        local m
        for i = 1, n do m = match(uri, [[^/api/v(\d+)/users/(\d+)\$]], "jo") end
        assert(m[2] == "123456")
    end)
    t[#t + 1] = time(function(n)
        local s
        for i = 1, n do s = gsub(line, [[\s+]], " ", "jo") end
        assert(s == "GET /index.html user=alice id=42 lang=en ok")
    end)
    local function swap(m) return m[2] end
    t[#t + 1] = time(function(n)
        local s
        for i = 1, n / 4 do s = gsub(line, [[(\w+)=(\w+)]], swap, "jo") end
        assert(s:find("alice", 1, true))
    end)
    t[#t + 1] = time(function(n)
        local a, b
        for i = 1, n do a, b = find(line, [[user=(\w+)]], "jo", nil, 1) end
        assert(a == 25 and b == 29)
    end)
    ngx.say(table.concat(t, " "))
} } }
LUA
}

start_server ours 18091 "$OURS_LOAD" "$(loc)"
start_server ref 18092 "$REF_LOAD" "$(loc)"
trap 'stop_server ours; stop_server ref' EXIT
sleep 0.5

rounds=${ROUNDS:-3}
declare -a O R
for i in $(seq "$rounds"); do
  O+=("$(curl -sf http://127.0.0.1:18091/t)")
  R+=("$(curl -sf http://127.0.0.1:18092/t)")
done
[ -n "${VERBOSE:-}" ] && { printf 'ours: %s\n' "${O[@]}"; printf 'ref:  %s\n' "${R[@]}"; }
# column-wise medians (the machine is noisy; the median resists outliers)
median() {
  printf '%s\n' "$@" | awk '{for(i=1;i<=NF;i++) v[i,NR]=$i; nf=NF} END {
    for(i=1;i<=nf;i++) { n=0; for(r=1;r<=NR;r++) a[++n]=v[i,r]
      for(x=1;x<=n;x++) for(y=x+1;y<=n;y++) if(a[y]<a[x]) {t=a[x];a[x]=a[y];a[y]=t}
      m=(n%2)?a[(n+1)/2]:(a[n/2]+a[n/2+1])/2
      printf "%s%.4f", (i>1?" ":""), m }
    print "" }'
}
o=($(median "${O[@]}")); r=($(median "${R[@]}"))
names=("match jo (routing, x$N)" "gsub template jo (x$N)" "gsub function jo (x$((N / 4)))" "find nth jo (x$N)")
echo "ngx.re, seconds per loop (median of $rounds interleaved rounds), ratio = reference/ours (>1: ours faster)"
for i in "${!names[@]}"; do
  printf '%-32s ours=%ss reference=%ss ratio=%s\n' "${names[$i]}" "${o[$i]}" "${r[$i]}" "$(ratio "${r[$i]}" "${o[$i]}")"
done
