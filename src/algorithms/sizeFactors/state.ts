/**
 * Shares of the federated median-of-ratios size factors (DESeq2's `estimateSizeFactors`):
 * centers share per-gene sums of log counts, the aggregator returns the log geometric means,
 * and each center computes its own samples' size factors from them.
 */
import type { GeneMask } from "../masks.js";

/** Ask for the per-gene sums of log counts of these genes (ids, in the federation's order). */
export interface LogSumsRequest {
  readonly kind: "log-sums-request";
  readonly genes: readonly string[];
}

/**
 * Per requested gene: Σ ln y over the center's samples with y > 0, and whether some sample has
 * y = 0 (which excludes the gene from the reference, as DESeq2's −∞ log geometric mean does).
 */
export interface LogSumsShare {
  readonly kind: "log-sums-share";
  readonly logSums: Float64Array;
  readonly hasZero: GeneMask;
  /** The center's sample count. */
  readonly samples: number;
}

/**
 * The pseudo-reference sample: per gene (same order as the log-sums request), the log
 * geometric mean of its counts over all samples, NaN for genes excluded from the reference.
 */
export interface SizeFactorsRequest {
  readonly kind: "size-factors-request";
  readonly logGeoMeans: Float64Array;
}

/**
 * A center's reply to the size-factors request: its sample count only. Its size factors (one
 * scalar per sample, computed from the pooled reference) stay at the center, which uses them in
 * every later step of the run; they never travel (issue [11]: no per-sample value leaves a center).
 */
export interface SizeFactorsShare {
  readonly kind: "size-factors-share";
  readonly samples: number;
}
