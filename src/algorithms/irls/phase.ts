/**
 * Federated IRLS as an iterative phase for the runner.
 */
import type { FitHyperparameters } from "../hyperparameters.js";
import type { LfcPhase } from "../lfc/steps.js";
import { maskCount } from "../masks.js";
import { irlsAggregate } from "./aggregate.js";
import type { IrlsEndState } from "./state.js";

/** The IRLS phase with the given hyper-parameters. */
export function irlsPhase(hp: FitHyperparameters): LfcPhase<"irls", IrlsEndState> {
  return {
    name: "irls",
    step: "irls",
    aggregate: (state, shares) => irlsAggregate(state, shares, hp),
    isResult: (value): value is IrlsEndState => value.kind === "irls-end",
    activeGenes: (state) => maskCount(state.mask),
    finish: (state) => ({
      kind: "irls-end",
      round: hp.irlsNumIter,
      refit: state.refit,
      beta: state.beta,
      mask: state.mask,
      divergedMask: state.divergedMask,
      nll: state.nll,
    }),
  };
}
