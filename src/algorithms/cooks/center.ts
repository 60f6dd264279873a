/**
 * What one center holds for DESeq2's Cook's-distance machinery, and the design "cells"
 * (distinct design-matrix rows) its samples fall into.
 *
 * Everything here stays at the center: the local steps of this folder read it and return
 * per-gene aggregates only.
 */
import type { CenterSamples } from "../../math/negativeBinomial.js";

/** One center's data, as the Cook's steps read it (the kernels' layout: gene-major counts). */
export type CooksCenter = CenterSamples;

/**
 * The design cells of the whole federation: the distinct rows of the pooled design matrix
 * and how many samples (over all centers) each holds. Built by the aggregator from the
 * centers' {@link CellsShare}s ({@link aggregateCells} in `cells.ts`).
 */
export interface CellTable {
  /** Design columns. */
  readonly p: number;
  /** Number of distinct rows. */
  readonly cells: number;
  /** The distinct rows, cells×p row-major, in order of first appearance (centers in federation order). */
  readonly rows: Float64Array;
  /** Pooled number of samples in each cell, length `cells`. */
  readonly sizes: Float64Array;
  /** Pooled number of samples m (Σ sizes). */
  readonly samples: number;
}

/** Does row `i` of the n×p matrix `a` equal row `j` of `b` (exact equality of every entry)? */
export function sameRow(
  a: Float64Array,
  i: number,
  b: Float64Array,
  j: number,
  p: number,
): boolean {
  for (let k = 0; k < p; k++) if (a[i * p + k] !== b[j * p + k]) return false;
  return true;
}

/**
 * The global cell of each of the center's samples (local only: never shared).
 * @param center - the center's data
 * @param table - the federation's cells
 * @returns cell index per local sample, length n
 * @throws when a sample's design row is not one of `table`'s rows
 */
export function sampleCells(center: CooksCenter, table: CellTable): Int32Array {
  const { n, p, design } = center;
  if (table.p !== p) throw new Error(`cell table has ${table.p} columns, the design ${p}`);
  const cellOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let found = -1;
    for (let c = 0; c < table.cells && found < 0; c++) {
      if (sameRow(design, i, table.rows, c, p)) found = c;
    }
    // Not which sample (its position with the rows sent would be its cell).
    if (found < 0) throw new Error("a sample's design row is not in the cell table");
    cellOf[i] = found;
  }
  return cellOf;
}
