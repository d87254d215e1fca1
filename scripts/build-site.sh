#!/usr/bin/env bash
# Release build of the site without cargo-leptos (the same steps it runs): the hydrate bundle
# (wasm-bindgen + wasm-opt), the Tailwind stylesheet, static assets, copies of the bundle and
# stylesheet named by their content's hash (listed in hash.txt beside the server binary, which
# then links them and lets browsers keep them for good), precompressed copies, and the server
# binary. `cargo leptos watch` stays the development loop.
# SITE_FEATURES=--no-default-features with CARGO_TARGET_DIR=target/smallest builds the smallest
# feature set beside the full one (`make e2e-smallest`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
# Leptos reads the site name at compile time; cargo-leptos sets the same value.
export LEPTOS_OUTPUT_NAME=sigra
# `erase_components` type-erases each component's view (as `cargo leptos watch` does in debug):
# the bundle no longer carries a copy of the view code per nested view type, which makes it a
# third smaller (1,201 kB gzip before, 815 kB after, on 2026-12-07). The server must be built
# with it too: the erased views hydrate only the HTML the erased server renders.
export RUSTFLAGS="${RUSTFLAGS:-} --cfg erase_components"

target=${CARGO_TARGET_DIR:-target}
read -r -a features <<< "${SITE_FEATURES:-}"
site=$target/site
pkg=$site/pkg
mkdir -p "$pkg"

echo "==> wasm bundle"
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release "${features[@]}"
wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name sigra \
  "$target/wasm32-unknown-unknown/wasm-release/frontend.wasm"
mv -f "$pkg/sigra_bg.wasm" "$pkg/sigra.wasm"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$pkg/sigra.wasm" -o "$pkg/sigra.wasm"

echo "==> stylesheet"
tailwindcss --input style/tailwind.css --output "$pkg/sigra.css" --minify

echo "==> static assets"
cp -R public/. "$site/"

echo "==> content-hashed names"
# The plain names stay too, for a server started without hash.txt and for the dev mailbox.
find "$pkg" -regextype posix-extended -regex '.*/sigra\.[0-9a-f]{20}\.(js|wasm|css)(\.gz|\.br)?' -delete
mkdir -p "$target/release"
hashes=$target/release/hash.txt
: > "$hashes"
for ext in js wasm css; do
  hash=$(sha256sum "$pkg/sigra.$ext" | cut -c1-20)
  cp "$pkg/sigra.$ext" "$pkg/sigra.$hash.$ext"
  echo "$ext: $hash" >> "$hashes"
done

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
cargo build -p server --release "${features[@]}"
echo "built: $target/release/server (with $hashes) and $site"
