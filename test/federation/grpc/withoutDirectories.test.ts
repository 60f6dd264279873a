/** What a center tells the federation of its errors: file names, not where they sit on its disks. */
import { tmpdir } from "node:os";
import { join, win32 } from "node:path";
import { describe, expect, it } from "vitest";
import { withoutDirectories } from "../../../src/federation/grpc/centerAgent.js";

// Absolute paths as a center's messages hold them, made on this machine (POSIX and Windows style).
const metadata = join(tmpdir(), "hospital", "rnaseq", "metadata.csv");
const counts = win32.resolve("site_a", "counts.csv");

describe("withoutDirectories", () => {
  it.each([
    [
      `${metadata}: line 4 (sample s1), column age: missing value`,
      "metadata.csv: line 4 (sample s1), column age: missing value",
    ],
    [`center a: ${counts}: bad`, "center a: counts.csv: bad"],
    [
      `design variable "x" is not a column of ${metadata} (columns: a, b)`,
      'design variable "x" is not a column of metadata.csv (columns: a, b)',
    ],
  ])("%s", (message, told) => {
    expect(withoutDirectories(message)).toBe(told);
  });

  it("leaves relative paths, ratios and messages without paths as they are", () => {
    for (const message of [
      "a/b/c.csv",
      "1/2 of the genes",
      "cell treatment=control holds 2 samples",
    ])
      expect(withoutDirectories(message)).toBe(message);
  });
});
