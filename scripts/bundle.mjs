#!/usr/bin/env node
// The command line's bundle, after tsc has built dist/: `bin/fedseq` (and its worker threads)
// load dist/bundle/, a few chunks, instead of some 200 modules of dist/ and the 50 of vega's
// packages one by one. Loading is what every fedseq process pays before it computes anything:
// 0.37 -> 0.26 CPU-s for `fedseq --version`, 3.84 -> 3.57 for a `run` on outliers_sim with its
// report (measured on the 2-core machine of the test suite, which starts some 120 of them).
// The library (`import "fedseq"`, dist/index.js) stays unbundled.
//
// Chunks sit side by side in dist/bundle/, as the entry points name them: the gene pool, the
// worker-threads transport and the mask thread find their worker's entry beside their own
// module, as in dist/.
// Packages with files of their own next to their code (gRPC's, h5wasm's WebAssembly) or
// loaded by createRequire (papaparse) stay external, found in node_modules as before; the
// others' CommonJS modules get a `require` for Node's built-in modules.
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outdir = join(root, "dist", "bundle");
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [
    "cli/main.js",
    "compute/genePoolWorker.js",
    "federation/workerEntry.js",
    "federation/secureAggregation/maskWorker.js",
    "reports/reportWorker.js",
  ].map((f) => join(root, "dist", f)),
  outdir,
  entryNames: "[name]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: [
    "@grpc/grpc-js",
    "@grpc/proto-loader",
    "h5wasm",
    "papaparse",
    "cephes",
    "@stdlib/*",
  ],
  banner: {
    js: "import { createRequire as __fedseqCreateRequire } from 'node:module'; const require = __fedseqCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
