/**
 * DESeq2's independent filtering end to end: DESeq2's own baseMean and pvalue columns in, its
 * padj column out (shared datasets), and pvalueAdjustment's metadata (θ grid, numRej, lowess
 * fit, chosen θ and threshold) from R on the same inputs.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { IndependentFilteringResult } from "../../src/stats/independentFiltering.js";
import { defaultThetaGrid, independentFiltering } from "../../src/stats/independentFiltering.js";
import { expectClose } from "../helpers/compare.js";
import { DATASETS, deseq2Results, type FilteringMetadata, f64, reference } from "./reference.js";

const measured: string[] = [];
afterAll(() => console.info(`independent filtering errors:\n  ${measured.join("\n  ")}`));

const EXACT = { rel: 0, abs: 0, absBelow: 0 };

/** Compare our result's metadata with R's pvalueAdjustment metadata. */
function expectMetadata(
  ours: IndependentFilteringResult,
  r: FilteringMetadata,
  what: string,
): number {
  expectClose(ours.theta, f64(r.theta), EXACT, `${what} theta`);
  expectClose(ours.numRej, f64(r.numRej), EXACT, `${what} numRej`);
  const lo = expectClose(
    ours.lowessFit,
    f64(r.lowess),
    { rel: 1e-12, abs: 1e-12 },
    `${what} lowess`,
  );
  expect(ours.filterTheta, `${what} filterTheta`).toBe(r.filterTheta);
  expect(ours.filterThreshold, `${what} filterThreshold`).toBe(r.filterThreshold);
  return lo.worstPlain;
}

describe.each(DATASETS)("independent filtering of DESeq2's results.csv: %s", (dataset) => {
  const res = deseq2Results(dataset);
  const ours = independentFiltering(res.baseMean, res.pvalue);

  it("padj: NA exactly where DESeq2 has NA, values to 1e-12 relative", () => {
    let naMismatch = 0;
    for (let i = 0; i < res.padj.length; i++) {
      if (Number.isNaN(res.padj[i]) !== Number.isNaN(ours.padj[i])) naMismatch++;
    }
    expect(naMismatch, `${dataset}: genes NA in one padj only`).toBe(0);
    const r = expectClose(
      ours.padj,
      res.padj,
      { rel: 1e-12, abs: 0, absBelow: 0 },
      `${dataset} padj`,
    );
    let na = 0;
    for (const v of res.padj) if (Number.isNaN(v)) na++;
    measured.push(
      `${dataset}: padj max relative ${r.worstPlain.toExponential(2)}, ${na} NA, θ index ${ours.index} (θ = ${ours.filterTheta}, threshold ${ours.filterThreshold})`,
    );
  });

  it("θ grid, numRej, lowess fit, chosen θ and threshold as R's pvalueAdjustment", () => {
    const r = reference().filtering.find((f) => f.dataset === dataset)!;
    const lo = expectMetadata(ours, r, dataset);
    measured.push(`${dataset}: lowess fit max ${lo.toExponential(2)}`);
  });
});

describe("independent filtering of synthetic cases against R", () => {
  const cases = reference().filteringSynthetic;

  it.each(cases.map((c, k) => [k, c] as const))(
    "case %i: padj bit for bit and metadata",
    (k, c) => {
      const ours = independentFiltering(f64(c.filter), f64(c.pvalue), { alpha: c.alpha });
      expectClose(ours.padj, f64(c.padj), EXACT, `case ${k} padj`);
      const lo = expectMetadata(ours, c, `case ${k}`);
      measured.push(
        `synthetic case ${k}: θ index ${ours.index}, lowess fit max ${lo.toExponential(2)}`,
      );
    },
  );

  it("covers the first-θ rule (numRej ≤ 10), the threshold rule and a grid ending at 1", () => {
    expect(Math.max(...cases[0].numRej.map(Number))).toBeLessThanOrEqual(10);
    expect(Math.max(...cases[1].numRej.map(Number))).toBeGreaterThan(10);
    expect(independentFiltering(f64(cases[1].filter), f64(cases[1].pvalue)).index).toBeGreaterThan(
      0,
    );
    const sparse = f64(cases[3].filter);
    const grid = defaultThetaGrid(sparse);
    expect(grid[0]).toBeGreaterThanOrEqual(0.95);
    expect(grid[grid.length - 1]).toBe(1);
  });

  it("rejects NaN filters, a bad alpha and a one-point grid", () => {
    const p = Float64Array.of(0.1, 0.2);
    expect(() => independentFiltering(Float64Array.of(1, Number.NaN), p)).toThrow(RangeError);
    expect(() => independentFiltering(Float64Array.of(1, 2), p, { alpha: 1 })).toThrow(RangeError);
    expect(() =>
      independentFiltering(Float64Array.of(1, 2), p, { theta: Float64Array.of(0.5) }),
    ).toThrow(RangeError);
  });
});
