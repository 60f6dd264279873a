/**
 * The private search's local steps and wire request, as optimised (targets listed once per
 * gene, one bucket per sample and value kind, the wire's brackets read in place), against the
 * plain per-(sample, group, target) loops they replace: the same counts and sums, bit for bit,
 * and the same request as sent, field for field and in the same order.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CellTable, CooksCenter } from "../../../src/algorithms/cooks/center.js";
import { sampleCells } from "../../../src/algorithms/cooks/center.js";
import {
  DEFAULT_PRIVATE_GRID,
  gridBucket,
  gridCut,
  gridCuts,
  gridSubRange,
  gridThreshold,
  gridThresholdCount,
  type PrivateGrid,
  type PrivateSumRequest,
  type PrivateTrimGroup,
  type PrivateTrimRequest,
  privateSumLocalStep,
  privateSumRequest,
  privateTrimAggregateStep,
  privateTrimLocalStep,
  privateTrimRequest,
  privateTrimSettled,
  SUM_SLOTS,
  startPrivateTrimSearch,
} from "../../../src/algorithms/cooks/privateTrimmedMean.js";
import {
  privateSumFromWire,
  privateSumToWire,
  privateTrimFromWire,
  privateTrimToWire,
  privateTrimWireLocalStep,
  privateTrimWireRequest,
} from "../../../src/algorithms/cooks/privateWire.js";
import { trimRanks } from "../../../src/algorithms/cooks/trimmedMean.js";
import { checkRequest } from "../../../src/federation/registry.js";

/** The value a center ranks (reference: the former per-group computation). */
function referenceValue(center: CooksCenter, kind: number, row: number, i: number, c: number) {
  const y = center.counts[row * center.n + i];
  if (kind === 1) return y;
  const x = y / center.sizeFactors[i];
  if (kind === 2) return (x - c) * (x - c);
  return x;
}

function referenceCells(center: CooksCenter, p: number, rows: Float64Array): Int32Array {
  const cells = rows.length / p;
  return sampleCells(center, { p, cells, rows, sizes: new Float64Array(cells), samples: 0 });
}

/**
 * Reference: the reply block of every target (−1: not counted) and their number. A target is
 * counted when active (≥ 0) and wider than one bucket, once per distinct bracket of its gene and
 * group (its first target with that bracket numbers the block).
 */
function referenceBlocks(
  brackets: Int32Array,
  targets: number,
): { block: Int32Array; open: number } {
  const block = new Int32Array(brackets.length / 2).fill(-1);
  const seen = new Map<string, number>();
  let open = 0;
  for (let t = 0; t < block.length; t++) {
    const [from, to] = [brackets[2 * t], brackets[2 * t + 1]];
    if (!(from >= 0 && from < to)) continue;
    const key = `${Math.floor(t / targets)} ${from} ${to}`;
    const earlier = seen.get(key);
    block[t] = earlier ?? open++;
    if (earlier === undefined) seen.set(key, block[t]);
  }
  return { block, open };
}

/** Reference counts round: every sample, group and target, each bucket recomputed. */
function referenceTrimLocal(center: CooksCenter, request: PrivateTrimRequest): Float64Array {
  const { groups, groupCells, groupValues, brackets, centres, grid } = request;
  const k = request.cuts;
  const cellCount = request.cellRows.length / request.p;
  const cellOf = referenceCells(center, request.p, request.cellRows);
  const tq = request.targets;
  const { block, open } = referenceBlocks(brackets, request.targets);
  const counts = new Float64Array(open * (k + 1));
  const cuts = new Int32Array(groups * tq * k);
  let a = 0;
  for (let row = 0; row < request.active.length; row++) {
    if (request.active[row] !== 1) continue;
    for (let t = 0; t < groups * tq; t++) {
      const b = (a * groups * tq + t) * 2;
      if (brackets[b] >= 0) gridCuts(brackets[b], brackets[b + 1], k, cuts, t * k);
    }
    for (let i = 0; i < center.n; i++) {
      const cell = cellOf[i];
      for (let q = 0; q < groups; q++) {
        if (groupCells[q * cellCount + cell] !== 1) continue;
        const c = groupValues[q] === 2 ? centres[a * cellCount + cell] : 0;
        const bucket = gridBucket(grid, referenceValue(center, groupValues[q], row, i, c));
        for (let s = 0; s < tq; s++) {
          const t = q * tq + s;
          const bt = block[a * groups * tq + t];
          const b = (a * groups * tq + t) * 2;
          if (bt < 0 || bucket < brackets[b] || bucket > brackets[b + 1]) continue;
          let j = 0;
          while (j < k && cuts[t * k + j] <= bucket) j++;
          counts[bt * (k + 1) + j] += 1;
        }
      }
    }
    a++;
  }
  return counts;
}

/** Reference sums round. */
function referenceSumLocal(center: CooksCenter, request: PrivateSumRequest): Float64Array {
  const { groups, groupCells, groupValues, boundaries, centres, grid } = request;
  const cellCount = request.cellRows.length / request.p;
  const cellOf = referenceCells(center, request.p, request.cellRows);
  const rows: number[] = [];
  request.active.forEach((on, g) => {
    if (on === 1) rows.push(g);
  });
  const sums = new Float64Array(rows.length * groups * SUM_SLOTS);
  rows.forEach((row, a) => {
    for (let i = 0; i < center.n; i++) {
      const cell = cellOf[i];
      for (let q = 0; q < groups; q++) {
        if (groupCells[q * cellCount + cell] !== 1) continue;
        const gq = a * groups + q;
        const c = groupValues[q] === 2 ? centres[a * cellCount + cell] : 0;
        const x = referenceValue(center, groupValues[q], row, i, c);
        const bucket = gridBucket(grid, x);
        let atom = 0;
        for (let j = 0; j < 4; j++) if (boundaries[gq * 4 + j] <= bucket) atom = j + 1;
        const slot = request.atomSlots[gq * 5 + atom];
        if (slot >= 0) sums[gq * SUM_SLOTS + slot] += x;
      }
    }
  });
  return sums;
}

const sameBits = (a: Float64Array, b: Float64Array) =>
  a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

/** Two cells (p = 2), `genes` genes, samples split over centers by `centerOf`. */
function federation(
  values: number[][],
  cellOf: number[],
  sizeFactors: number[],
  centerOf: number[],
) {
  const genes = values.length;
  const m = cellOf.length;
  const centers: CooksCenter[] = [];
  for (let c = 0; c < 3; c++) {
    const mine = [...Array(m).keys()].filter((i) => centerOf[i] === c);
    if (mine.length === 0) continue;
    const n = mine.length;
    const counts = new Float64Array(genes * n);
    for (let g = 0; g < genes; g++)
      mine.forEach((i, e) => {
        counts[g * n + e] = values[g][i];
      });
    centers.push({
      n,
      p: 2,
      genes,
      design: Float64Array.from(mine.flatMap((i) => [1, cellOf[i]])),
      sizeFactors: Float64Array.from(mine.map((i) => sizeFactors[i])),
      counts,
    });
  }
  const sizes = Float64Array.of(
    cellOf.filter((c) => c === 0).length,
    cellOf.filter((c) => c === 1).length,
  );
  const table: CellTable = { p: 2, cells: 2, rows: Float64Array.of(1, 0, 1, 1), sizes, samples: m };
  return { centers, table };
}

/** gridBucket as first written: the exact log₂'s guess, corrected against the thresholds. */
function referenceBucket(grid: PrivateGrid, x: number): number {
  if (!(x > 0)) return 0;
  const top = gridThresholdCount(grid);
  let j = Math.ceil((Math.log2(x) - grid.minExponent) * grid.binsPerOctave) + 1;
  if (j < 1) j = 1;
  if (j > top + 1) j = top + 1;
  while (j > 1 && x <= gridThreshold(grid, j - 1)) j--;
  while (j <= top && x > gridThreshold(grid, j)) j++;
  return j;
}

describe("private search kernels", () => {
  it("gridSubRange and gridCut equal gridCuts' scan and entries (every bracket up to 300 buckets wide, K ≤ 12)", () => {
    const cuts = new Int32Array(16);
    for (let k = 0; k <= 12; k++) {
      for (const from of [0, 1, 2, 3, 5, 17, 100, 1700]) {
        for (let to = from + 1; to <= from + 300; to++) {
          gridCuts(from, to, k, cuts, 0);
          for (let j = 0; j < k; j++) expect(gridCut(from, to, k, j)).toBe(cuts[j]);
          for (let b = from; b <= to; b++) {
            let j = 0;
            while (j < k && cuts[j] <= b) j++;
            if (gridSubRange(from, to, k, b) !== j)
              expect([from, to, k, b, gridSubRange(from, to, k, b)]).toEqual([from, to, k, b, j]);
          }
        }
      }
    }
    // Wide brackets (the default grid's whole range, and beyond the division's exact span).
    for (const [from, to] of [
      [0, gridThresholdCount(DEFAULT_PRIVATE_GRID) + 1],
      [3, 5_000_000],
      [0, 2_000_000_000],
    ]) {
      for (const k of [1, 7, 64]) {
        const wide = new Int32Array(k);
        gridCuts(from, to, k, wide, 0);
        for (let j = 0; j < k; j++) expect(gridCut(from, to, k, j)).toBe(wide[j]);
        for (const b of [from, from + 1, ...wide, ...wide.map((c) => c - 1), to]) {
          if (b < from || b > to) continue;
          let j = 0;
          while (j < k && wide[j] <= b) j++;
          expect(gridSubRange(from, to, k, b)).toBe(j);
        }
      }
    }
  });

  it("gridBucket equals the exact log₂'s bucket: at, just below and above every threshold, and random doubles", () => {
    for (const grid of [
      DEFAULT_PRIVATE_GRID,
      { binsPerOctave: 1, minExponent: -3, maxExponent: 5 },
      { binsPerOctave: 7, minExponent: -1074, maxExponent: 1023 },
      { binsPerOctave: 100, minExponent: 0, maxExponent: 3 },
    ]) {
      const top = gridThresholdCount(grid);
      const values = [
        0,
        -1,
        Number.NaN,
        Number.MIN_VALUE,
        Number.MAX_VALUE,
        Number.POSITIVE_INFINITY,
      ];
      for (let j = 1; j <= top; j++) {
        const t = gridThreshold(grid, j);
        values.push(t, t * (1 + Number.EPSILON), t * (1 - Number.EPSILON / 2), t * 1.0001);
      }
      let seed = 7;
      for (let i = 0; i < 20000; i++) {
        seed = (seed * 16807) % 2147483647;
        const u = seed / 2147483647;
        values.push(2 ** (grid.minExponent - 3 + u * (grid.maxExponent - grid.minExponent + 6)));
        values.push(Math.floor(u * 5000));
      }
      for (const x of values) {
        if (gridBucket(grid, x) !== referenceBucket(grid, x))
          expect([x, gridBucket(grid, x)]).toEqual([x, referenceBucket(grid, x)]);
      }
    }
  });

  it("a center refuses a counts request whose open targets do not add up, or whose brackets are not ranges of the grid's buckets", () => {
    const values = [
      [0, 3, 5, 9, 12, 40],
      [1, 1, 2, 2, 300, 7],
    ];
    const { table } = federation(
      values,
      [0, 0, 0, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
      [0, 1, 2, 0, 1, 2],
    );
    const groups: PrivateTrimGroup[] = [
      {
        cellMask: Uint8Array.of(1, 1),
        values: "normalized",
        size: 6,
        sums: true,
        ...trimRanks(6, 0.2),
      },
    ];
    const search = startPrivateTrimSearch({ table, genes: 2, groups });
    const wire = privateTrimWireRequest(search);
    // The first round: both genes, the lo and hi targets open over the whole grid, one bracket
    // for the two (the same values, the same counts: counted once).
    expect(Array.from(wire.openTargets)).toEqual([1, 1]);
    expect(wire.brackets.length).toBe(4);
    expect(wire.brackets[0]).toBe(0);
    expect(() => checkRequest("cooksPrivateTrim", wire)).not.toThrow();
    const top = wire.brackets[1];
    const refused = (change: Partial<typeof wire>, message: string) =>
      expect(() => checkRequest("cooksPrivateTrim", { ...wire, ...change })).toThrow(message);
    refused({ openTargets: Float64Array.of(1, 1, 0) }, "openTargets: 3 values, expected 2");
    refused({ openTargets: Float64Array.of(wire.targets + 1, 0) }, "targets in a group of");
    refused({ brackets: wire.brackets.slice(0, 2) }, "brackets: 2 values, expected 4");
    const stuck = wire.brackets.slice();
    stuck[1] = stuck[0]; // a bracket one bucket wide is settled: never asked for
    refused({ brackets: stuck }, "is not a range of buckets");
    const beyond = wire.brackets.slice();
    beyond[1] = top + 1;
    refused({ brackets: beyond }, "is not a range of buckets");
  });

  it("property: counts and sums equal the plain loops', the request as sent equals privateTrimToWire's", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 6, max: 14 }).chain((m) =>
          fc.record({
            values: fc.array(
              fc.array(
                fc.oneof(
                  fc.constant(0),
                  fc.integer({ min: 0, max: 30 }),
                  fc.integer({ min: 0, max: 1e6 }),
                ),
                { minLength: m, maxLength: m },
              ),
              { minLength: 1, maxLength: 6 },
            ),
            cellOf: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: m, maxLength: m }),
            sizeFactors: fc.array(fc.double({ min: 0.2, max: 5, noNaN: true }), {
              minLength: m,
              maxLength: m,
            }),
            centerOf: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: m, maxLength: m }),
            centre: fc.double({ min: 0, max: 100, noNaN: true }),
          }),
        ),
        ({ values, cellOf, sizeFactors, centerOf, centre }) => {
          const { centers, table } = federation(values, cellOf, sizeFactors, centerOf);
          const genes = values.length;
          const groups: PrivateTrimGroup[] = [];
          const add = (cellMask: Uint8Array, kind: PrivateTrimGroup["values"], trim: number) => {
            let size = 0;
            for (let c = 0; c < 2; c++) if (cellMask[c] === 1) size += table.sizes[c];
            if (size >= 1)
              groups.push({
                cellMask,
                values: kind,
                size,
                sums: kind !== "counts",
                ...trimRanks(size, trim),
              });
          };
          add(Uint8Array.of(1, 0), "normalized", 1 / 8);
          add(Uint8Array.of(0, 1), "squared-error", 1 / 8);
          add(Uint8Array.of(1, 1), "normalized", 0.2);
          add(Uint8Array.of(1, 1), "counts", 1 / 3);
          const centres = Float64Array.from({ length: genes * 2 }, (_, i) => centre * (i + 1));
          const search = startPrivateTrimSearch({ table, genes, groups, centres });
          do {
            const wire = privateTrimWireRequest(search);
            const sent = [...search.sentRow];
            const viaRequest = privateTrimToWire(privateTrimRequest(search));
            expect([...search.sentRow]).toEqual(sent);
            expect(Object.keys(wire)).toEqual(Object.keys(viaRequest));
            expect(wire).toEqual(viaRequest);
            const request = privateTrimFromWire(wire);
            const shares = centers.map((center) => {
              const reference = referenceTrimLocal(center, request);
              const fast = privateTrimWireLocalStep(center, wire);
              expect(sameBits(fast.counts, reference)).toBe(true);
              expect(sameBits(privateTrimLocalStep(center, request).counts, reference)).toBe(true);
              return fast;
            });
            privateTrimAggregateStep(search, shares);
          } while (!privateTrimSettled(search));
          const sums = privateSumFromWire(privateSumToWire(privateSumRequest(search)));
          for (const center of centers)
            expect(
              sameBits(privateSumLocalStep(center, sums).sums, referenceSumLocal(center, sums)),
            ).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});
