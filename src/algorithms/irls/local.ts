/**
 * The local step of federated IRLS: a center's XᵀWX, XᵀWz and NLL for the active genes.
 */
import { datasetFor, type FitCenter, withSampleTerms } from "../center.js";
import type { FitHyperparameters } from "../hyperparameters.js";
import { directKernels, type LocalKernels } from "../kernels.js";
import { maskIndices } from "../masks.js";
import type { IrlsLocalShare, IrlsRequest } from "./state.js";

/**
 * Compute one center's share of an IRLS round.
 * @param center - the center's data
 * @param request - the round's request (the active genes' coefficients)
 * @param hp - hyper-parameters (μ floor)
 * @param kernels - where the kernel runs (this thread by default)
 */
export function irlsLocalStep(
  center: FitCenter,
  request: IrlsRequest,
  hp: FitHyperparameters,
  kernels: LocalKernels = directKernels,
): IrlsLocalShare {
  // Upstream's IRLS sums each sample's NLL term whole (parity with its NLL to the last bits).
  const dataset = withSampleTerms(datasetFor(center, request.refit));
  const { data } = dataset;
  const genes = maskIndices(request.mask);
  if (
    request.mask.length !== data.genes ||
    request.coefficients !== data.p ||
    request.beta.length !== genes.length * data.p
  ) {
    throw new Error(
      `IRLS request for ${request.mask.length} genes × ${request.coefficients} (${request.beta.length} coefficients), the center holds ${data.genes} × ${data.p}`,
    );
  }
  const out = kernels.irlsSummandsAndNll(dataset, genes, request.beta, hp.minMu);
  return { kind: "irls-share", round: request.round, ...out };
}
