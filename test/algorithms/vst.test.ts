/**
 * The pieces of DESeq2's vst of a local trend that are fedseq's own: the bisection that finds the
 * federation's largest normalised count from pooled counts above thresholds (exact, in at most 63
 * rounds), and the centers' count. (The transformation itself against DESeq2:
 * test/pipeline/run.vst.test.ts; the spline against R: test/math/spline.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { countAbove, federatedMaximum } from "../../src/algorithms/vst.js";

describe("the largest normalised count, by bisection over the doubles", () => {
  it.each([
    ["a real one", [0, 3.25, 1550907.0147472024, 12]],
    ["the smallest double", [0, Number.MIN_VALUE]],
    ["all zero", [0, 0, 0]],
    ["the largest double", [1, Number.MAX_VALUE]],
  ])("%s: exact, in at most 63 rounds", async (_, values) => {
    let rounds = 0;
    const max = await federatedMaximum(async (threshold) => {
      rounds++;
      return values.filter((v) => v > threshold).length;
    });
    expect(max).toBe(Math.max(...values));
    expect(rounds).toBeLessThanOrEqual(63);
  });

  it("a center counts its normalised counts y/s above the threshold", () => {
    // Two genes × three samples, size factors 0.5, 1, 2: y/s = (2, 3, 1), (8, 0, 2.5).
    const counts = Float64Array.of(1, 3, 2, 4, 0, 5);
    const sizeFactors = Float64Array.of(0.5, 1, 2);
    expect(countAbove(counts, sizeFactors, 2)).toBe(3);
    expect(countAbove(counts, sizeFactors, 8)).toBe(0);
    expect(countAbove(counts, sizeFactors, 0)).toBe(5);
  });
});
