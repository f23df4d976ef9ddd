#!/usr/bin/env bash
# Builds the module against nginx 1.28 from the nginx-src crate (configured by
# nginx-sys with --with-compat, ssl, stream; .cargo/config.toml adds
# --with-debug) and stages the nginx binary and the module in build/vendored/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

profile=${PROFILE:-release}
cargo build --profile "$profile" --features vendored

target_dir=${CARGO_TARGET_DIR:-$root/target}
out=$target_dir/$profile
# nginx-sys builds nginx inside its build script's OUT_DIR; take the newest.
nginx_bin=$(ls -t "$out"/build/nginx-sys-*/out/objs/nginx 2>/dev/null | head -n 1)
if [ -z "$nginx_bin" ]; then
  echo "vendored nginx binary not found under $out/build" >&2
  exit 1
fi

mkdir -p build/vendored
# Copy then rename: running nginx processes keep the old inode instead of
# seeing their mapped binary or module change under them.
cp -f "$nginx_bin" build/vendored/nginx.new && mv -f build/vendored/nginx.new build/vendored/nginx
cp -f "$out/libngx_http_lua_rs_module.so" build/vendored/ngx_http_lua_rs_module.so.new
mv -f build/vendored/ngx_http_lua_rs_module.so.new build/vendored/ngx_http_lua_rs_module.so
echo "build/vendored: nginx $("$root/build/vendored/nginx" -v 2>&1 | sed 's/.*\///'), module staged"
