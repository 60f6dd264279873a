/**
 * Federated IRLS as an iterative phase for the runner.
 */
import type { FitHyperparameters } from "../hyperparameters.js";
import type { LfcPhase } from "../lfc/steps.js";
import { maskCount } from "../masks.js";
import { irlsAggregate } from "./aggregate.js";
import { type IrlsEndState, type IrlsRoundState, irlsRequest, irlsShareOf } from "./state.js";

/** The IRLS phase with the given hyper-parameters. */
export function irlsPhase(hp: FitHyperparameters): LfcPhase<"irls", IrlsEndState, IrlsRoundState> {
  return {
    name: "irls",
    step: "irls",
    request: irlsRequest,
    aggregate: (state, replies) => {
      const p = state.mask.length === 0 ? 0 : state.beta.length / state.mask.length;
      return irlsAggregate(
        state,
        replies.map((r) => irlsShareOf(r, p)),
        hp,
      );
    },
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
