#!/usr/bin/env bash
# Release build of the site without cargo-leptos (the same steps `cargo leptos build --release
# --split` runs): the hydrate bundle split into a chunk per lazy route (tools/wasm-split,
# wasm-bindgen, wasm-opt), the Tailwind stylesheet, static assets, copies of the bundle and
# stylesheet named by their content's hash (listed in hash.txt beside the server binary, which
# then links them and lets browsers keep them for good), precompressed copies, and the server
# binary. `cargo leptos watch` stays the development loop.
# SITE_FEATURES=--no-default-features with CARGO_TARGET_DIR=target/smallest builds the smallest
# feature set beside the full one (`make e2e-smallest`). `--bundle-only` builds everything but the
# server binary (the browser suite runs the test build's server: `make e2e`).
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

bundle_only=false
case "${1:-}" in
  "") ;;
  --bundle-only) bundle_only=true ;;
  *) echo "usage: $0 [--bundle-only]" >&2; exit 2 ;;
esac
target=${CARGO_TARGET_DIR:-target}
# `split-routes` puts each page area behind a split point (app/src/routes.rs) for the wasm split
# below; the server compiled with it too names the chunks of the page it renders, to preload.
read -r -a features <<< "${SITE_FEATURES:-} --features app/split-routes"
site=$target/site
pkg=$site/pkg

echo "==> wasm bundle, split by page area"
# Everything in pkg/ is built here; a clean folder leaves no chunk of an earlier build behind.
rm -rf "$pkg"
mkdir -p "$pkg"
# The split reads the linker's relocations; only the wasm build is linked with them.
RUSTFLAGS="$RUSTFLAGS -C link-args=--emit-relocs" \
  cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release "${features[@]}"
cargo build -p wasm-split --release
linked=$target/wasm32-unknown-unknown/wasm-release/frontend.wasm
"$target/release/wasm-split" "$linked" "$pkg" "${linked%.wasm}_split.wasm" sigra.js
# The split modules share the main module's memory and function table through the exports
# that wasm-bindgen keeps with these flags.
wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle --out-dir "$pkg" \
  --out-name sigra "${linked%.wasm}_split.wasm"
mv -f "$pkg/sigra_bg.wasm" "$pkg/sigra.wasm"
# (binaryen does not know the name section's newest subsection; the section is stripped anyway.)
find "$pkg" -name '*.wasm' -print0 | xargs -0 node scripts/optimize-wasm.mjs \
  2> >(grep -v 'unknown name subsection' >&2)

echo "==> stylesheet"
tailwindcss --input style/tailwind.css --output "$pkg/sigra.css" --minify

echo "==> static assets"
cp -R public/. "$site/"

echo "==> content-hashed names"
# The plain names stay too, for the dev mailbox and a server started without hash.txt (whose
# pages load the bundle by its plain name but then cannot load an area's chunks: see below).
mkdir -p "$target/release"
hashes=$target/release/hash.txt
: > "$hashes"
for ext in js wasm css; do
  hash=$(sha256sum "$pkg/sigra.$ext" | cut -c1-20)
  cp "$pkg/sigra.$ext" "$pkg/sigra.$hash.$ext"
  echo "$ext: $hash" >> "$hashes"
done
# The chunks are renamed by their hashes. Only the loader names them, and the main module it
# imports must be the very module the page loaded (sigra.<hash>.js), so its text is rewritten to
# those names; it keeps its own fixed name and is revalidated (it is the one file whose text
# follows the others'). The manifest the server preloads from names the chunks too.
node -e '
  const fs = require("fs"), path = require("path"), crypto = require("crypto");
  const [dir, mainModule] = process.argv.slice(1);
  const loaderFile = path.join(dir, "__wasm_split.______________________.js");
  const manifestFile = path.join(dir, "__wasm_split_manifest.json");
  const renamed = new Map();
  for (const name of fs.readdirSync(dir)) {
    const chunk = /^((?:split|chunk)_.+)\.wasm$/.exec(name);
    if (!chunk) continue;
    const hash = crypto.createHash("sha256").update(fs.readFileSync(path.join(dir, name)));
    const stem = `${chunk[1]}.${hash.digest("hex").slice(0, 20)}`;
    fs.renameSync(path.join(dir, name), path.join(dir, `${stem}.wasm`));
    renamed.set(chunk[1], stem);
  }
  const hashed = (stem) => {
    if (!renamed.has(stem)) throw new Error(`the split names a chunk it did not write: ${stem}`);
    return renamed.get(stem);
  };
  let loader = fs.readFileSync(loaderFile, "utf8");
  loader = loader.replace(/"\.\/((?:split|chunk)_[^"]+)\.wasm"/g, (_, stem) => `"./${hashed(stem)}.wasm"`);
  const mainImport = "from \"./sigra.js\"";
  if (loader.split(mainImport).length !== 2) throw new Error("the loader does not import ./sigra.js once");
  fs.writeFileSync(loaderFile, loader.replace(mainImport, `from "./${mainModule}"`));
  const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
  for (const route of Object.keys(manifest)) manifest[route] = manifest[route].map(hashed);
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
' "$pkg" "sigra.$(awk '/^js:/ { print $2 }' "$hashes").js"

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

if $bundle_only; then
  echo "built: $site (and $hashes)"
  exit 0
fi
echo "==> server"
cargo build -p server --release "${features[@]}"
echo "built: $target/release/server (with $hashes) and $site"
