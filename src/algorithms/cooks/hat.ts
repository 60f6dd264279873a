/**
 * The matrix behind DESeq2's hat diagonals. `fitBeta` (DESeq2.cpp) computes, at the final
 * β, H = W^½ X (XᵀWX + Λ)⁻¹ Xᵀ W^½ with W = μ/(1 + αμ), μ = s·exp(Xβ) floored at
 * `minmu` = 0.5, α the final dispersion and Λ = diag(1e-6 / ln(2)²) (the Wald fit's ridge on
 * the natural-log scale). So h_ii = w_i x_iᵀ M x_i with M = (Σ_centers X_cᵀW_cX_c + Λ)⁻¹ per
 * gene: one round in which each center shares its XᵀWX (packed upper triangles) and the
 * aggregator inverts the sum. The Wald step computes the same matrix; either can feed
 * {@link CooksRequest.hatInverse}.
 */
import { invertBatch } from "../../math/linalg.js";
import type { CooksCenter } from "./center.js";

/** DESeq2's floor on μ in the weights of `fitBeta` (`minmu`). */
export const HAT_MIN_MU = 0.5;

/** DESeq2's ridge per coefficient on the natural-log scale: 1e-6 / ln(2)². */
export const HAT_RIDGE = 1e-6 / (Math.LN2 * Math.LN2);

/** What the aggregator sends for the hat round. */
export interface HatRequest {
  readonly kind: "cooks-hat-request";
  /** Final coefficients (natural log), genes×p. */
  readonly beta: Float64Array;
  /** Final dispersions α, length genes. */
  readonly dispersions: Float64Array;
}

/** A center's XᵀWX per gene, packed upper triangles (row by row), genes × p(p+1)/2. */
export interface HatShare {
  readonly kind: "cooks-hat-share";
  readonly xtwx: Float64Array;
}

/** Local step: the center's XᵀWX per gene at β (μ floored at {@link HAT_MIN_MU}). */
export function hatLocalStep(center: CooksCenter, request: HatRequest): HatShare {
  const { n, p, genes, design, sizeFactors } = center;
  const { beta, dispersions } = request;
  if (beta.length !== genes * p) throw new Error(`hat request: ${beta.length} coefficients`);
  const half = (p * (p + 1)) / 2;
  const xtwx = new Float64Array(genes * half);
  for (let g = 0; g < genes; g++) {
    const alpha = dispersions[g];
    for (let i = 0; i < n; i++) {
      let eta = 0;
      for (let k = 0; k < p; k++) eta += design[i * p + k] * beta[g * p + k];
      const mu = Math.max(sizeFactors[i] * Math.exp(eta), HAT_MIN_MU);
      const w = mu / (1 + alpha * mu);
      let j = g * half;
      for (let k = 0; k < p; k++) {
        const xw = design[i * p + k] * w;
        for (let l = k; l < p; l++) xtwx[j++] += xw * design[i * p + l];
      }
    }
  }
  return { kind: "cooks-hat-share", xtwx };
}

/**
 * Aggregate: M = (Σ XᵀWX + Λ)⁻¹ per gene, genes×p×p (full, row-major).
 * @throws SingularMatrixError for a singular gene
 */
export function hatAggregate(shares: readonly HatShare[], p: number): Float64Array {
  const half = (p * (p + 1)) / 2;
  const genes = shares[0].xtwx.length / half;
  const pp = p * p;
  const full = new Float64Array(genes * pp);
  for (const share of shares) {
    for (let g = 0; g < genes; g++) {
      let j = g * half;
      for (let k = 0; k < p; k++) {
        for (let l = k; l < p; l++) full[g * pp + k * p + l] += share.xtwx[j++];
      }
    }
  }
  for (let g = 0; g < genes; g++) {
    for (let k = 0; k < p; k++) {
      full[g * pp + k * p + k] += HAT_RIDGE;
      for (let l = k + 1; l < p; l++) full[g * pp + l * p + k] = full[g * pp + k * p + l];
    }
  }
  const inverse = new Float64Array(genes * pp);
  invertBatch(full, p, genes, inverse);
  return inverse;
}
