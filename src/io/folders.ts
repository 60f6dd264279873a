/**
 * Folders made as `mkdir -p` makes them, one level at a time: Node's
 * `mkdirSync(dir, { recursive: true })` never returns where mkdir answers ENOENT under a parent
 * that exists (a path under /proc): it makes the parent again and retries, forever.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * Make `dir` and the folders above it that are missing.
 * @throws the file system's error when a folder cannot be made (e.g. ENOENT under /proc, EACCES,
 *   ENOTDIR under a file)
 */
export function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (error) {
      // Made meanwhile by another process: what was asked for.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}
