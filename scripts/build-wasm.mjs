#!/usr/bin/env node
// Compile the WebAssembly kernels' text sources (src/math/wasm/*.wat) with wabt into TypeScript
// modules holding their bytes (src/math/wasm/*Binary.ts), which the library loads without any
// file of its own beside dist/ (bundles and worker threads included). `npm run wasm` after
// editing a .wat; test/math/wasm/binaries.test.ts checks each committed binary is its source's
// compilation, so the bytes that run are always the reviewed text.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileWat, binaryModuleText } from "./wasmSources.mjs";

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "math", "wasm");
for (const file of readdirSync(dir).filter((f) => f.endsWith(".wat"))) {
  const name = file.slice(0, -".wat".length);
  const bytes = await compileWat(file, readFileSync(join(dir, file), "utf8"));
  writeFileSync(join(dir, `${name}Binary.ts`), binaryModuleText(name, bytes));
  console.log(`${file}: ${bytes.length} bytes -> ${name}Binary.ts`);
}
