/**
 * vitest globalSetup: a temporary folder, for this `vitest run` only, where test files running
 * in different workers leave the expensive whole-dataset runs they computed, so that another
 * file needing the same run reads it instead of computing it again (test/helpers/runCache.ts).
 * Removed when the run ends. Never inside `../shared`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Folder of the run cache of this `vitest run`. */
    runCache: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "fedseq-run-cache-"));
  project.provide("runCache", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
