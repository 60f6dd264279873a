/**
 * The apeglm estimator of `lfcShrink(dds, coef = k, type = "apeglm")` as a federated step: the
 * centers evaluate apeglm's negative binomial likelihood terms at the coefficients the aggregator
 * sends (the step "apeglm"); the prior, the adaptive prior scale and the optimisation live at the
 * aggregator (aggregate.ts).
 */
import type { GeneMask } from "../masks.js";

/**
 * Step "apeglm": apeglm's likelihood terms at one point per gene, on the centers' original counts
 * (`counts(dds)`, Cook's outliers not replaced) with the final dispersions, as DESeq2 hands them
 * to apeglm.
 */
export interface ApeglmRequest {
  readonly kind: "apeglm-request";
  /** Design columns p. */
  readonly coefficients: number;
  /** Genes evaluated, over the fitted genes. */
  readonly mask: GeneMask;
  /** Their coefficients (natural log), A×p in mask order. */
  readonly beta: Float64Array;
  /** True to also ask for the observed information (the posterior's curvature, asked once). */
  readonly curvature: boolean;
}

/** A center's sums for {@link ApeglmRequest} over its samples, per gene. */
export interface ApeglmShare {
  readonly kind: "apeglm-share";
  /**
   * −Σ [y·xβ − (y + r)·ln(r + s·e^{xβ})], r = 1/α: apeglm's negative log-likelihood (without the
   * terms that do not depend on β), length A.
   */
  readonly nll: Float64Array;
  /** Σ x·(y − (y + r)·μ/(r + μ)), μ = s·e^{xβ}: the log-likelihood's gradient, A×p. */
  readonly score: Float64Array;
  /**
   * With `curvature`: Σ x·xᵀ·(y + r)·r·μ/(r + μ)², the observed information (packed upper
   * triangles, A×p(p+1)/2); empty otherwise.
   */
  readonly information: Float64Array;
}

/** apeglm's default prior scale of the coefficients it does not shrink (a normal, sd 15). */
export const APEGLM_NO_SHRINK_SCALE = 15;

/** The bounds of apeglm's adaptive prior variance (apeglm's `priorVar`). */
export const APEGLM_PRIOR_VARIANCE_RANGE = { min: 1e-6, max: 400 } as const;
