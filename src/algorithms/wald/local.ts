/**
 * Local step of the Wald tests: a center's XᵀWX at the final coefficients.
 */

import { triangleSize } from "../../math/linalg.js";
import type { CenterSamples } from "../../math/negativeBinomial.js";
import { type CenterFitData, datasetFor, type FitCenter } from "../center.js";
import type { InformationRequest, InformationShare } from "./state.js";

/** DESeq2's floor on μ when it computes the weights of the final fit (minmu). */
export const WALD_MIN_MU = 0.5;

/**
 * The center's XᵀWX per gene (packed upper triangles) at β, W = μ/(1 + αμ) with μ floored at
 * {@link WALD_MIN_MU}, as DESeq2's `fitBeta` computes it once converged. Summed over centers, its
 * ridge-regularised inverse gives the Wald covariance and the hat diagonals of Cook's distances.
 * @param beta - G×p coefficients (natural log)
 * @param dispersions - α per gene
 */
export function weightedGram(
  samples: CenterSamples,
  beta: Float64Array,
  dispersions: Float64Array,
): Float64Array {
  const { n, p, genes, design, sizeFactors } = samples;
  const half = triangleSize(p);
  if (beta.length !== genes * p || dispersions.length !== genes) {
    throw new Error(
      `XᵀWX: ${beta.length} coefficients and ${dispersions.length} dispersions for ${genes} genes × ${p}`,
    );
  }
  const xtwx = new Float64Array(genes * half);
  for (let g = 0; g < genes; g++) {
    const alpha = dispersions[g];
    const out = g * half;
    for (let i = 0; i < n; i++) {
      const row = i * p;
      let eta = 0;
      for (let k = 0; k < p; k++) eta += design[row + k] * beta[g * p + k];
      const mu = Math.max(sizeFactors[i] * Math.exp(eta), WALD_MIN_MU);
      const w = mu / (1 + alpha * mu);
      let j = out;
      for (let k = 0; k < p; k++) {
        const xw = design[row + k] * w;
        for (let l = k; l < p; l++) xtwx[j++] += xw * design[row + l];
      }
    }
  }
  return xtwx;
}

/** {@link weightedGram} of a dataset's genes at β with its own dispersions. */
export function datasetInformation(dataset: CenterFitData, beta: Float64Array): Float64Array {
  return weightedGram(dataset.data, beta, dataset.data.dispersions);
}

/**
 * The center's share of the Wald step, on its main or refit dataset.
 * @param kernels - where XᵀWX is computed (a center's worker pool; this thread by default)
 */
export function informationLocalStep(
  center: FitCenter,
  request: InformationRequest,
  kernels: {
    information(dataset: CenterFitData, beta: Float64Array): Float64Array;
  } = { information: datasetInformation },
): InformationShare {
  const dataset = datasetFor(center, request.refit);
  const { p, genes } = dataset.data;
  if (request.coefficients !== p || request.beta.length !== genes * p) {
    throw new Error(
      `information request for ${request.beta.length} coefficients, the fit has ${genes} genes × ${p}`,
    );
  }
  return { kind: "information-share", xtwx: kernels.information(dataset, request.beta) };
}
