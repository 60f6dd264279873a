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

// ---------------------------------------------------------------------------------------------
// DESeq2's estimateSizeFactorsIterate (iterate.ts)

/**
 * Start the iterative size factors: the center takes the run's genes (in this order) and sets
 * every size factor to 1, as DESeq2 starts.
 */
export interface UnitSizeFactorsRequest {
  readonly kind: "unit-size-factors-request";
  readonly genes: readonly string[];
}

/** Acknowledgement: the center's sample count (its size factors stay with it). */
export interface UnitSizeFactorsShare {
  readonly kind: "unit-size-factors-share";
  readonly samples: number;
}

/**
 * The fixed-gene-set problem of one iteration: maximise Σ_j h_j(t_j) over ln size factors t
 * with Σ_j t_j = 0, where h_j(t) = Σ_{g ∈ keep} ln NB(y_gj; q_gj·e^t, 1/α_g) and
 * q_gj = max(baseMean_g·s_j, minMu)/s_j with s the size factors of the iteration's start
 * (DESeq2's `mu / sf` of the intercept-only fit). Its optimum has h_j′(t_j) = λ for every
 * sample: given λ each center solves its own samples' t_j(λ).
 */
export interface SizeFactorProblem {
  /** The intercept-only fit's baseMean per gene (G; 0 for a gene with no count anywhere). */
  readonly baseMean: Float64Array;
  /** The intercept-only dispersions per gene (G; NaN for a gene with no count anywhere). */
  readonly dispersions: Float64Array;
  /** The genes whose log-likelihood counts (DESeq2: above the 5% quantile of them), G. */
  readonly keep: GeneMask;
  /** DESeq2's minmu (0.5), the floor of μ in the fit of μ. */
  readonly minMu: number;
  /** The common slope h_j′(t_j) every sample's ln size factor is solved for. */
  readonly lambda: number;
}

/** Step "sizeFactorRoot": solve every sample's t_j(λ) and send their sums. */
export interface SizeFactorRootRequest extends SizeFactorProblem {
  readonly kind: "size-factor-root-request";
}

/**
 * Sums over the center's samples of t_j(λ) and of dt_j/dλ = 1/h_j″(t_j) (the aggregator's Newton
 * step on Σ t_j(λ) = 0), and how many of its samples have no root because λ is at least their
 * largest slope Σ_keep y (then both sums are 0).
 */
export interface SizeFactorRootShare {
  readonly kind: "size-factor-root-share";
  readonly logSum: number;
  readonly slope: number;
  readonly beyond: Float64Array;
}

/**
 * Step "sizeFactorCandidate": the candidate ln size factors t_j(λ) − shift (shift: the mean of
 * the pooled t_j(λ), so that they sum to 0), or with `atStart` the iteration's start t_j = ln s_j
 * (λ and shift unused). `commit` false: evaluate them; true: the center takes them as its size
 * factors (never with `atStart`).
 */
export interface SizeFactorCandidateRequest extends SizeFactorProblem {
  readonly kind: "size-factor-candidate-request";
  readonly shift: number;
  readonly atStart: boolean;
  readonly commit: boolean;
}

/**
 * Evaluation of the candidate (empty when committing): per gene Σ_j ln NB(y_gj; q_gj·e^{t_j},
 * 1/α_g) over the center's samples (G; 0 for a gene with no count anywhere), and
 * Σ_j (t_j − ln s_j)², the move from the iteration's start (DESeq2's convergence test).
 */
export interface SizeFactorCandidateShare {
  readonly kind: "size-factor-candidate-share";
  readonly geneLogLik: Float64Array;
  readonly moved: number;
}

/**
 * DESeq2's `estimateSizeFactors` types, as `--size-factors-type` and the plan take them.
 */
export const SIZE_FACTORS_TYPES = ["ratio", "poscounts", "iterate"] as const;

/** A size-factor type of {@link SIZE_FACTORS_TYPES}. */
export type SizeFactorsType = (typeof SIZE_FACTORS_TYPES)[number];
