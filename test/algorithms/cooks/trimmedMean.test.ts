/**
 * The federated order-statistic search on adversarial data: ties (zeros, equal values across
 * centers, values one ulp apart), tiny groups, every trim, few or many thresholds; against
 * R's `mean(x, trim)` on the pooled values.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aggregateCells, cellsLocalStep } from "../../../src/algorithms/cooks/cells.js";
import type { CellTable, CooksCenter } from "../../../src/algorithms/cooks/center.js";
import {
  nextDown,
  nextUp,
  ordinalGap,
  ordinalStep,
} from "../../../src/algorithms/cooks/doubleBits.js";
import { fQuantile } from "../../../src/algorithms/cooks/fQuantile.js";
import {
  startTrimSearch,
  type TrimGroup,
  trimRanks,
} from "../../../src/algorithms/cooks/trimmedMean.js";
import { pooledTrimmedMean, runSearch } from "./outliersSim.js";

/** Centers with one design column (intercept) from per-center counts and size factors. */
function centersOf(data: { counts: number[][]; sizeFactors: number[] }[]): CooksCenter[] {
  const genes = data[0].counts.length;
  return data.map(({ counts, sizeFactors }) => {
    const n = sizeFactors.length;
    const flat = new Float64Array(genes * n);
    counts.forEach((row, g) => {
      flat.set(row, g * n);
    });
    return {
      n,
      p: 1,
      genes,
      design: new Float64Array(n).fill(1),
      sizeFactors: Float64Array.from(sizeFactors),
      counts: flat,
    };
  });
}

function relativeError(a: number, b: number): number {
  return a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), Number.MIN_VALUE);
}

const centerArb = (genes: number) =>
  fc.integer({ min: 1, max: 7 }).chain((n) =>
    fc.record({
      sizeFactors: fc.array(fc.constantFrom(0.5, 1, 2, 0.7, 1.3), { minLength: n, maxLength: n }),
      counts: fc.array(
        fc.array(fc.oneof(fc.constantFrom(0, 0, 1, 3, 3, 7), fc.nat(5000)), {
          minLength: n,
          maxLength: n,
        }),
        { minLength: genes, maxLength: genes },
      ),
    }),
  );

describe("federated trimmed mean", () => {
  it("equals R's mean(x, trim) on the pooled values, ties included (property)", () => {
    const genes = 4;
    fc.assert(
      fc.property(
        fc.array(centerArb(genes), { minLength: 1, maxLength: 4 }),
        fc.double({ min: 0, max: 0.49, noNaN: true }),
        fc.constantFrom(1, 3, 7, 15, 31),
        (data, trim, thresholds) => {
          const centers = centersOf(data);
          const table: CellTable = aggregateCells(centers.map((c) => cellsLocalStep(c)));
          const m = table.samples;
          const all = new Uint8Array(1).fill(1);
          const rank = 1 + (Math.floor(trim * 1000) % m);
          const groups: TrimGroup[] = [
            { cellMask: all, values: "normalized", size: m, ...trimRanks(m, trim) },
            { cellMask: all, values: "counts", size: m, ...trimRanks(m, trim) },
            { cellMask: all, values: "counts", size: m, lo: rank, hi: rank },
            { cellMask: all, values: "squared-error", size: m, ...trimRanks(m, trim) },
          ];
          const centres = Float64Array.from({ length: genes }, (_, g) => g * 0.75);
          const search = startTrimSearch({ table, genes, groups, centres, thresholds });
          runSearch(centers, search);
          for (let g = 0; g < genes; g++) {
            const normalized: number[] = [];
            const raw: number[] = [];
            const squared: number[] = [];
            data.forEach(({ counts, sizeFactors }) => {
              counts[g].forEach((y, i) => {
                normalized.push(y / sizeFactors[i]);
                raw.push(y);
                squared.push((y / sizeFactors[i] - centres[g]) ** 2);
              });
            });
            const sortedRaw = raw.slice().sort((a, b) => a - b);
            const expected = [
              pooledTrimmedMean(normalized, trim),
              pooledTrimmedMean(raw, trim),
              sortedRaw[rank - 1],
              pooledTrimmedMean(squared, trim),
            ];
            expected.forEach((e, q) => {
              const got = search.means[g * groups.length + q];
              if (!(relativeError(got, e) <= 1e-12)) {
                throw new Error(`gene ${g}, group ${q}: ${got} vs ${e} (trim ${trim})`);
              }
            });
          }
        },
      ),
      { numRuns: 200, seed: 20261125 },
    );
  });

  it("settles identical non-zero values and values one ulp apart exactly", () => {
    const third = 1 / 3;
    const up = nextUp(third);
    // Nine counts of 1 with size factor 3 over three centers: nine copies of 1/3 (and nine
    // equal squared errors around the centre 0).
    const centers: CooksCenter[] = [0, 1, 2].map(() => ({
      n: 3,
      p: 1,
      genes: 2,
      design: new Float64Array(3).fill(1),
      sizeFactors: new Float64Array(3).fill(3),
      counts: Float64Array.of(1, 1, 1, 1, 1, 1),
    }));
    const table = aggregateCells(centers.map((c) => cellsLocalStep(c)));
    const groups: TrimGroup[] = [
      { cellMask: Uint8Array.of(1), values: "normalized", size: 9, ...trimRanks(9, 0.25) },
      { cellMask: Uint8Array.of(1), values: "squared-error", size: 9, lo: 5, hi: 5 },
    ];
    const search = startTrimSearch({
      table,
      genes: 2,
      groups,
      centres: Float64Array.of(0, 0),
    });
    const rounds = runSearch(centers, search);
    expect(search.means[0]).toBe(third);
    expect(search.means[1]).toBe(third * third);
    expect(rounds).toBeLessThanOrEqual(4);

    // Values one ulp apart: 1/3 at two centers, its neighbour at the third.
    const split: CooksCenter[] = centers.map((c, k) => ({
      ...c,
      genes: 1,
      sizeFactors: new Float64Array(3).fill(1),
      counts: new Float64Array(3).fill(k === 2 ? up : third),
    }));
    const table2 = aggregateCells(split.map((c) => cellsLocalStep(c)));
    const search2 = startTrimSearch({
      table: table2,
      genes: 1,
      groups: [
        { cellMask: Uint8Array.of(1), values: "normalized", size: 9, lo: 6, hi: 6 },
        { cellMask: Uint8Array.of(1), values: "normalized", size: 9, lo: 7, hi: 7 },
        { cellMask: Uint8Array.of(1), values: "normalized", size: 9, lo: 2, hi: 8 },
      ],
    });
    runSearch(split, search2);
    expect(search2.means[0]).toBe(third);
    expect(search2.means[1]).toBe(up);
    expect(relativeError(search2.means[2], (5 * third + 2 * up) / 7)).toBeLessThanOrEqual(1e-15);
  });
});

describe("double stepping", () => {
  it("nextUp, nextDown, ordinal gaps and steps agree", () => {
    for (const x of [Number.MIN_VALUE, 1e-300, 0.1, 1 / 3, 1, 2 ** 52, 1e300]) {
      expect(nextDown(nextUp(x))).toBe(x);
      expect(nextUp(x)).toBeGreaterThan(x);
      expect(ordinalGap(x, nextUp(nextUp(x)))).toBe(2);
      expect(ordinalStep(x, 3)).toBe(nextUp(nextUp(nextUp(x))));
    }
    expect(nextUp(0)).toBe(Number.MIN_VALUE);
    expect(ordinalGap(1, 2)).toBe(2 ** 52);
    expect(ordinalStep(1, 2 ** 52)).toBe(2);
    expect(ordinalStep(0.5, 2 ** 53)).toBe(2);
  });
});

describe("F quantile", () => {
  it("matches R's qf(0.99, df1, df2)", () => {
    const cases: [number, number, number][] = [
      [2, 16, 6.2262352803113803],
      [2, 5, 13.273933612004827],
      [4, 20, 4.4306901614377754],
      [1, 1, 4052.1806954768217],
      [3, 100, 3.9836953138808902],
    ];
    for (const [a, b, r] of cases)
      expect(relativeError(fQuantile(0.99, a, b), r)).toBeLessThan(1e-14);
    expect(fQuantile(0.99, 2, 0)).toBeNaN();
  });
});
