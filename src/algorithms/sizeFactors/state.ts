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
  /**
   * Poscounts' reference (the geometric mean over the positive counts) needs Σ ln y of every
   * gene; the ratio reference only of the genes without a zero count anywhere. False: a
   * center sends 0 for a gene it holds a zero of (the gene leaves the reference anyway), so
   * that a sparse gene's sum of its one or two positive counts' logs is never sent.
   */
  readonly genesWithZeros: boolean;
}

/**
 * Per requested gene: Σ ln y over the center's samples with y > 0 (0 for a gene with a zero
 * count here unless the request asks for genes with zeros), and whether some sample has y = 0
 * (which excludes the gene from the ratio reference, as DESeq2's −∞ log geometric mean does).
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
  /**
   * DESeq2's poscounts (and any reference given as geoMeans): the size factors are then
   * stabilised to a geometric mean of 1 over all samples, for which each center also returns
   * Σ ln s over its samples ({@link SizeFactorScaleRequest} brings back the mean).
   */
  readonly stabilize: boolean;
}

/**
 * A center's reply to the size-factors request: its sample count only. Its size factors (one
 * scalar per sample, computed from the pooled reference) stay at the center, which uses them in
 * every later step of the run; they never travel (issue [11]: no per-sample value leaves a center).
 */
export interface SizeFactorsShare {
  readonly kind: "size-factors-share";
  readonly samples: number;
  /** Σ ln s over the center's samples when the request asks to stabilize, else 0. */
  readonly logSizeFactorSum: number;
}

/** Divide every size factor by exp(`logMean`): the mean of ln s over all samples. */
export interface SizeFactorScaleRequest {
  readonly kind: "size-factor-scale-request";
  readonly logMean: number;
}

/** A center's reply to the rescale: its sample count (its size factors stay with it). */
export interface SizeFactorScaleShare {
  readonly kind: "size-factor-scale-share";
  readonly samples: number;
}

/**
 * DESeq2's `estimateSizeFactors` types fedseq runs ("iterate" is not implemented), as
 * `--size-factors-type` and the plan take them.
 */
export const SIZE_FACTORS_TYPES = ["ratio", "poscounts"] as const;

/** A size-factor type of {@link SIZE_FACTORS_TYPES}. */
export type SizeFactorsType = (typeof SIZE_FACTORS_TYPES)[number];
