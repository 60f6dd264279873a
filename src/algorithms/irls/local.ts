/**
 * The local step of federated IRLS: a center's XᵀWX, XᵀWz and NLL for the active genes.
 */
import { datasetFor, type FitCenter } from "../center.js";
import type { FitHyperparameters } from "../hyperparameters.js";
import { directKernels, type LocalKernels } from "../kernels.js";
import { gatherRows, maskIndices } from "../masks.js";
import type { IrlsLocalShare, IrlsRoundState } from "./state.js";

/**
 * Compute one center's share of an IRLS round.
 * @param center - the center's data
 * @param state - the round state
 * @param hp - hyper-parameters (μ floor)
 * @param kernels - where the kernel runs (this thread by default)
 */
export function irlsLocalStep(
  center: FitCenter,
  state: IrlsRoundState,
  hp: FitHyperparameters,
  kernels: LocalKernels = directKernels,
): IrlsLocalShare {
  const dataset = datasetFor(center, state.refit);
  const { data } = dataset;
  if (state.beta.length !== data.genes * data.p) {
    throw new Error(
      `IRLS state has ${state.beta.length / data.p} genes, the center holds ${data.genes}`,
    );
  }
  const genes = maskIndices(state.mask);
  const out = kernels.irlsSummandsAndNll(
    dataset,
    genes,
    gatherRows(state.beta, data.p, genes),
    hp.minMu,
  );
  return { kind: "irls-share", round: state.round, ...out };
}
