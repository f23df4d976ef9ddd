# Shared by the bench scripts: start an nginx on a config, measure with wrk,
# print ratios. Everything listens on 127.0.0.1 only.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_TMP=${BENCH_TMP:-$BENCH_ROOT/build/bench}
NGINX=${NGINX:-/usr/sbin/nginx}
OURS_SO=${OURS_SO:-$BENCH_ROOT/build/debian/ngx_http_lua_rs_module.so}
REF_LOAD="load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;"
OURS_LOAD="load_module $OURS_SO;"

# CPU placement: the nginx worker under test gets CPU 0 to itself, the load
# generator and any peer (redis) share CPU 1. Unpinned, the scheduler moves
# three busy processes around two cores and the same server's rate swings
# by 20-30% between rounds; pinned, a round measures the worker's own cost.
# BENCH_PIN=0 turns it off (and it is off on a one-CPU machine).
if [ "${BENCH_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  WORKER_AFFINITY="worker_cpu_affinity 01;"
  LOADGEN="taskset -c 1"
else
  WORKER_AFFINITY=""
  LOADGEN=""
fi

# start_server NAME PORT LOAD_LINES HTTP_BLOCK_BODY
start_server() {
  local name=$1 port=$2 load=$3 body=$4
  local dir=$BENCH_TMP/$name
  mkdir -p "$dir/conf" "$dir/logs"
  : > "$dir/logs/error.log"
  cat > "$dir/conf/nginx.conf" <<CONF
$load
worker_processes 1;
$WORKER_AFFINITY
daemon on;
master_process on;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    default_type text/plain;
$body
}
CONF
  sed -i "s/__PORT__/$port/g" "$dir/conf/nginx.conf"
  "$NGINX" -p "$dir/" -c conf/nginx.conf -e logs/error.log
}

stop_server() {
  local dir=$BENCH_TMP/$1
  [ -f "$dir/logs/nginx.pid" ] && kill -QUIT "$(cat "$dir/logs/nginx.pid")" 2>/dev/null || true
  sleep 0.5
}

# rps URL: requests/second from one wrk run
rps() {
  $LOADGEN wrk -t1 -c50 -d"${BENCH_SECONDS:-5}"s "$1" 2>/dev/null | awk '/Requests\/sec/ {print $2}'
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'
}

# compare TITLE NAME=URL...: ROUNDS interleaved wrk rounds over the servers,
# the first being ours. Within a round the order rotates (ours first, then
# second, ...), so a drift in the machine's speed favours none of them.
# Prints every round, the means, and ours / each other server both as the
# ratio of the means and as the median of the per-round ratios (the two
# runs of a round are seconds apart, so their ratio is what a round says;
# the median is not moved by a round where the machine stalled).
compare() {
  local title=$1; shift
  local n=$# names=() urls=() a i j k
  for a in "$@"; do names+=("${a%%=*}"); urls+=("${a#*=}"); done
  local rounds=${ROUNDS:-3}
  local -a vals
  for ((i = 0; i < rounds; i++)); do
    for ((j = 0; j < n; j++)); do
      k=$(( (i + j) % n ))
      vals[k * rounds + i]=$(rps "${urls[$k]}")
    done
  done
  local lines=""
  for ((k = 0; k < n; k++)); do
    lines+="${names[$k]}"
    for ((i = 0; i < rounds; i++)); do lines+=" ${vals[k * rounds + i]:-0}"; done
    lines+=$'\n'
  done
  printf '%s' "$lines" | awk -v title="$title" -v secs="${BENCH_SECONDS:-5}" '
    { name[NR] = $1; for (i = 2; i <= NF; i++) v[NR, i - 1] = $i; r = NF - 1 }
    function median(a, m,   i, j, t) {
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    END {
      for (k = 1; k <= NR; k++) {
        s = 0; line = ""
        for (i = 1; i <= r; i++) { s += v[k, i]; line = line sprintf(" %.0f", v[k, i]) }
        mean[k] = s / r
        printf "rounds %s:%s\n", name[k], line
      }
      printf "%s, req/s (mean of %d interleaved %ss rounds):", title, r, secs
      for (k = 1; k <= NR; k++) printf " %s=%.0f", name[k], mean[k]
      printf "\n"
      for (k = 2; k <= NR; k++) {
        m = 0
        for (i = 1; i <= r; i++) if (v[k, i] > 0) q[++m] = v[1, i] / v[k, i]
        printf "ratio %s/%s = %.3f (means)  %.3f (median of per-round ratios)\n", name[1], name[k], mean[1] / mean[k], median(q, m)
        delete q
      }
    }'
}

# The Lua-side configs several scripts measure (proxy.sh, redis.sh, instr.sh).

# proxy_lua_conf BACKEND_PORT: a backend server plus /t proxied to it through
# balancer_by_lua (upstream keepalive), a header filter and a body filter.
proxy_lua_conf() {
  local upstream location
  upstream=$(cat <<CONF
    server 0.0.0.1;
    balancer_by_lua_block {
        local b = require "ngx.balancer"
        local ok, err = b.set_current_peer("127.0.0.1", $1)
        if not ok then ngx.log(ngx.ERR, err) return ngx.exit(500) end
    }
CONF
)
  location=$(cat <<'CONF'
        header_filter_by_lua_block {
            ngx.header["X-Gateway"] = "lua"
            ngx.header["Server"] = nil
            ngx.header.content_length = nil
        }
        body_filter_by_lua_block {
            local chunk = ngx.arg[1]
            if chunk ~= "" then
                ngx.arg[1] = chunk:gsub("token=%w+", "token=***")
            end
        }
CONF
)
  proxy_conf "$1" "$upstream" "$location"
}

# proxy_conf BACKEND_PORT UPSTREAM_LINES LOCATION_LINES: the backend server
# and /t proxied to it over keepalive connections, with the given extra
# lines in the upstream block and in the location (proxy_lua_conf's Lua, or
# nothing but a server line for proxy.sh's plain proxy).
proxy_conf() {
  cat <<CONF
server { listen 127.0.0.1:$1; location / { return 200 "hello from the backend, user=alice token=s3cr3t\n"; } }
upstream backend {
$2
    keepalive 32;
}
server {
    listen 127.0.0.1:__PORT__;
    location = /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://backend/;
$3
    }
}
CONF
}

# redis_get_body REDIS_PORT: /t doing a GET through resty.redis with keepalive.
redis_get_body() {
  cat <<CONF
server { listen 127.0.0.1:__PORT__; location = /t { content_by_lua_block {
    local red = require("nginx.redis"):new()
    red:set_timeout(1000)
    local ok, err = red:connect("127.0.0.1", $1)
    if not ok then ngx.exit(500) end
    ngx.say(red:get("bench-key"))
    red:set_keepalive(10000, 100)
} } }
CONF
}
