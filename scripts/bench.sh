#!/usr/bin/env bash
# Benchmarks: the loopback load test of the release server, criterion micro-benchmarks of the
# core's hot functions, and the wasm and JavaScript each page loads before it is interactive
# (in Chromium, through the browser suite's harness). Expects `scripts/build-site.sh` to have
# run (`make bench` does).
set -euo pipefail
cd "$(dirname "$0")/.."
export LEPTOS_OUTPUT_NAME=sigra
# The flags and features scripts/build-site.sh builds with: `cargo bench` builds the server binary
# the load test starts again (the benchmarks' dependencies unify some crates' features
# differently), and it must stay the site's server.
export RUSTFLAGS="${RUSTFLAGS:-} --cfg erase_components"
cargo bench -p server --bench load --features app/split-routes
cargo bench -p sigra --bench core -- --noplot

report=$PWD/target/bundle-report.json
rm -f "$report"
BUNDLE_REPORT=$report E2E_BINARY=target/release/server scripts/e2e.sh tests/bundle.spec.ts --retries 0 >/dev/null
node -e '
  const { logIn, largest } = JSON.parse(require("fs").readFileSync(process.argv[1]));
  const kib = (n) => (n / 1024).toFixed(0) + " KiB";
  for (const [label, m] of [["log-in page", logIn], ["largest page (" + largest.page + ")", largest]])
    console.log(`initial wasm and JavaScript, ${label}: ${kib(m.gzip)} gzip, ${kib(m.br)} brotli`);
' "$report"
