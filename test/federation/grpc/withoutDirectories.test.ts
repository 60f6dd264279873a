/** What a center tells the federation of its errors: file names, not where they sit on its disks. */
import { describe, expect, it } from "vitest";
import { withoutDirectories } from "../../../src/federation/grpc/centerAgent.js";

describe("withoutDirectories", () => {
  it.each([
    [
      "/srv/hospital/rnaseq/metadata.csv: line 4 (sample s1), column age: missing value",
      "metadata.csv: line 4 (sample s1), column age: missing value",
    ],
    ["center a: C:\\data\\site_a\\counts.csv: bad", "center a: counts.csv: bad"],
    [
      'design variable "x" is not a column of /home/u/m.tsv (columns: a, b)',
      'design variable "x" is not a column of m.tsv (columns: a, b)',
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
