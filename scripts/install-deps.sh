#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the example need.
# Safe to run repeatedly; skips apt when everything is already present.
set -euo pipefail

PKGS=(
  # building the module and nginx (bindgen needs libclang)
  build-essential pkg-config libssl-dev libpcre2-dev zlib1g-dev libclang-dev clang
  # stock Debian target: nginx 1.22.1 + headers, and the reference module for benchmarks
  nginx nginx-dev libnginx-mod-http-lua
  # Lua C module loaded through lua_package_cpath in tests
  lua-cjson
  # the Test::Nginx-compatible harness in t/lib
  perl libtest-base-perl libtext-diff-perl liburi-perl libtest-longstring-perl
  libnginx-mod-stream
  # peers used by the test suites and the benchmarks, and the unmodified
  # Debian Lua libraries the suites run against them
  redis-server memcached wrk curl lua-nginx-redis lua-nginx-memcached
  lua-nginx-websocket lua-nginx-dns
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Debian's packages start their services on install; the tests start their own on other ports.
for svc in nginx redis-server memcached; do
  if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
done
