/**
 * Local step of the `fast` solver: a center's NLL, IRLS residual and information at β (round 0)
 * or at every candidate β + t·Δ of the line search.
 */
import { datasetFor, type FitCenter } from "../center.js";
import type { FitHyperparameters } from "../hyperparameters.js";
import { directKernels, type LocalKernels } from "../kernels.js";
import { maskIndices } from "../masks.js";
import type { NewtonLocalShare, NewtonRoundState } from "./state.js";

/** The points a round evaluates: β (round 0) or clip(β + t·Δ) for each step size, point-major. */
export function newtonPoints(
  state: NewtonRoundState,
  genes: Int32Array,
  p: number,
  maxBeta: number,
): Float64Array {
  const count = state.step === null ? 1 : state.stepSizes.length;
  const points = new Float64Array(count * genes.length * p);
  for (let s = 0; s < count; s++) {
    const t = state.step === null ? 0 : state.stepSizes[s];
    for (let a = 0; a < genes.length; a++) {
      for (let k = 0; k < p; k++) {
        const b = state.beta[genes[a] * p + k];
        const v = state.step === null ? b : b + t * state.step[a * p + k];
        points[(s * genes.length + a) * p + k] = Math.min(Math.max(v, -maxBeta), maxBeta);
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
  state: NewtonRoundState,
  hp: FitHyperparameters,
  kernels: LocalKernels = directKernels,
): NewtonLocalShare {
  const dataset = datasetFor(center, state.refit);
  const { data } = dataset;
  const genes = maskIndices(state.mask);
  const count = state.step === null ? 1 : state.stepSizes.length;
  const points = newtonPoints(state, genes, data.p, hp.maxBeta);
  const out = kernels.scoreAndInformation(dataset, genes, points, count, hp.minMu);
  return { kind: "newton-share", round: state.round, points: count, ...out };
}
