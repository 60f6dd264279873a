/** Benjamini–Hochberg against R's `p.adjust(p, "BH")`: NA handling, ties, n ≤ 1. */
import { describe, expect, it } from "vitest";
import { pAdjustBH } from "../../src/stats/padjust.js";
import { expectClose } from "../helpers/compare.js";
import { f64, reference } from "./reference.js";

describe("pAdjustBH", () => {
  it("reproduces R's p.adjust(p, 'BH') bit for bit, NA where p is NA", () => {
    const cases = reference().padjust;
    expect(cases.length).toBeGreaterThan(5);
    for (const [k, c] of cases.entries()) {
      const actual = pAdjustBH(f64(c.p));
      expectClose(actual, f64(c.padj), { rel: 0, abs: 0, absBelow: 0 }, `p.adjust case ${k}`);
    }
  });

  it("counts only non-NA p-values (n = number of non-NA)", () => {
    const padj = pAdjustBH(Float64Array.of(Number.NaN, 0.01, 0.04, Number.NaN));
    expect(Array.from(padj)).toEqual([Number.NaN, 0.02, 0.04, Number.NaN]);
  });
});
