/**
 * A center's errors over the rows an aggregator sends name no sample: under a plan without
 * verified requests an aggregator may list only some of the plan's cells, and an error naming
 * the first sample outside them ("sample 4") would tell it that sample's cell, by position
 * (a red team of 2026-12-07 read it so).
 */
import { expect, it } from "vitest";
import { cellCountsLocalStep } from "../../../src/algorithms/cooks/cells.js";
import type { CooksCenter } from "../../../src/algorithms/cooks/center.js";

/** Five samples of ~ condition: A, A, A, A, B (intercept and condition_B_vs_A columns). */
const center: CooksCenter = {
  n: 5,
  p: 2,
  genes: 1,
  design: Float64Array.of(1, 0, 1, 0, 1, 0, 1, 0, 1, 1),
  sizeFactors: new Float64Array(5).fill(1),
  counts: Float64Array.of(3, 1, 4, 1, 5),
};

it("counts each cell's samples; with a cell left out of the rows sent, refuses without naming the sample", () => {
  expect(Array.from(cellCountsLocalStep(center, Float64Array.of(1, 0, 1, 1)))).toEqual([4, 1]);
  const onlyA = Float64Array.of(1, 0);
  expect(() => cellCountsLocalStep(center, onlyA)).toThrow(
    "a sample's design row is not among the candidate rows",
  );
  try {
    cellCountsLocalStep(center, onlyA);
  } catch (error) {
    expect((error as Error).message).not.toMatch(/\d/);
  }
});
