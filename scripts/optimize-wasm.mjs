// Optimises each wasm module named on the command line for size, in place: what `wasm-opt -Oz
// --strip-debug --strip-producers` does, in one process for the main module and its hundreds
// of chunks (a wasm-opt process per file costs seconds of start-up each).
import { readFileSync, writeFileSync } from "node:fs";

import binaryen from "binaryen";

// The features the Rust wasm32 target emits (as `wasm-opt --enable-…` would add them to those the
// module's target_features section names).
const FEATURES =
  binaryen.Features.MutableGlobals |
  binaryen.Features.SignExt |
  binaryen.Features.BulkMemory |
  binaryen.Features.BulkMemoryOpt |
  binaryen.Features.NontrappingFPToInt;

binaryen.setOptimizeLevel(2);
binaryen.setShrinkLevel(2);
// No names or producers in what browsers download.
binaryen.setDebugInfo(false);

for (const file of process.argv.slice(2)) {
  const module = binaryen.readBinary(readFileSync(file));
  module.setFeatures(module.getFeatures() | FEATURES);
  module.optimize();
  module.runPasses(["strip-debug", "strip-producers"]);
  if (!module.validate()) throw new Error(`${file} is not valid after optimising`);
  writeFileSync(file, module.emitBinary());
  module.dispose();
}
