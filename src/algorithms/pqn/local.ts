/**
 * The local step of the federated PQN: a center evaluates NLL, gradient and Fisher information
 * of its own samples for the active genes, at β (round 0) or along the line-search grid.
 */
import { datasetFor, type FitCenter } from "../center.js";
import type { FitHyperparameters } from "../hyperparameters.js";
import { lineSearchSteps } from "../hyperparameters.js";
import { directKernels, type LocalKernels } from "../kernels.js";
import { gatherRows, maskIndices } from "../masks.js";
import type { PqnLocalShare, PqnRoundState } from "./state.js";

/**
 * Compute one center's share of a PQN round.
 * @param center - the center's data (never leaves the center)
 * @param state - the round state every center received
 * @param hp - hyper-parameters (box, line-search length, μ floor)
 * @param kernels - where the kernel runs (this thread by default)
 */
export function pqnLocalStep(
  center: FitCenter,
  state: PqnRoundState,
  hp: FitHyperparameters,
  kernels: LocalKernels = directKernels,
): PqnLocalShare {
  const dataset = datasetFor(center, state.refit);
  const { data } = dataset;
  const p = data.p;
  if (state.beta.length !== data.genes * p) {
    throw new Error(`PQN state has ${state.beta.length / p} genes, the center holds ${data.genes}`);
  }
  const genes = maskIndices(state.mask);
  const beta = gatherRows(state.beta, p, genes);
  const firstRound = state.round === 0;
  const steps = firstRound ? null : lineSearchSteps(hp.pqnNumItersLs);
  const direction = firstRound ? null : state.direction;
  if (!firstRound && (direction === null || direction.length !== genes.length * p)) {
    throw new Error(`PQN round ${state.round}: ascent direction missing or of the wrong size`);
  }
  const out = kernels.fisherGradientNllAtSteps(
    dataset,
    genes,
    beta,
    direction,
    steps,
    { lower: -hp.maxBeta, upper: hp.maxBeta },
    hp.pqnMinMu,
  );
  return {
    kind: "pqn-share",
    round: state.round,
    steps: steps === null ? 1 : steps.length,
    nll: out.nll,
    gradient: out.gradient,
    fisher: out.fisher,
  };
}
