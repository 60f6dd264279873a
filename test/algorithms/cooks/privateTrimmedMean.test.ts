/**
 * The private trimmed mean (pooled counts on a public grid, pooled sums over ≥ k values)
 * against R's mean(x, trim) (fixture `fixtures/private/trimmed_means.csv`, made by
 * `fixtures/make_private.R`) and random data: the estimate is within its reported bound,
 * the bound within the a-priori (r − 1)/2 when the middle atom is released, and every
 * released sum is over 0 or ≥ k pooled values.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CellTable, CooksCenter } from "../../../src/algorithms/cooks/center.js";
import {
  atomSlots,
  DEFAULT_PRIVATE_GRID,
  gridBucket,
  gridThreshold,
  gridThresholdCount,
  type PrivateTrimSearch,
  startPrivateTrimSearch,
} from "../../../src/algorithms/cooks/privateTrimmedMean.js";
import { trimRanks } from "../../../src/algorithms/cooks/trimmedMean.js";
import { readCsv } from "../../../src/io/csv.js";
import { pooledTrimmedMean } from "./outliersSim.js";
import { type Recorded, runPrivateSearch } from "./privateHarness.js";

const here = dirname(fileURLToPath(import.meta.url));
const R = 2 ** (1 / DEFAULT_PRIVATE_GRID.binsPerOctave);

/** Split values among `parts` centers (round-robin), one gene, one design cell (p = 1). */
function centersOf(values: readonly number[], parts: number): CooksCenter[] {
  const out: CooksCenter[] = [];
  for (let c = 0; c < parts; c++) {
    const mine = values.filter((_, i) => i % parts === c);
    if (mine.length === 0) continue;
    out.push({
      n: mine.length,
      p: 1,
      genes: 1,
      design: new Float64Array(mine.length).fill(1),
      sizeFactors: new Float64Array(mine.length).fill(1),
      counts: Float64Array.from(mine),
    });
  }
  return out;
}

const oneCell = (n: number): CellTable => ({
  p: 1,
  cells: 1,
  rows: Float64Array.of(1),
  sizes: Float64Array.of(n),
  samples: n,
});

function privateMean(values: readonly number[], trim: number, messages?: Recorded[]) {
  const n = values.length;
  const search: PrivateTrimSearch = startPrivateTrimSearch({
    table: oneCell(n),
    genes: 1,
    groups: [
      {
        cellMask: Uint8Array.of(1),
        values: "normalized",
        size: n,
        sums: true,
        ...trimRanks(n, trim),
      },
    ],
  });
  const run = runPrivateSearch(centersOf(values, 3), search, messages);
  return { search, run, mean: run.estimates.means[0], bound: run.estimates.bounds[0] };
}

/** Check, by recomputing pooled counts from the raw values, that every released sum is over ≥ k values. */
function releasedAtomsOk(values: readonly number[], messages: Recorded[], k: number): void {
  for (const { kind, value } of messages) {
    if (kind !== "cooks-private-sum-request") continue;
    const { boundaries, atomSlots: slots } = value as {
      boundaries: Int32Array;
      atomSlots: Int8Array;
    };
    const perSlot = [0, 0, 0, 0, 0, 0];
    for (const x of values) {
      const bucket = gridBucket(DEFAULT_PRIVATE_GRID, x);
      let atom = 0;
      for (let j = 0; j < 4; j++) if (boundaries[j] <= bucket) atom = j + 1;
      if (slots[atom] >= 0) perSlot[slots[atom]]++;
    }
    for (let s = 0; s < 6; s++) {
      const used = Array.from(slots).includes(s);
      if (used) expect(perSlot[s], `slot ${s}`).toBeGreaterThanOrEqual(k);
      else expect(perSlot[s]).toBe(0);
    }
  }
}

describe("public grid", () => {
  it("buckets are (τⱼ₋₁, τⱼ] of ratio 2^(1/16), zero alone", () => {
    const g = DEFAULT_PRIVATE_GRID;
    expect(gridBucket(g, 0)).toBe(0);
    for (const x of [1e-13, 1e-9, 0.3, 1, 2, 3.7, 1e6, 1e21, 1e30]) {
      const j = gridBucket(g, x);
      expect(x > gridThreshold(g, j - 1) && x <= gridThreshold(g, j)).toBe(true);
    }
    expect(gridBucket(g, 1e30)).toBe(gridThresholdCount(g) + 1);
    expect(gridThreshold(g, 2) / gridThreshold(g, 1)).toBeCloseTo(R, 14);
  });

  it("sum slots hold ≥ k non-zero values; an atom of ≥ k is summed alone; the small ones together or not at all", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 5, maxLength: 5 }), (c) => {
        const slots = atomSlots(c, 3);
        const per = new Map<number, number>();
        const atomsIn = new Map<number, number>();
        c.forEach((x, j) => {
          if (slots[j] < 0) return;
          per.set(slots[j], (per.get(slots[j]) ?? 0) + x);
          atomsIn.set(slots[j], (atomsIn.get(slots[j]) ?? 0) + 1);
        });
        const small = c.filter((x) => x > 0 && x < 3).reduce((x, y) => x + y, 0);
        return (
          [...per.values()].every((s) => s >= 3) &&
          c.every((x, j) => (x >= 3 ? slots[j] === j && atomsIn.get(j) === 1 : true)) &&
          c.every((x, j) => (x > 0 && x < 3 ? slots[j] === (small >= 3 ? 5 : -1) : true)) &&
          c.every((x, j) => (x === 0 ? slots[j] === -1 : true))
        );
      }),
    );
  });
});

describe("against R's mean(x, trim)", () => {
  it("300 random vectors: within the reported bound; relative error ≤ (r − 1)/2", () => {
    const table = readCsv(join(here, "fixtures", "private", "trimmed_means.csv"));
    const col = (name: string) => table.header.indexOf(name);
    let worst = 0;
    let worstBound = 0;
    let middleMerged = 0;
    for (const row of table.rows) {
      const trim = Number(row.fields[col("trim")]);
      const expected = Number(row.fields[col("mean")]);
      const values = row.fields[col("values")].split(";").map(Number);
      expect(pooledTrimmedMean(values, trim)).toBeCloseTo(expected, 8);
      const messages: Recorded[] = [];
      const { mean, bound } = privateMean(values, trim, messages);
      const err = Math.abs(mean - expected);
      expect(err).toBeLessThanOrEqual(bound * (1 + 1e-9) + 1e-12 * Math.abs(expected));
      releasedAtomsOk(values, messages, 3);
      if (expected > 0) {
        worst = Math.max(worst, err / expected);
        worstBound = Math.max(worstBound, bound / expected);
        if (bound / expected > (R - 1) / 2) middleMerged++;
      }
    }
    console.log(
      `private trimmed mean vs R: worst relative error ${worst.toExponential(2)}, worst relative bound ${worstBound.toExponential(2)}, a-priori ${((R - 1) / 2).toExponential(2)}; ${middleMerged} of ${table.rows.length} bounds above it`,
    );
    expect(worst).toBeLessThanOrEqual((R - 1) / 2);
  });

  it("property: random non-negative data, any split, trims of DESeq2", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constant(0),
            fc.integer({ min: 0, max: 50 }),
            fc.double({ min: 0, max: 1e6, noNaN: true }),
          ),
          {
            minLength: 3,
            maxLength: 40,
          },
        ),
        fc.constantFrom(1 / 3, 1 / 4, 1 / 8, 0.2),
        (values, trim) => {
          const messages: Recorded[] = [];
          const { mean, bound } = privateMean(values, trim, messages);
          const exact = pooledTrimmedMean(values, trim);
          releasedAtomsOk(values, messages, 3);
          return Math.abs(mean - exact) <= bound * (1 + 1e-9) + 1e-9 * exact + 1e-300;
        },
      ),
      { numRuns: 300 },
    );
  });
});
