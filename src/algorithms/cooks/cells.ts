/**
 * Design cells (DESeq2's `nOrMoreInCell`): samples with identical design-matrix rows form a
 * cell; DESeq2 uses the pooled cell sizes to decide which samples count for the maximum
 * Cook's distance (cells of ≥ 3), which may have their counts replaced (cells of ≥
 * `minReplicatesForReplace`, 7 by default), and how the robust dispersion trims.
 *
 * One round: each center shares its distinct design rows and how many of its samples have
 * each (no per-gene data); the aggregator merges them into a {@link CellTable} and derives
 * the {@link CooksPlan} every later step follows.
 *
 * The private protocol (issue [11]) sends no design row: the aggregator lists the candidate
 * rows (every combination of the factor levels, `design/factorCells.ts`) and each center
 * returns only how many of its samples have each ({@link cellCountsLocalStep}; summed, and
 * masked under secure aggregation); {@link cellTableFromCounts} keeps the non-empty ones. With
 * a continuous covariate there is no candidate list: {@link singleSampleCells} takes every
 * sample as its own cell, as DESeq2 does when no two samples share a design row.
 *
 * DESeq2 matches rows by their text (`paste0(row, collapse = "_")`, and `collapse = ""` in
 * `robustMethodOfMomentsDisp`, where rows (1, 10) and (11, 0) would collide); rows here are
 * matched by exact numeric equality, which agrees for every design of 0/1 columns and
 * numbers printed with ≤ 15 significant digits.
 */
import { type CellTable, type CooksCenter, sameRow } from "./center.js";
import { fQuantile } from "./fQuantile.js";

/** What a center shares about its design: its distinct rows and their sample counts. */
export interface CellsShare {
  readonly kind: "cooks-cells-share";
  /** Design columns. */
  readonly p: number;
  /** The center's distinct design rows, k×p row-major, in order of first appearance. */
  readonly rows: Float64Array;
  /** Samples of the center in each row, length k. */
  readonly sizes: Float64Array;
}

/** Local step: the center's distinct design rows and their sizes. */
export function cellsLocalStep(center: CooksCenter): CellsShare {
  const { n, p, design } = center;
  const first: number[] = [];
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = first.findIndex((j) => sameRow(design, i, design, j, p));
    if (k >= 0) sizes[k] += 1;
    else {
      first.push(i);
      sizes.push(1);
    }
  }
  const rows = new Float64Array(first.length * p);
  first.forEach((i, k) => {
    rows.set(design.subarray(i * p, i * p + p), k * p);
  });
  return { kind: "cooks-cells-share", p, rows, sizes: Float64Array.from(sizes) };
}

/**
 * Aggregate: the federation's cells (rows in order of first appearance, centers in
 * federation order) and their pooled sizes.
 * @throws when the centers' designs have different numbers of columns
 */
export function aggregateCells(shares: readonly CellsShare[]): CellTable {
  const p = shares[0].p;
  const rows: number[] = [];
  const sizes: number[] = [];
  for (const share of shares) {
    if (share.p !== p) throw new Error(`cells share with ${share.p} columns, expected ${p}`);
    for (let k = 0; k < share.sizes.length; k++) {
      let c = 0;
      const cells = sizes.length;
      while (c < cells && !sameRowArray(rows, c, share.rows, k, p)) c++;
      if (c === cells) {
        for (let j = 0; j < p; j++) rows.push(share.rows[k * p + j]);
        sizes.push(0);
      }
      sizes[c] += share.sizes[k];
    }
  }
  const table = {
    p,
    cells: sizes.length,
    rows: Float64Array.from(rows),
    sizes: Float64Array.from(sizes),
    samples: sizes.reduce((a, b) => a + b, 0),
  };
  return table;
}

function sameRowArray(a: number[], i: number, b: Float64Array, j: number, p: number): boolean {
  for (let k = 0; k < p; k++) if (a[i * p + k] !== b[j * p + k]) return false;
  return true;
}

/**
 * Local step of the private cells round: how many of the center's samples have each of the D
 * candidate rows (exact equality of every entry), length D. Counts only: no row leaves the
 * center.
 * @throws when a sample's design row is none of the candidates (the aggregator's list is not
 *   the design's)
 */
export function cellCountsLocalStep(center: CooksCenter, rows: Float64Array): Float64Array {
  const { n, p, design } = center;
  if (rows.length % p !== 0)
    throw new Error(`${rows.length} candidate values are not rows of ${p} columns`);
  const cells = rows.length / p;
  const counts = new Float64Array(cells);
  for (let i = 0; i < n; i++) {
    let found = -1;
    for (let c = 0; c < cells && found < 0; c++) if (sameRow(design, i, rows, c, p)) found = c;
    // Not which sample (its position with the rows sent would be its cell).
    if (found < 0) throw new Error("a sample's design row is not among the candidate rows");
    counts[found] += 1;
  }
  return counts;
}

/**
 * The federation's cells from the candidate rows and their pooled sample counts: the rows
 * holding samples, in candidate order (empty candidates dropped).
 */
export function cellTableFromCounts(
  p: number,
  rows: Float64Array,
  pooled: Float64Array,
): CellTable {
  const kept: number[] = [];
  for (let c = 0; c < pooled.length; c++) if (pooled[c] > 0) kept.push(c);
  const out = new Float64Array(kept.length * p);
  const sizes = new Float64Array(kept.length);
  let samples = 0;
  kept.forEach((c, k) => {
    out.set(rows.subarray(c * p, c * p + p), k * p);
    sizes[k] = pooled[c];
    samples += pooled[c];
  });
  return { p, cells: kept.length, rows: out, sizes, samples };
}

/**
 * Every sample its own cell (m cells of one sample): DESeq2's cells when no two samples share a
 * design row, as with a continuous covariate of distinct values. The rows are unknown to the
 * aggregator and left as NaN: a plan of such a table flags nothing and replaces nothing
 * ({@link cooksPlan}: no cell of ≥ 3), so no step ever sends them.
 */
export function singleSampleCells(m: number, p: number): CellTable {
  return {
    p,
    cells: m,
    rows: new Float64Array(m * p).fill(Number.NaN),
    sizes: new Float64Array(m).fill(1),
    samples: m,
  };
}

/** Cells holding at least `n` pooled samples (DESeq2's `nOrMoreInCell`, per cell), 0/1. */
export function cellsWithAtLeast(table: CellTable, n: number): Uint8Array {
  return Uint8Array.from(table.sizes, (size) => (size >= n ? 1 : 0));
}

/** One group whose trimmed mean the robust dispersion needs. */
export interface RobustGroup {
  /** Cells of the group (0/1 per cell of the table). */
  readonly cellMask: Uint8Array;
  /** Pooled samples in the group. */
  readonly size: number;
  /** Trim ratio of R's `mean(x, trim)`. */
  readonly trim: number;
  /** Scale of the trimmed mean of squared errors (DESeq2's `scale.c`). */
  readonly scale: number;
}

/** Options of {@link cooksPlan}. */
export interface CooksPlanOptions {
  /** DESeq's `minReplicatesForReplace` (7; `Infinity` disables replacement). */
  readonly minReplicatesForReplace?: number;
  /** Trim ratio of the replacement value's trimmed mean (`replaceOutliers(trim = 0.2)`). */
  readonly replaceTrim?: number;
  /** Quantile of F(p, m − p) used as Cook's cutoff (0.99). */
  readonly cutoffQuantile?: number;
}

/**
 * Everything the aggregator decides from the cell table alone, following DESeq2 1.38.
 */
export interface CooksPlan {
  /** The cells. */
  readonly table: CellTable;
  /** Pooled samples m. */
  readonly m: number;
  /** Design columns p. */
  readonly p: number;
  /** Cook's cutoff `qf(0.99, p, m − p)` (NaN when m ≤ p). */
  readonly cutoff: number;
  /** Cells of ≥ 3 pooled samples: their samples count for the maximum Cook's distance. */
  readonly forMaxCooks: Uint8Array;
  /** Cells of ≥ `minReplicatesForReplace` pooled samples: their counts may be replaced. */
  readonly replaceable: Uint8Array;
  /** `recordMaxCooks` records a value (m > p and some cell has ≥ 3 samples); NA otherwise. */
  readonly recordsMaxCooks: boolean;
  /** `DESeq()` calls `refitWithoutOutliers` (some cell has ≥ `minReplicatesForReplace`). */
  readonly sufficientReplicates: boolean;
  /** Every sample is replaceable (then, after a refit, DESeq2 sets every maxCooks to NA). */
  readonly allReplaceable: boolean;
  /**
   * Groups of the robust dispersion: each cell of ≥ 3 samples with its trim and scale
   * (`trimmedCellVariance`), or, when there is none, all samples trimmed by 1/8 with scale
   * 1.51 (`trimmedVariance`).
   */
  readonly robustGroups: readonly RobustGroup[];
  /** Trim of the replacement value (0.2). */
  readonly replaceTrim: number;
}

/** DESeq2's `trimfn`: 0 for n ≤ 3.5, 1 for n ≤ 23.5, 2 above (`cut(n, c(0, 3.5, 23.5, Inf))`). */
function trimClass(n: number): number {
  return n <= 3.5 ? 0 : n <= 23.5 ? 1 : 2;
}

/**
 * DESeq2's fewest replicates of a cell whose samples' Cook's distances count: maxCooks is taken
 * over cells of at least this many, and `replaceOutliers` stops for a `minReplicatesForReplace`
 * below it ("at least 3 replicates are necessary in order to indentify a sample as a count
 * outlier").
 */
export const MIN_OUTLIER_REPLICATES = 3;

const CELL_TRIMS = [1 / 3, 1 / 4, 1 / 8];
const CELL_SCALES = [2.04, 1.86, 1.51];

/** The plan of the Cook's steps for a cell table (DESeq2 defaults unless `options` say otherwise). */
export function cooksPlan(table: CellTable, options: CooksPlanOptions = {}): CooksPlan {
  const minReplicates = options.minReplicatesForReplace ?? 7;
  // The command line and the plan refuse a smaller one on input.
  if (!(minReplicates >= MIN_OUTLIER_REPLICATES))
    throw new RangeError(
      `minReplicatesForReplace ${minReplicates}: at least ${MIN_OUTLIER_REPLICATES}, as DESeq2's`,
    );
  const m = table.samples;
  const p = table.p;
  const forMaxCooks = cellsWithAtLeast(table, MIN_OUTLIER_REPLICATES);
  const replaceable = cellsWithAtLeast(table, minReplicates);
  const anyForMax = forMaxCooks.some((x) => x === 1);
  const robustGroups: RobustGroup[] = [];
  if (anyForMax) {
    for (let c = 0; c < table.cells; c++) {
      if (forMaxCooks[c] !== 1) continue;
      const cellMask = new Uint8Array(table.cells);
      cellMask[c] = 1;
      const k = trimClass(table.sizes[c]);
      robustGroups.push({
        cellMask,
        size: table.sizes[c],
        trim: CELL_TRIMS[k],
        scale: CELL_SCALES[k],
      });
    }
  } else {
    robustGroups.push({
      cellMask: new Uint8Array(table.cells).fill(1),
      size: m,
      trim: 1 / 8,
      scale: 1.51,
    });
  }
  return {
    table,
    m,
    p,
    cutoff: m > p ? fQuantile(options.cutoffQuantile ?? 0.99, p, m - p) : Number.NaN,
    forMaxCooks,
    replaceable,
    recordsMaxCooks: m > p && anyForMax,
    sufficientReplicates: replaceable.some((x) => x === 1),
    allReplaceable: replaceable.every((x) => x === 1),
    robustGroups,
    replaceTrim: options.replaceTrim ?? 0.2,
  };
}
