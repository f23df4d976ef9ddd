#!/usr/bin/env bash
# Runs every test: Rust unit tests, the harness self-tests, and the
# Test::Nginx suites against (1) nginx 1.28 built from the nginx-src crate and
# (2) Debian's stock nginx 1.22.1 with the module built for it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh

echo "== cargo test (unit tests)"
cargo test --release --features vendored --lib

echo "== fuzz: cjson's JSON reader, bounded"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"

echo "== build: vendored nginx 1.28 + module"
bash nginx-src/vendored.sh

echo "== build: module for Debian's nginx"
bash nginx-src/debian.sh

jobs=${TEST_JOBS:-2}
export TEST_NGINX_RANDOMIZE=1

echo "== prove: harness self-tests (Debian nginx, no module)"
prove -j"$jobs" -I t/lib -r t/harness/

suites=$(ls t/*.t 2>/dev/null || true)
if [ -n "$suites" ]; then
  echo "== prove: suites on vendored nginx 1.28"
  TEST_NGINX_BINARY=$root/build/vendored/nginx \
  TEST_NGINX_LOAD_MODULES=$root/build/vendored/ngx_http_lua_rs_module.so \
    prove -j"$jobs" -I t/lib $suites

  echo "== prove: suites on Debian's stock nginx 1.22.1"
  TEST_NGINX_BINARY=/usr/sbin/nginx \
  TEST_NGINX_LOAD_MODULES=$root/build/debian/ngx_http_lua_rs_module.so \
    prove -j"$jobs" -I t/lib $suites
fi
