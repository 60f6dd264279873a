/**
 * Magnitudes of the terms that the NLL and gradient sum (Σ|term|), the yardstick the fixtures'
 * README gives for comparing sums of large, cancelling terms across libm implementations.
 */
import { type NbCenterData, nbLogBinomial } from "../../src/math/negativeBinomial.js";

/** Σ|terms| of the NLL and of each gradient coordinate at each point. */
export interface TermScales {
  nll: Float64Array;
  gradient: Float64Array;
}

/**
 * Scales at `points` (count×p coefficients, gene `genes[j % genes.length]` for point j).
 * μ is computed as the kernels do, floored at `minMu`.
 */
export function termScales(
  data: NbCenterData,
  genes: Int32Array,
  points: Float64Array,
  minMu: number,
): TermScales {
  const { n, p, design, sizeFactors, counts, dispersions } = data;
  const count = points.length / p;
  const nll = new Float64Array(count);
  const gradient = new Float64Array(count * p);
  for (let j = 0; j < count; j++) {
    const g = genes[j % genes.length];
    const alpha = dispersions[g];
    const r = 1 / alpha;
    let s = Math.abs(n * r * Math.log(alpha));
    for (let i = 0; i < n; i++) {
      let xb = 0;
      for (let k = 0; k < p; k++) xb += design[i * p + k] * points[j * p + k];
      const mu = Math.max(sizeFactors[i] * Math.exp(xb), minMu);
      const y = counts[g * n + i];
      s +=
        Math.abs(nbLogBinomial(y, r)) +
        Math.abs((y + r) * Math.log(r + mu)) +
        Math.abs(y * Math.log(mu));
      const v = Math.abs(y) + Math.abs(((r + y) * mu) / (r + mu));
      for (let k = 0; k < p; k++) gradient[j * p + k] += Math.abs(design[i * p + k]) * v;
    }
    nll[j] = s;
  }
  return { nll, gradient };
}

/** The grid of points clip(β − t·d) for all steps (step-major), or clip(β) when steps is null. */
export function stepPoints(
  beta: Float64Array,
  direction: Float64Array | null,
  steps: Float64Array | null,
  lower: number,
  upper: number,
): Float64Array {
  const nSteps = steps === null ? 1 : steps.length;
  const out = new Float64Array(nSteps * beta.length);
  for (let s = 0; s < nSteps; s++) {
    for (let i = 0; i < beta.length; i++) {
      const v = direction === null || steps === null ? beta[i] : beta[i] - steps[s] * direction[i];
      out[s * beta.length + i] = Math.min(Math.max(v, lower), upper);
    }
  }
  return out;
}
