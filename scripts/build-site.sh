#!/usr/bin/env bash
# Release build of the site without cargo-leptos (the same steps it runs): the hydrate bundle
# (wasm-bindgen + wasm-opt), the Tailwind stylesheet, static assets, precompressed copies, and
# the server binary. `cargo leptos watch` stays the development loop.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
# Leptos reads the site name at compile time; cargo-leptos sets the same value.
export LEPTOS_OUTPUT_NAME=sigra

site=target/site
pkg=$site/pkg
mkdir -p "$pkg"

echo "==> wasm bundle"
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release
wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name sigra \
  target/wasm32-unknown-unknown/wasm-release/frontend.wasm
mv -f "$pkg/sigra_bg.wasm" "$pkg/sigra.wasm"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$pkg/sigra.wasm" -o "$pkg/sigra.wasm"

echo "==> stylesheet"
tailwindcss --input style/tailwind.css --output "$pkg/sigra.css" --minify

echo "==> static assets"
cp -R public/. "$site/"

echo "==> precompressed copies"
node -e '
  const fs = require("fs"), zlib = require("zlib"), path = require("path");
  for (const name of fs.readdirSync(process.argv[1])) {
    if (!/\.(js|wasm|css)$/.test(name)) continue;
    const file = path.join(process.argv[1], name), data = fs.readFileSync(file);
    fs.writeFileSync(file + ".gz", zlib.gzipSync(data, { level: 9 }));
    fs.writeFileSync(file + ".br", zlib.brotliCompressSync(data, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }));
  }' "$pkg"

echo "==> server"
cargo build -p server --release
echo "built: target/release/server and $site"
