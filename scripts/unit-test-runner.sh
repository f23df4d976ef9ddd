#!/usr/bin/env bash
# cargo's runner for test binaries (see .cargo/config.toml). Unit tests cover
# pure logic, but the test binary still references nginx's symbols, which a
# real module gets from the nginx binary at load time. Give the dynamic loader
# a stub library that defines them (never called by the tests), then run.
set -euo pipefail
bin=$1
shift
syms=$(nm -u "$bin" 2>/dev/null | awk '{print $2}' | grep -E '^(ngx_|nginx_|SSL_|X509_|OPENSSL_|ERR_|EVP_)' || true)
if [ -z "$syms" ]; then
  exec "$bin" "$@"
fi
dir=$(dirname "$bin")/ngx-stubs
mkdir -p "$dir"
key=$(printf '%s\n' "$syms" | sha1sum | cut -c1-12)
stub=$dir/libngxstub-$key.so
if [ ! -f "$stub" ]; then
  {
    echo '/* generated: placeholders for nginx symbols in unit-test binaries */'
    for s in $syms; do echo "char $s[4096];"; done
  } > "$dir/stub-$key.c"
  cc -shared -fPIC -o "$stub" "$dir/stub-$key.c"
fi
LD_PRELOAD=$stub exec "$bin" "$@"
