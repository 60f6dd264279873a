/**
 * Temporary folders for tests that write small input files: created under the system's
 * temp directory, removed after the test file's tests.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/** A temporary folder and a way to put files in it. */
export interface TempFolder {
  /** Absolute path of the folder. */
  readonly dir: string;
  /** Write `text` to `dir/name` (creating sub-folders) and return the file's path. */
  write(name: string, text: string): string;
  /** A fresh empty sub-folder. */
  subdir(name: string): string;
}

/** Create a temporary folder that is deleted when the calling test file finishes. */
export function useTempFolder(prefix = "fedseq-test-"): TempFolder {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let count = 0;
  return {
    dir,
    write(name, text) {
      const path = join(dir, name);
      mkdirSync(join(path, ".."), { recursive: true });
      writeFileSync(path, text);
      return path;
    },
    subdir(name) {
      const path = join(dir, `${name}-${++count}`);
      mkdirSync(path, { recursive: true });
      return path;
    },
  };
}
