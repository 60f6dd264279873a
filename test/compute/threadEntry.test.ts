/**
 * Worker entries found from sources (as under this test runner): the build's bundled entry,
 * for modules one and two folders deep; a missing entry is named.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { threadEntry } from "../../src/compute/threadEntry.js";

const root = resolve(import.meta.dirname, "..", "..");
const moduleUrl = (path: string) => pathToFileURL(join(root, "src", path)).href;

describe("threadEntry", () => {
  it("finds the build's bundled entry from a module under src/", () => {
    for (const [module, folder, file] of [
      ["compute/genePool.ts", "compute", "genePoolWorker.js"],
      ["reports/reportThread.ts", "reports", "reportWorker.js"],
      [
        "federation/secureAggregation/maskThread.ts",
        "federation/secureAggregation",
        "maskWorker.js",
      ],
    ]) {
      const entry = threadEntry(moduleUrl(module), folder, file);
      expect(entry).toBe(join(root, "dist", "bundle", file));
      expect(existsSync(entry)).toBe(true);
    }
  });

  it("names the entry it cannot find", () => {
    expect(() => threadEntry(moduleUrl("reports/reportThread.ts"), "reports", "nope.js")).toThrow(
      /nope\.js not found next to .*src\/reports nor in dist\//,
    );
  });
});
