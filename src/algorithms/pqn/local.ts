/**
 * The local step of the federated PQN: a center evaluates NLL, gradient and Fisher information
 * of its own samples for the active genes, at β (round 0) or along the line-search grid.
 */
import { datasetFor, type FitCenter, withSampleTerms } from "../center.js";
import type { FitHyperparameters } from "../hyperparameters.js";
import { lineSearchSteps } from "../hyperparameters.js";
import { directKernels, type LocalKernels } from "../kernels.js";
import { maskIndices } from "../masks.js";
import type { PqnLocalShare, PqnRequest } from "./state.js";

/**
 * Compute one center's share of a PQN round.
 * @param center - the center's data (never leaves the center)
 * @param request - the round's request every center received
 * @param hp - hyper-parameters (box, line-search length, μ floor)
 * @param kernels - where the kernel runs (this thread by default)
 */
export function pqnLocalStep(
  center: FitCenter,
  request: PqnRequest,
  hp: FitHyperparameters,
  kernels: LocalKernels = directKernels,
): PqnLocalShare {
  const dataset = withSampleTerms(datasetFor(center, request.refit));
  const { data } = dataset;
  const p = data.p;
  const genes = maskIndices(request.mask);
  if (
    request.mask.length !== data.genes ||
    request.coefficients !== p ||
    request.beta.length !== genes.length * p
  ) {
    throw new Error(
      `PQN request for ${request.mask.length} genes × ${request.coefficients} (${request.beta.length} coefficients), the center holds ${data.genes} × ${p}`,
    );
  }
  const firstRound = request.round === 0;
  const steps = firstRound ? null : lineSearchSteps(hp.pqnNumItersLs);
  const direction = firstRound ? null : request.direction;
  if (!firstRound && (direction === null || direction.length !== genes.length * p)) {
    throw new Error(`PQN round ${request.round}: ascent direction missing or of the wrong size`);
  }
  const out = kernels.fisherGradientNllAtSteps(
    dataset,
    genes,
    request.beta,
    direction,
    steps,
    { lower: -hp.maxBeta, upper: hp.maxBeta },
    hp.pqnMinMu,
  );
  return {
    kind: "pqn-share",
    round: request.round,
    steps: steps === null ? 1 : steps.length,
    nll: out.nll,
    gradient: out.gradient,
    fisher: out.fisher,
  };
}
