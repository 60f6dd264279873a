/**
 * Shared states and shares of the `fast` solver: Newton's method on IRLS's fixed-point
 * equation, with a multi-point line search evaluated in the same round trip.
 */
import type { GeneMask } from "../masks.js";

/** What the aggregator sends before a round (and keeps for itself). */
export interface NewtonRoundState {
  readonly kind: "newton-round";
  readonly round: number;
  readonly refit: boolean;
  /** Coefficients, G×p. */
  readonly beta: Float64Array;
  /** Genes still iterating. */
  readonly mask: GeneMask;
  /** Newton step Δ on mask, A×p (null at round 0): the centers evaluate β + t·Δ for each step size t. */
  readonly step: Float64Array | null;
  /** Step sizes t tried along Δ. */
  readonly stepSizes: Float64Array;
  /** Aggregator's own: merit FᵀJ⁻¹F at β on mask (A), and J⁻¹ there (A×p×p). */
  readonly merit: Float64Array | null;
  readonly metric: Float64Array | null;
  /** Regularised NLL (DESeq2's objective) at β, G. */
  readonly regNll: Float64Array;
  /** Round at which each gene finished (−1: still active). */
  readonly finishedRound: Int32Array;
  /** Genes that stopped without converging (no progress, or out of rounds). */
  readonly unconverged: GeneMask;
}

/** A center's sums at the evaluated points. */
export interface NewtonLocalShare {
  readonly kind: "newton-share";
  readonly round: number;
  /** Points per gene S. */
  readonly points: number;
  /** S×A NLL (μ floored). */
  readonly nll: Float64Array;
  /** S×A×p IRLS residual F. */
  readonly residual: Float64Array;
  /** S×A×p×p information −∂F/∂β. */
  readonly information: Float64Array;
}

/** Result of the `fast` solver. */
export interface NewtonFinalState {
  readonly kind: "newton-final";
  readonly beta: Float64Array;
  readonly finishedRound: Int32Array;
  readonly unconverged: GeneMask;
  readonly rounds: number;
}
