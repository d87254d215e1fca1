// Optimises each wasm module named on the command line for size, in place: what `wasm-opt -Oz
// --strip-debug --strip-producers` does, in one process for the main module and its chunks (a
// wasm-opt process per file costs seconds of start-up each), on a worker thread per core
// (binaryen's JavaScript build runs its passes on one thread).
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker } from "node:worker_threads";

if (isMainThread) {
  // Largest first, so the main module does not start last on a thread of its own.
  const files = process.argv.slice(2).sort((a, b) => statSync(b).size - statSync(a).size);
  let next = 0;
  const threads = Math.min(availableParallelism(), files.length);
  await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise((resolve, reject) => {
          const worker = new Worker(new URL(import.meta.url));
          const feed = () => {
            if (next < files.length) worker.postMessage(files[next++]);
            else worker.terminate().then(resolve, reject);
          };
          worker.on("message", feed);
          worker.on("error", reject);
          feed();
        }),
    ),
  );
} else {
  const { default: binaryen } = await import("binaryen");
  // The features the Rust wasm32 target emits (as `wasm-opt --enable-…` would add them to those
  // the module's target_features section names).
  const features =
    binaryen.Features.MutableGlobals |
    binaryen.Features.SignExt |
    binaryen.Features.BulkMemory |
    binaryen.Features.BulkMemoryOpt |
    binaryen.Features.NontrappingFPToInt;
  binaryen.setOptimizeLevel(2);
  binaryen.setShrinkLevel(2);
  // No names or producers in what browsers download.
  binaryen.setDebugInfo(false);

  parentPort.on("message", (file) => {
    const module = binaryen.readBinary(readFileSync(file));
    module.setFeatures(module.getFeatures() | features);
    module.optimize();
    module.runPasses(["strip-debug", "strip-producers"]);
    if (!module.validate()) throw new Error(`${file} is not valid after optimising`);
    writeFileSync(file, module.emitBinary());
    module.dispose();
    parentPort.postMessage(file);
  });
}
