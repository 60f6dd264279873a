/**
 * Folders made as `mkdir -p` makes them, one level at a time: Node's
 * `mkdirSync(dir, { recursive: true })` never returns where mkdir answers ENOENT under a parent
 * that exists (a path under /proc): it makes the parent again and retries, forever.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** A file system error as Node makes them (`code`, and the call in the message). */
function fsError(code: string, what: string, dir: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${what}, mkdir '${dir}'`), { code });
}

/**
 * Make `dir` and the folders above it that are missing.
 * @throws the file system's error when a folder cannot be made (ENOENT under /proc, EACCES,
 *   ENOTDIR under a file), ENOTDIR when `dir` is a file, ENOENT for an empty path
 */
export function makeFolders(dir: string): void {
  if (dir === "") throw fsError("ENOENT", "no such file or directory", dir);
  const target = resolve(dir);
  const missing: string[] = [];
  for (let d = target; !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (error) {
      // Made meanwhile by another process is what was asked for; anything else there is not
      // (a dangling link: statSync throws its ENOENT).
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || !statSync(d).isDirectory())
        throw error;
    }
  }
  if (!statSync(target).isDirectory()) throw fsError("ENOTDIR", "not a directory", dir);
}
