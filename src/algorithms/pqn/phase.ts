/**
 * Federated PQN as an iterative phase for the runner.
 */
import type { FitHyperparameters } from "../hyperparameters.js";
import type { LfcPhase } from "../lfc/steps.js";
import { maskCount } from "../masks.js";
import { pqnAggregate } from "./aggregate.js";
import { type PqnFinalState, type PqnRoundState, pqnRequest } from "./state.js";

/** The PQN phase with the given hyper-parameters. */
export function pqnPhase(hp: FitHyperparameters): LfcPhase<"pqn", PqnFinalState, PqnRoundState> {
  return {
    name: "pqn",
    step: "pqn",
    request: pqnRequest,
    aggregate: (state, replies) => pqnAggregate(state, replies, hp),
    isResult: (value): value is PqnFinalState => value.kind === "pqn-final",
    activeGenes: (state) => maskCount(state.mask),
    finish: (state) => {
      const divergedMask = state.divergedMask.slice();
      for (let g = 0; g < divergedMask.length; g++) divergedMask[g] |= state.mask[g];
      return {
        kind: "pqn-final",
        beta: state.beta,
        divergedMask,
        irlsDivergedMask: state.irlsDivergedMask,
      };
    },
  };
}
