/**
 * The centers' part of apeglm: the negative binomial likelihood's value, gradient and (once)
 * observed information at the coefficients the aggregator sends, summed over the center's samples.
 */

import { triangleSize } from "../../math/linalg.js";
import type { FitCenter } from "../center.js";
import { maskIndices } from "../masks.js";
import type { ApeglmRequest, ApeglmShare } from "./state.js";

/** ln(eᵃ + eᵇ) without overflow. */
function logAddExp(a: number, b: number): number {
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/**
 * One center's apeglm terms (see {@link ApeglmShare}) on its original counts: DESeq2 passes
 * `counts(dds)` to apeglm, not the counts with outliers replaced.
 */
export function apeglmLocalStep(center: FitCenter, request: ApeglmRequest): ApeglmShare {
  const { n, p, genes, design, sizeFactors, counts } = center.main.data;
  if (request.coefficients !== p || request.mask.length !== genes) {
    throw new Error(
      `apeglm request for ${request.mask.length} genes × ${request.coefficients} coefficients, the fit has ${genes} × ${p}`,
    );
  }
  const active = maskIndices(request.mask);
  if (request.beta.length !== active.length * p)
    throw new Error(
      `apeglm request: ${request.beta.length} coefficients for ${active.length} genes`,
    );
  // DESeq2's final dispersions: the refit's for the refitted genes (made once, with the refit).
  const dispersions = center.refit?.finalDispersions ?? center.main.data.dispersions;
  const half = triangleSize(p);
  const nll = new Float64Array(active.length);
  const score = new Float64Array(active.length * p);
  const information = new Float64Array(request.curvature ? active.length * half : 0);
  const logSize = Float64Array.from(sizeFactors, Math.log);
  for (let a = 0; a < active.length; a++) {
    const g = active[a];
    const r = 1 / dispersions[g];
    const logR = Math.log(r);
    const beta = request.beta.subarray(a * p, a * p + p);
    let value = 0;
    for (let i = 0; i < n; i++) {
      const row = i * p;
      let xb = 0;
      for (let k = 0; k < p; k++) xb += design[row + k] * beta[k];
      const y = counts[g * n + i];
      const eta = xb + logSize[i];
      const logDenominator = logAddExp(eta, logR);
      value -= y * xb - (y + r) * logDenominator;
      // μ/(r + μ) and r/(r + μ), each from logs so that neither overflows.
      const t = Math.exp(eta - logDenominator);
      const residual = y - (y + r) * t;
      for (let k = 0; k < p; k++) score[a * p + k] += design[row + k] * residual;
      if (request.curvature) {
        const w = (y + r) * t * Math.exp(logR - logDenominator);
        let j = a * half;
        for (let k = 0; k < p; k++) {
          const xw = design[row + k] * w;
          for (let l = k; l < p; l++) information[j++] += xw * design[row + l];
        }
      }
    }
    nll[a] = value;
  }
  return { kind: "apeglm-share", nll, score, information };
}
