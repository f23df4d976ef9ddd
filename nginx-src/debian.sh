#!/usr/bin/env bash
# Builds the module for Debian's stock nginx (packages nginx + nginx-dev):
# configures a copy of /usr/share/nginx/src with Debian's own flags (no make:
# the headers and objs/ngx_auto_*.h are all the module build needs), then
# builds against it without the vendored feature. The result loads into
# /usr/sbin/nginx with load_module. Staged in build/debian/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

src=/usr/share/nginx/src
if [ ! -f "$src/conf_flags" ]; then
  echo "nginx-dev is not installed ($src/conf_flags missing)" >&2
  exit 1
fi

tree=$root/build/debian/nginx-tree
stamp=$tree/.configured-$(dpkg-query -W -f='${Version}' nginx-dev)
if [ ! -f "$stamp" ]; then
  rm -rf "$tree"
  mkdir -p "$tree"
  cp -a "$src"/. "$tree"/
  (
    cd "$tree"
    # shellcheck disable=SC1091
    source ./conf_flags
    # conf_flags defines NGX_CONF_FLAGS; the stream subsystem is a dynamic
    # module in Debian, add it so stream headers are configured too.
    ./configure "${NGX_CONF_FLAGS[@]}" --with-stream=dynamic >/dev/null
  )
  touch "$stamp"
fi

profile=${PROFILE:-release}
export CARGO_TARGET_DIR=$root/target/debian
NGINX_BUILD_DIR=$tree/objs cargo build --profile "$profile" --no-default-features --features export-modules
# Copy then rename, so running nginx processes keep their mapped copy.
cp -f "$CARGO_TARGET_DIR/$profile/libngx_http_lua_rs_module.so" build/debian/ngx_http_lua_rs_module.so.new
mv -f build/debian/ngx_http_lua_rs_module.so.new build/debian/ngx_http_lua_rs_module.so
echo "build/debian: module for $(/usr/sbin/nginx -v 2>&1 | sed 's/.*\///') staged"
