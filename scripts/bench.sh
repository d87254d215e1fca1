#!/usr/bin/env bash
# Benchmarks: the loopback load test of the release server, and criterion micro-benchmarks of
# the core's hot functions. Expects `scripts/build-site.sh` to have run (`make bench` does).
set -euo pipefail
cd "$(dirname "$0")/.."
export LEPTOS_OUTPUT_NAME=sigra
cargo bench -p server --bench load
cargo bench -p sigra --bench core -- --noplot
