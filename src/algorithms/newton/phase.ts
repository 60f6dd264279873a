/**
 * The `fast` solver as an iterative phase for the runner.
 */
import type { FitHyperparameters } from "../hyperparameters.js";
import type { LfcPhase } from "../lfc/steps.js";
import { maskCount } from "../masks.js";
import { newtonAggregate } from "./aggregate.js";
import {
  type NewtonFinalState,
  type NewtonRoundState,
  newtonRequest,
  newtonShareOf,
} from "./state.js";

/** Round budget of the `fast` solver: with the initialisation, 30 round trips at most. */
export const FAST_MAX_ROUNDS = 28;

/** The Newton phase. */
export function newtonPhase(
  hp: FitHyperparameters,
  maxRounds = FAST_MAX_ROUNDS,
): LfcPhase<"newton", NewtonFinalState, NewtonRoundState> {
  return {
    name: "newton",
    step: "newton",
    request: newtonRequest,
    aggregate: (state, replies) => {
      const p = state.mask.length === 0 ? 0 : state.beta.length / state.mask.length;
      return newtonAggregate(
        state,
        replies.map((r) => newtonShareOf(r, p)),
        hp,
        maxRounds,
      );
    },
    isResult: (value): value is NewtonFinalState => value.kind === "newton-final",
    activeGenes: (state) => maskCount(state.mask),
    finish: (state) => ({
      kind: "newton-final",
      beta: state.beta,
      finishedRound: state.finishedRound,
      unconverged: state.unconverged,
      rounds: state.round,
    }),
  };
}
