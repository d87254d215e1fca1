#!/usr/bin/env bash
# The browser bundle `cargo leptos watch` serves, built the way cargo-leptos builds it (a debug
# build of the whole app in one module, without the page areas' split points, `--cfg
# erase_components`, wasm-bindgen for the web), into its own site folder, target/dev-site. The
# browser suite runs a server on it (end2end/tests/dev-bundle.spec.ts), so the development path
# is tested as well as the release one. Expects scripts/build-site.sh to have built the stylesheet.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export LEPTOS_OUTPUT_NAME=sigra
export RUSTFLAGS="${RUSTFLAGS:-} --cfg erase_components"
target=${CARGO_TARGET_DIR:-target}
site=$target/dev-site
stylesheet=$target/site/pkg/sigra.css
[ -f "$stylesheet" ] || { echo "missing $stylesheet: run scripts/build-site.sh first" >&2; exit 1; }

cargo build -p frontend --lib --target wasm32-unknown-unknown
rm -rf "$site"
mkdir -p "$site/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$site/pkg" --out-name sigra \
  "$target/wasm32-unknown-unknown/debug/frontend.wasm"
mv -f "$site/pkg/sigra_bg.wasm" "$site/pkg/sigra.wasm"
cp "$stylesheet" "$site/pkg/sigra.css"
cp -R public/. "$site/"
echo "built: $site"
