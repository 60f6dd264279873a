/**
 * The README's Development section on the build: `tsc` into dist/, then the command line's
 * bundle (scripts/bundle.mjs), which `bin/fedseq` and its worker threads load.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join } from "node:path";
import { expect, it } from "vitest";
import { root } from "../helpers/shared.js";

const bundle = join(root, "dist", "bundle");

it("npm run build: tsc, then the bundle; bin/fedseq loads the bundle's main.js", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  expect(pkg.scripts.build).toBe("tsc -p tsconfig.build.json && node scripts/bundle.mjs");
  expect(readFileSync(join(root, "bin", "fedseq"), "utf8")).toContain(
    'import("../dist/bundle/main.js")',
  );
});

it("the bundle holds the entry points side by side and imports nothing of dist/ outside it", () => {
  const files = readdirSync(bundle);
  // The worker threads' entries beside the chunks that start them (genePool.ts and
  // workerThreads.ts look for their worker's file next to their own module first).
  for (const entry of ["main.js", "genePoolWorker.js", "workerEntry.js"]) {
    expect(files).toContain(entry);
  }
  for (const file of files.filter((f) => f.endsWith(".js"))) {
    const text = readFileSync(join(bundle, file), "utf8");
    // Static imports and re-exports (esbuild writes them at line starts), side-effect imports,
    // dynamic import() of a literal.
    const specifiers = [
      ...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"/gm),
      ...text.matchAll(/^import\s*"([^"]+)"/gm),
      ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
    ].map((m) => m[1]);
    for (const specifier of specifiers) {
      if (specifier.startsWith(".")) {
        // A sibling chunk, never a module of dist/ (which would load unbundled).
        expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\/[^/]+\.js$/);
        expect(existsSync(join(bundle, specifier)), `${file} imports ${specifier}`).toBe(true);
      } else if (!isBuiltin(specifier)) {
        // The packages left out of the bundle, and `canvas`, which vega-canvas tries to import
        // (it is not installed: vega draws SVG here) and does without, bundled or not.
        expect(specifier, `${file} imports ${specifier}`).toMatch(
          /^(@grpc\/|h5wasm(\/|$)|papaparse$|cephes$|@stdlib\/|canvas$)/,
        );
      }
    }
  }
});
