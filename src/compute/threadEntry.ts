/**
 * Where a worker thread's compiled entry module is. Compiled (dist/ or dist/bundle/), it sits
 * beside the module that starts the thread; run from sources (a test runner loading src/), the
 * build's is used instead: the bundled one (scripts/bundle.mjs: fewer modules to load), else
 * the compiled one.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The path of worker entry `file` (e.g. `genePoolWorker.js`) for the module at `moduleUrl`
 * (its `import.meta.url`), whose folder under src/ or dist/ is `folder` (e.g. `compute`).
 * @throws Error naming the entry when neither the module's folder nor dist/ holds it
 */
export function threadEntry(moduleUrl: string, folder: string, file: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const beside = join(here, file);
  if (existsSync(beside)) return beside;
  // src/<folder>/ → the project's root.
  const root = resolve(here, "..", ...folder.split("/").map(() => ".."));
  for (const built of [join(root, "dist", "bundle", file), join(root, "dist", folder, file)]) {
    if (existsSync(built)) return built;
  }
  throw new Error(`${file} not found next to ${here} nor in dist/ (run npm run build)`);
}
