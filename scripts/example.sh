#!/usr/bin/env bash
# Builds everything and runs the example server on 127.0.0.1:8080 in the
# foreground (Ctrl-C stops it). The config is example/nginx.conf.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh
bash nginx-src/vendored.sh

prefix=$root/build/example
mkdir -p "$prefix/conf" "$prefix/logs"
sed "s|__MODULE__|$root/build/vendored/ngx_http_lua_rs_module.so|" example/nginx.conf > "$prefix/conf/nginx.conf"

echo "example server: http://127.0.0.1:8080/ (see example/nginx.conf for the endpoints)"
exec "$root/build/vendored/nginx" -p "$prefix/" -c conf/nginx.conf -e logs/error.log
