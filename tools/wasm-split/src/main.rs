//! Splits the browser bundle at its split points (one per lazy route, `app/src/routes.rs`) into
//! the main module, the chunks loaded on first use, their JavaScript loader, and the manifest
//! the server reads to preload the chunks of the page it renders. `scripts/build-site.sh` runs
//! it between cargo (which links with `--emit-relocs` for it) and wasm-bindgen, as
//! `cargo leptos build --split` does.
//!
//! Usage: `wasm-split <linked.wasm> <site pkg dir> <main module out.wasm> <main module .js name>`

use std::path::Path;
use std::process::ExitCode;

/// The loader's file name. Leptos preloads it by this name when `hash.txt` names no `split:`
/// hash, which is how the site serves it: revalidated rather than kept for good, because its
/// text names the content-hashed main module and chunks (so it changes whenever they do).
const LOADER: &str = "./__wasm_split.______________________.js";

/// Which chunks each split point needs, read by Leptos at start-up from the site's pkg folder.
const MANIFEST: &str = "__wasm_split_manifest.json";

/// What the loader does when a chunk fails to load, in place of the library's (which reports the
/// failure to the Rust side, whose split point then aborts the whole module).
const LOAD_FAILURE: &str = include_str!("load_failure.js");

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, pkg_dir, main_out, main_module] = args.as_slice() else {
        eprintln!(
            "usage: wasm-split <linked.wasm> <site pkg dir> <main module out.wasm> <main module .js name>"
        );
        return ExitCode::from(2);
    };
    match split(
        Path::new(input),
        Path::new(pkg_dir),
        Path::new(main_out),
        main_module,
    ) {
        Ok(chunks) => {
            println!("split into the main module and {chunks} chunks");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("wasm-split: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Writes the main module to `main_out` and the chunks, loader and manifest to `pkg_dir`;
/// returns how many chunks there are.
fn split(
    input: &Path,
    pkg_dir: &Path,
    main_out: &Path,
    main_module: &str,
) -> Result<usize, String> {
    let wasm = std::fs::read(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let main_module = format!("./{main_module}");
    let split = wasm_split_cli_support::transform({
        let mut options = wasm_split_cli_support::Options::new(&wasm);
        options.output_dir = pkg_dir;
        options.main_out_path = main_out;
        options.main_module = &main_module;
        options.link_name = LOADER;
        options
    })
    .map_err(|e| format!("{e:#}"))?;
    replace_load_failure(&pkg_dir.join(LOADER))?;
    let manifest = serde_json::to_string_pretty(&split.prefetch_map).map_err(|e| e.to_string())?;
    let manifest_path = pkg_dir.join(MANIFEST);
    std::fs::write(&manifest_path, manifest)
        .map_err(|e| format!("cannot write {}: {e}", manifest_path.display()))?;
    Ok(split.split_modules.len())
}

/// Puts [`LOAD_FAILURE`] in place of the loader's `wrapAsyncCb`, the function that runs a
/// chunk's load and answers the Rust side. Fails if the library's loader no longer has it where
/// expected (right before `makeLoad`), rather than shipping a loader without it.
fn replace_load_failure(loader: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(loader)
        .map_err(|e| format!("cannot read {}: {e}", loader.display()))?;
    let start = "function wrapAsyncCb(callee) {";
    let end = "function makeLoad(";
    let (Some(from), Some(to)) = (text.find(start), text.find(end)) else {
        return Err(format!("{}: no `{start}` before `{end}`", loader.display()));
    };
    if from > to || text.matches(start).count() != 1 {
        return Err(format!(
            "{}: no single `{start}` before `{end}`",
            loader.display()
        ));
    }
    let replaced = format!("{}{LOAD_FAILURE}{}", &text[..from], &text[to..]);
    std::fs::write(loader, replaced).map_err(|e| format!("cannot write {}: {e}", loader.display()))
}
