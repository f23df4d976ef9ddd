#!/usr/bin/env bash
# Instructions per request (valgrind's callgrind: a count, not a time, so it
# is repeatable on a busy machine) for ours and the reference module on
# Debian's nginx, master_process off, one connection with keepalive. Each
# server runs twice (500 and 2500 requests); the difference / 2000 leaves
# out start-up and shutdown. Scenarios: hello, redis, proxy (the configs of
# hello.sh, redis.sh and proxy.sh), and static (hello.sh's `return 200`,
# no module loaded: the floor).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -n "${BENCH_NO_BUILD:-}" ] || bash "$BENCH_ROOT/nginx-src/debian.sh" >/dev/null
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }

rport=18389
backend=18388
port=18387

hello='server { listen 127.0.0.1:__PORT__; location = /t { content_by_lua_block { ngx.say("hello world") } } }'
redis=$(redis_get_body "$rport")
proxy=$(proxy_lua_conf "$backend")
static='server { listen 127.0.0.1:__PORT__; location = /t { return 200 "hello world\n"; } }'

# count NAME LOAD BODY N: total instructions of a run serving N requests
count() {
  local name=$1 load=$2 body=$3 n=$4 dir=$BENCH_TMP/instr-$1
  mkdir -p "$dir/conf" "$dir/logs"
  cat > "$dir/conf/nginx.conf" <<CONF
$load
worker_processes 1; daemon off; master_process off;
error_log logs/error.log warn; pid logs/nginx.pid;
events { worker_connections 1024; }
http { access_log off; default_type text/plain;
${body//__PORT__/$port}
}
CONF
  valgrind --tool=callgrind --callgrind-out-file="$dir/cg.$n" "$NGINX" -p "$dir/" -c conf/nginx.conf \
    >/dev/null 2>"$dir/valgrind.log" &
  local vp=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/t" >/dev/null 2>&1 && break; sleep 0.2; done
  python3 - "$port" "$n" <<'PY'
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n - 1):
    c.request("GET", "/t"); r = c.getresponse(); r.read()
    if r.status != 200: sys.exit("status %d" % r.status)
PY
  kill -QUIT "$vp"; wait "$vp" || true
  awk '/^(summary|totals):/ {print $2; exit}' "$dir/cg.$n"
}

per_request() { # NAME LOAD BODY
  local a b
  a=$(count "$1" "$2" "$3" 500); b=$(count "$1" "$2" "$3" 2500)
  echo $(( (b - a) / 2000 ))
}

mkdir -p "$BENCH_TMP"
redis-server --port $rport --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$BENCH_TMP/instr-redis.pid" >/dev/null
trap 'redis-cli -p $rport shutdown nosave >/dev/null 2>&1 || true' EXIT
sleep 0.3
redis-cli -p $rport set bench-key "hello from redis" >/dev/null

for s in ${SCENARIOS:-hello redis proxy}; do
  body=${!s}
  if [ "$s" = static ]; then # the floor: nginx alone, no Lua module loaded
    echo "static: instructions per request $(per_request static "" "$body")"
    continue
  fi
  o=$(per_request "ours-$s" "$OURS_LOAD" "$body")
  r=$(per_request "ref-$s" "$REF_LOAD" "$body")
  echo "$s: instructions per request ours=$o reference=$r (reference/ours = $(ratio "$r" "$o"))"
done
