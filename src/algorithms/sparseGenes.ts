/**
 * Sparse genes (issue [11]): a gene whose counts in some design cell are non-zero for only 1 to
 * k − 1 of the cell's samples. Every sum over that cell is then those one or two samples' values
 * (Σ y/s over three samples of which two are zero is the third's y/s), and so are DESeq2's
 * outputs for the gene (its baseMean × n is Σ y/s). A plan may have such genes left out of the
 * analysis: each center counts, per gene and cell, its samples with a non-zero count; the
 * aggregator sums the counts (masked by secure aggregation: it reads only the pooled counts)
 * and leaves out every gene with a pooled cell count in 1..k − 1, before any other step.
 */
import { type CenterData, centerCellKeys } from "./centerData.js";
import type { GeneMask } from "./masks.js";
import { countsOfRows, geneRows } from "./setup/local.js";
import { sumOverCenters } from "./shares.js";

/** Ask for the non-zero counts of these genes in these cells. */
export interface NonZeroCellsRequest {
  readonly kind: "non-zero-cells-request";
  /** Gene ids, in the federation's order. */
  readonly genes: readonly string[];
  /** The design's factors, in formula order: a sample's cell is its level of each. */
  readonly factors: readonly string[];
  /** Every cell, as `factor=level,…` keys (the plan's level combinations), in a fixed order. */
  readonly cells: readonly string[];
}

/** Per gene and cell (gene-major, genes × cells): how many of the center's samples have y > 0. */
export interface NonZeroCellsShare {
  readonly kind: "non-zero-cells-share";
  readonly counts: Float64Array;
}

/**
 * A center's non-zero counts per gene and cell.
 * @param counts - the requested genes' counts, gene-major (gene g's n counts at g·n)
 * @param n - the center's samples
 * @param sampleCells - each sample's index in the request's cells (−1: none of them)
 * @param cells - the number of cells
 */
export function localNonZeroCells(
  counts: Float64Array,
  n: number,
  sampleCells: Int32Array,
  cells: number,
): NonZeroCellsShare {
  const genes = n === 0 ? 0 : counts.length / n;
  const out = new Float64Array(genes * cells);
  for (let g = 0; g < genes; g++) {
    for (let i = 0; i < n; i++) {
      const c = sampleCells[i];
      if (c >= 0 && counts[g * n + i] > 0) out[g * cells + c] += 1;
    }
  }
  return { kind: "non-zero-cells-share", counts: out };
}

/** A center's step: its non-zero counts per requested gene and cell. */
export function nonZeroCellsLocalStep(
  data: CenterData,
  request: NonZeroCellsRequest,
): NonZeroCellsShare {
  const index = new Map(request.cells.map((key, c) => [key, c]));
  const keys = centerCellKeys(data, request.factors);
  const sampleCells = Int32Array.from(keys, (key) => index.get(key) ?? -1);
  const rows = geneRows(data, request.genes);
  return localNonZeroCells(
    countsOfRows(data, rows),
    data.samples.length,
    sampleCells,
    request.cells.length,
  );
}

/**
 * The genes to leave out: those with a pooled count of non-zero samples in 1..k − 1 in some
 * cell (1 where left out).
 * @param k - the plan's minimum cell size
 */
export function sparseGenes(
  shares: readonly NonZeroCellsShare[],
  cells: number,
  k: number,
): GeneMask {
  const pooled = sumOverCenters(shares, "counts");
  const genes = cells === 0 ? 0 : pooled.length / cells;
  const sparse = new Uint8Array(genes);
  for (let g = 0; g < genes; g++) {
    for (let c = 0; c < cells; c++) {
      const v = pooled[g * cells + c];
      if (v > 0 && v < k) {
        sparse[g] = 1;
        break;
      }
    }
  }
  return sparse;
}
