/**
 * The data shipped in the package's `data/` folder, found from the installed package itself (not
 * from the working directory): BodyMap 2.0 split over three hospitals, the demo's dataset.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Folder of the bundled BodyMap 2.0 dataset (16 samples of 4 tissues, a `center` column with three
 * hospitals, and DESeq2's results for `~ tissue` in `deseq2_results.csv.gz`).
 */
export function bundledBodymap(): string {
  // dist/io/bundled.js (or src/io/bundled.ts) → the package's data/bodymap.
  return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "data", "bodymap");
}
