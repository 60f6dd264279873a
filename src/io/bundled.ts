/**
 * The files shipped in the package, found from the installed package itself (not from the
 * working directory): the demo's data in `data/`, the gRPC service definition in `proto/`.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | null = null;

/**
 * The package's own folder: the nearest one above this module holding fedseq's package.json.
 * This module may be `src/io/bundled.ts`, `dist/io/bundled.js` or part of a chunk of the command
 * line's bundle in `dist/bundle/` (scripts/bundle.mjs): the folders between differ, the package
 * does not.
 */
export function packageRoot(): string {
  if (root !== null) return root;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "fedseq") {
      root = dir;
      return dir;
    }
    if (dirname(dir) === dir) throw new Error(`fedseq's package.json not found above ${start}`);
  }
}

/**
 * Folder of the bundled BodyMap 2.0 dataset (16 samples of 4 tissues, a `center` column with three
 * hospitals, and DESeq2's results for `~ tissue` in `deseq2_results.csv.gz`).
 */
export function bundledBodymap(): string {
  return join(packageRoot(), "data", "bodymap");
}
