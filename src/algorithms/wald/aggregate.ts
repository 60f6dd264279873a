/**
 * Aggregation of the Wald tests: β's covariance from the summed XᵀWX, and the estimate and
 * standard error of a contrast.
 */
import { invertBatch, triangleSize } from "../../math/linalg.js";

/** DESeq2's ridge on each coefficient in the Wald fit: λ = 1e-6 on the log2 scale. */
export const WALD_RIDGE_NATURAL = 1e-6 / (Math.LN2 * Math.LN2);

/** β's covariance per gene, and the ridge-regularised inverse information (for Cook's). */
export interface WaldCovariance {
  /** Σ = (XᵀWX + Λ)⁻¹ XᵀWX (XᵀWX + Λ)⁻¹ per gene, G×p×p (natural-log scale). */
  readonly sigma: Float64Array;
  /** (XᵀWX + Λ)⁻¹ per gene, G×p×p. */
  readonly inverse: Float64Array;
}

/**
 * The sandwich covariance of DESeq2's `fitBeta` from the summed packed XᵀWX.
 * @param xtwx - Σ over centers of the packed upper triangles, G × p(p+1)/2
 * @param lambda - the prior precision per column on the log2 scale (absent: DESeq2's 1e-6 on
 *   every column; `lfcShrink(type = "normal")`: its prior's 1/σ²)
 */
export function waldCovariance(
  xtwx: Float64Array,
  p: number,
  lambda?: Float64Array,
): WaldCovariance {
  const half = triangleSize(p);
  const genes = xtwx.length / half;
  const pp = p * p;
  const full = new Float64Array(genes * pp);
  for (let g = 0; g < genes; g++) {
    let j = g * half;
    for (let k = 0; k < p; k++) {
      for (let l = k; l < p; l++) {
        const v = xtwx[j++];
        full[g * pp + k * p + l] = v;
        full[g * pp + l * p + k] = v;
      }
    }
  }
  const ridge =
    lambda === undefined
      ? new Float64Array(p).fill(WALD_RIDGE_NATURAL)
      : Float64Array.from(lambda, (l) => l / (Math.LN2 * Math.LN2));
  const ridged = full.slice();
  for (let g = 0; g < genes; g++)
    for (let k = 0; k < p; k++) ridged[g * pp + k * p + k] += ridge[k];
  const inverse = new Float64Array(genes * pp);
  invertBatch(ridged, p, genes, inverse);
  const sigma = new Float64Array(genes * pp);
  const tmp = new Float64Array(pp);
  for (let g = 0; g < genes; g++) {
    const o = g * pp;
    // tmp = inverse · XᵀWX, then sigma = tmp · inverse
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) {
        let s = 0;
        for (let c = 0; c < p; c++) s += inverse[o + a * p + c] * full[o + c * p + b];
        tmp[a * p + b] = s;
      }
    }
    // The upper triangle, mirrored below: the product's two triangles differ in their last bits,
    // and the saved fit keeps one (`sigma_upper`), so that `results --from` weighs a contrast of
    // two coefficients with the very matrix the run did (a run's lfcSE differed by an ulp).
    for (let a = 0; a < p; a++) {
      for (let b = a; b < p; b++) {
        let s = 0;
        for (let c = 0; c < p; c++) s += tmp[a * p + c] * inverse[o + c * p + b];
        sigma[o + a * p + b] = s;
        sigma[o + b * p + a] = s;
      }
    }
  }
  return { sigma, inverse };
}

/** A contrast's estimate and standard error per gene, on the log2 scale. */
export interface ContrastEstimate {
  readonly log2FoldChange: Float64Array;
  readonly lfcSE: Float64Array;
}

/**
 * cᵀβ and √(cᵀΣc) per gene, converted from natural log to log2.
 * @param beta - G×p coefficients (natural log)
 * @param sigma - G×p×p covariances (natural log)
 * @param contrast - the p weights c
 */
export function contrastEstimate(
  beta: Float64Array,
  sigma: Float64Array,
  contrast: Float64Array,
): ContrastEstimate {
  const p = contrast.length;
  const genes = beta.length / p;
  const log2FoldChange = new Float64Array(genes);
  const lfcSE = new Float64Array(genes);
  for (let g = 0; g < genes; g++) {
    let estimate = 0;
    let variance = 0;
    for (let a = 0; a < p; a++) {
      estimate += contrast[a] * beta[g * p + a];
      for (let b = 0; b < p; b++)
        variance += contrast[a] * sigma[g * p * p + a * p + b] * contrast[b];
    }
    log2FoldChange[g] = estimate / Math.LN2;
    lfcSE[g] = Math.sqrt(variance) / Math.LN2;
  }
  return { log2FoldChange, lfcSE };
}
