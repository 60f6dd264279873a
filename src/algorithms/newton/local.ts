/**
 * Local step of the `fast` solver: a center's NLL, IRLS residual and information at β (round 0)
 * or at every candidate β + t·Δ of the line search.
 */
import { datasetFor, type FitCenter, withSampleTerms } from "../center.js";
import type { FitHyperparameters } from "../hyperparameters.js";
import { directKernels, type LocalKernels } from "../kernels.js";
import { maskIndices } from "../masks.js";
import { type NewtonLocalShare, type NewtonRequest, newtonPointCount } from "./state.js";

/**
 * The points a round evaluates: β (no step) or clip(β + t·Δ) for each step size, point-major.
 * @param beta - coefficients of the A active genes, A×p
 * @param step - Newton step on them, A×p (null: β alone)
 */
export function newtonPoints(
  beta: Float64Array,
  step: Float64Array | null,
  stepSizes: Float64Array,
  genes: number,
  p: number,
  maxBeta: number,
): Float64Array {
  const count = step === null ? 1 : stepSizes.length;
  const points = new Float64Array(count * genes * p);
  for (let s = 0; s < count; s++) {
    const t = step === null ? 0 : stepSizes[s];
    for (let a = 0; a < genes; a++) {
      for (let k = 0; k < p; k++) {
        const b = beta[a * p + k];
        const v = step === null ? b : b + t * step[a * p + k];
        points[(s * genes + a) * p + k] = Math.min(Math.max(v, -maxBeta), maxBeta);
      }
    }
  }
  return points;
}

/**
 * One center's share of a round of the `fast` solver.
 * @param kernels - where the kernel runs (this thread by default)
 */
export function newtonLocalStep(
  center: FitCenter,
  request: NewtonRequest,
  hp: FitHyperparameters,
  kernels: LocalKernels = directKernels,
): NewtonLocalShare {
  const dataset = withSampleTerms(datasetFor(center, request.refit));
  const { data } = dataset;
  const genes = maskIndices(request.mask);
  const p = data.p;
  if (
    request.mask.length !== data.genes ||
    request.coefficients !== p ||
    request.beta.length !== genes.length * p
  ) {
    throw new Error(
      `Newton request for ${request.mask.length} genes × ${request.coefficients} (${request.beta.length} coefficients), the center holds ${data.genes} × ${p}`,
    );
  }
  const step = request.round === 0 ? null : request.step;
  if (step !== null && step.length !== genes.length * p) {
    throw new Error(`Newton round ${request.round}: step missing or of the wrong size`);
  }
  const count = newtonPointCount(request);
  const points = newtonPoints(request.beta, step, request.stepSizes, genes.length, p, hp.maxBeta);
  const out = kernels.scoreAndInformation(dataset, genes, points, count, hp.minMu);
  return { kind: "newton-share", round: request.round, points: count, ...out };
}
