/**
 * States and messages of the `deseq2` solver: DESeq2 1.38's `fitNbinomGLMs` over the federation
 * (its IRLS, then R's `optim` L-BFGS-B on the rows IRLS did not converge), replayed step for step.
 */
import type { GeneMask } from "../masks.js";

/** DESeq2's `maxit`: IRLS iterations before a row counts as not converged. */
export const DESEQ2_MAX_ITERATIONS = 100;

/** DESeq2's `betaTol`: the relative deviance change that ends IRLS. */
export const DESEQ2_BETA_TOL = 1e-8;

/** DESeq2's `large`: IRLS stops (not converged) when a coefficient leaves ±30 (natural log). */
export const DESEQ2_LARGE = 30;

/** DESeq2's default prior precision λ on every coefficient, on the log2 scale. */
export const DESEQ2_LAMBDA_LOG2 = 1e-6;

/** The same λ on the natural-log scale IRLS works in (`lambda / log(2)^2`). */
export const DESEQ2_LAMBDA_NATURAL = DESEQ2_LAMBDA_LOG2 / (Math.LN2 * Math.LN2);

/**
 * The ridge IRLS adds to XᵀWX per column (natural-log scale), from DESeq2's `lambda` per column
 * on the log2 scale (absent: DESeq2's default {@link DESEQ2_LAMBDA_LOG2} on every column).
 */
export function naturalRidge(lambda: Float64Array | undefined, p: number): Float64Array {
  return lambda === undefined
    ? new Float64Array(p).fill(DESEQ2_LAMBDA_NATURAL)
    : Float64Array.from(lambda, (l) => l / (Math.LN2 * Math.LN2));
}

/** DESeq2's `minmu`: the floor on μ inside IRLS. */
export const DESEQ2_MIN_MU = 0.5;

/** Step "deseq2Irls": one IRLS iteration's sums at the given coefficients. */
export interface Deseq2IrlsRequest {
  readonly kind: "deseq2-irls-request";
  /** Run on the centers' refit datasets (Cook's outliers replaced). */
  readonly refit: boolean;
  /** Design columns p. */
  readonly coefficients: number;
  /** Genes still iterating, over the fitted genes. */
  readonly mask: GeneMask;
  /** Their coefficients (natural log), A×p in mask order. */
  readonly beta: Float64Array;
}

/** A center's sums for {@link Deseq2IrlsRequest}, with μ floored at 0.5 as DESeq2's `fitBeta`. */
export interface Deseq2IrlsShare {
  readonly kind: "deseq2-irls-share";
  /** Σ −log NB(y; μ, 1/α) over the center's samples, per active gene (NaN on overflow). */
  readonly nll: Float64Array;
  /** XᵀWX, W = μ/(1 + αμ), packed upper triangles, A×p(p+1)/2. */
  readonly xtwx: Float64Array;
  /** XᵀWz, z = ln(μ/s) + (y − μ)/μ, A×p. */
  readonly xtwz: Float64Array;
}

/** Step "nllAtPoints": the NB log-likelihood (μ not floored) at several points per gene. */
export interface NllAtPointsRequest {
  readonly kind: "nll-at-points-request";
  readonly refit: boolean;
  readonly coefficients: number;
  /** Genes evaluated, over the fitted genes. */
  readonly mask: GeneMask;
  /** Points per gene S. */
  readonly pointsPerGene: number;
  /** Coefficients on the log2 scale (optim's), A×S×p: gene-major, then point. */
  readonly points: Float64Array;
}

/** A center's Σ −log NB(y; μ, 1/α) at each point, A×S (±∞ or NaN where μ overflows). */
export interface NllAtPointsShare {
  readonly kind: "nll-at-points-share";
  readonly nll: Float64Array;
}

/** The aggregator's state between IRLS rounds (only {@link Deseq2IrlsRequest} is sent). */
export interface Deseq2IrlsState {
  readonly kind: "deseq2-irls-round";
  /** Round r: the centers evaluate β_r (β_0 = the initialisation). */
  readonly round: number;
  readonly refit: boolean;
  readonly p: number;
  /** Coefficients, G×p (natural log): β_r of iterating genes, the final β of the others. */
  readonly beta: Float64Array;
  /** Genes still iterating. */
  readonly mask: GeneMask;
  /** DESeq2's `iter` per gene: iterations entered so far (= `maxit` when stopped unconverged). */
  readonly iterations: Int32Array;
  /** Deviance at the previous iterate (DESeq2's `dev_old`; 0 before the first). */
  readonly previousDeviance: Float64Array;
  /**
   * The prior precision per column, DESeq2's `lambda` on the log2 scale (absent: 1e-6 on every
   * column, the MLE fit's; `lfcShrink(type = "normal")`'s MAP fit sets 1/σ² from its prior).
   */
  readonly lambda?: Float64Array;
}

/** What DESeq2's IRLS ends with (its `betaRes`). */
export interface Deseq2IrlsEnd {
  readonly kind: "deseq2-irls-end";
  readonly refit: boolean;
  readonly p: number;
  /** Final coefficients, G×p (natural log; beyond ±30 or NaN where IRLS broke off). */
  readonly beta: Float64Array;
  /** DESeq2's `betaIter`. */
  readonly iterations: Int32Array;
  /** Round trips IRLS took. */
  readonly rounds: number;
}

/** The fit DESeq2's `fitNbinomGLMs` returns, per gene. */
export interface Deseq2FitResult {
  /** Coefficients, G×p (natural log). */
  readonly beta: Float64Array;
  /** `betaConv`: IRLS converged, or L-BFGS-B reported convergence on the refit. */
  readonly converged: GeneMask;
  /** `betaIter`: IRLS iterations. */
  readonly iterations: Int32Array;
  /** Genes refitted by L-BFGS-B (`optim`). */
  readonly optimised: GeneMask;
}
