#!/usr/bin/env bash
# Fuzzes cjson's JSON reader for a bounded time (default 60 s):
#   bash scripts/fuzz.sh [seconds]
# With cargo-fuzz and a nightly toolchain: libFuzzer on fuzz/fuzz_targets/decode.rs.
# Without them (no nightly, cargo-fuzz not installable): the deterministic
# in-tree mutation fuzz under `cargo test` (cjson::tests::fuzz_decoder_bounded),
# scaled to about the same time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
cd "$root"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz >/dev/null 2>&1 || true
fi
if command -v cargo-fuzz >/dev/null 2>&1 && rustup run nightly rustc --version >/dev/null 2>&1; then
  cd fuzz
  # A scratch copy of the seeds: libFuzzer adds what it finds to the corpus.
  work=$(mktemp -d)
  cp corpus/decode/* "$work"/
  # libFuzzer reports every new input; keep that in a log and show the end.
  log=$root/build/fuzz-decode.log
  mkdir -p "$root/build"
  if ! cargo +nightly fuzz run decode "$work" -- -max_total_time="$secs" -max_len=4096 >"$log" 2>&1; then
    tail -n 40 "$log"
    rm -rf "$work"
    exit 1
  fi
  grep -E '^Done [0-9]+ runs' "$log" || tail -n 3 "$log"
  rm -rf "$work"
else
  echo "cargo-fuzz or nightly unavailable: running the in-tree mutation fuzz instead"
  CJSON_FUZZ_ITERS=$((secs * 20000)) cargo test --release --features vendored --lib fuzz_decoder_bounded
fi
