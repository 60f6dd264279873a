/**
 * DESeq2's `plotPCA(vst(dds, blind = FALSE))` over the federation: the principal components of
 * the variance-stabilised counts of the 500 genes with the largest variance over the samples,
 * with each center's transformed counts kept at the center (algorithms/vst.ts). Three steps:
 *
 * - `pcaMoments`: per gene, Σ v and Σ v² over the center's samples (the row variances, from which
 *   the aggregator picks the genes), and how many of its samples have a count;
 * - `pcaProduct`: C·W for the basis W the aggregator sends, C = Σ (v − m)(v − m)ᵀ over the
 *   center's samples on the picked genes, m their pooled means (the subspace iteration's
 *   product; C itself never travels);
 * - `pcaCoordinates`: each sample's coordinates on the two principal axes, kept at the center
 *   (`fedseq center --pca-out`), and sent only when the analysis plan allows it.
 */
import type { GeneMask } from "../masks.js";

/** DESeq2's `plotPCA(ntop = 500)`. */
export const PCA_TOP_GENES = 500;

/** The principal components plotted (PC1, PC2). */
export const PCA_COMPONENTS = 2;

/** Most columns of the subspace iteration's basis (a center refuses a wider one). */
export const PCA_BLOCK = 32;

/** Step "pcaMoments": per gene of the run, the sums of the center's transformed counts. */
export interface PcaMomentsRequest {
  readonly kind: "pca-moments-request";
  /** The run's genes (the reply's length). */
  readonly genes: number;
}

/** A center's sums over its samples, per gene of the run. */
export interface PcaMomentsShare {
  readonly kind: "pca-moments-share";
  readonly samples: number;
  /**
   * Per gene, how many of its samples have a count: the PCA leaves out genes with a count in
   * fewer than k samples of the federation (a column of the pooled covariance is a combination of
   * those samples' vectors).
   */
  readonly nonZero: Float64Array;
  /** Σ v per gene. */
  readonly sum: Float64Array;
  /** Σ v² per gene. */
  readonly sumSquares: Float64Array;
}

/** Step "pcaProduct": C·W on the picked genes. */
export interface PcaProductRequest {
  readonly kind: "pca-product-request";
  /** The picked genes, over the run's genes (ascending gene order: the rows of W). */
  readonly genes: GeneMask;
  /** Their pooled means over all samples. */
  readonly mean: Float64Array;
  /** Columns k of W. */
  readonly columns: number;
  /** W, row-major q×k (q picked genes). */
  readonly basis: Float64Array;
}

/** Σ over the center's samples of (v − m)·((v − m)ᵀW), row-major q×k. */
export interface PcaProductShare {
  readonly kind: "pca-product-share";
  readonly product: Float64Array;
}

/** Step "pcaCoordinates": the samples' coordinates on the principal axes. */
export interface PcaCoordinatesRequest {
  readonly kind: "pca-coordinates-request";
  readonly genes: GeneMask;
  readonly mean: Float64Array;
  /** The axes, row-major q×2 (unit vectors). */
  readonly axes: Float64Array;
  /** Send them (the plan's `pca_coordinates`); otherwise the center keeps them. */
  readonly send: boolean;
}

/** The center's samples' (PC1, PC2), sample-major n×2, when sent; empty otherwise. */
export interface PcaCoordinatesShare {
  readonly kind: "pca-coordinates-share";
  readonly coordinates: Float64Array;
}
