/**
 * The centers' steps of the `deseq2` solver: IRLS sums with μ floored at 0.5 (DESeq2's
 * `fitBeta`), and the unfloored NB likelihood at the points L-BFGS-B asks for.
 */

import { triangleSize } from "../../math/linalg.js";
import { datasetFor, type FitCenter } from "../center.js";
import { directKernels, type LocalKernels } from "../kernels.js";
import { maskIndices } from "../masks.js";
import {
  DESEQ2_MIN_MU,
  type Deseq2IrlsRequest,
  type Deseq2IrlsShare,
  type NllAtPointsRequest,
  type NllAtPointsShare,
} from "./state.js";

function checkShape(
  what: string,
  p: number,
  genes: number,
  request: { coefficients: number; mask: Uint8Array },
): void {
  if (request.coefficients !== p || request.mask.length !== genes) {
    throw new Error(
      `${what} for ${request.mask.length} genes × ${request.coefficients} coefficients, the fit has ${genes} × ${p}`,
    );
  }
}

/**
 * One center's IRLS sums at β for the genes still iterating: Σ NLL, XᵀWX and XᵀWz with μ floored
 * at 0.5 (DESeq2's `fitBeta`).
 * @param kernels - where the kernel runs (this thread by default)
 */
export function deseq2IrlsLocalStep(
  center: FitCenter,
  request: Deseq2IrlsRequest,
  kernels: LocalKernels = directKernels,
): Deseq2IrlsShare {
  const dataset = datasetFor(center, request.refit);
  const { p, genes } = dataset.data;
  checkShape("IRLS request", p, genes, request);
  const active = maskIndices(request.mask);
  if (request.beta.length !== active.length * p)
    throw new Error(`IRLS request: ${request.beta.length} coefficients for ${active.length} genes`);
  const sums = kernels.irlsSummandsAndNll(dataset, active, request.beta, DESEQ2_MIN_MU);
  const half = triangleSize(p);
  const xtwx = new Float64Array(active.length * half);
  for (let a = 0; a < active.length; a++) {
    let j = a * half;
    for (let k = 0; k < p; k++)
      for (let l = k; l < p; l++) xtwx[j++] = sums.hatMatrix[a * p * p + k * p + l];
  }
  return { kind: "deseq2-irls-share", nll: sums.nll, xtwx, xtwz: sums.features };
}

/**
 * One center's NLL (μ not floored) at the requested points.
 * @param kernels - where the kernel runs (this thread by default)
 */
export function nllAtPointsLocalStep(
  center: FitCenter,
  request: NllAtPointsRequest,
  kernels: LocalKernels = directKernels,
): NllAtPointsShare {
  const dataset = datasetFor(center, request.refit);
  const { data } = dataset;
  checkShape("likelihood request", data.p, data.genes, request);
  const active = maskIndices(request.mask);
  const s = request.pointsPerGene;
  if (!(Number.isInteger(s) && s > 0) || request.points.length !== active.length * s * data.p) {
    throw new Error(
      `likelihood request: ${request.points.length} coefficients for ${active.length} genes × ${s} points`,
    );
  }
  return {
    kind: "nll-at-points-share",
    nll: kernels.nllAtPoints(dataset, active, request.points, s),
  };
}
