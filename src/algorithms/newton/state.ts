/**
 * Shared states and shares of the `fast` solver: Newton's method on IRLS's fixed-point
 * equation, with a multi-point line search evaluated in the same round trip.
 */
import { packSymmetric, unpackSymmetric } from "../lfc/symmetric.js";
import { type GeneMask, gatherRows, maskIndices } from "../masks.js";

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

/**
 * What a center receives for a round: the request part of {@link NewtonRoundState} (the active
 * genes' coefficients, and after round 0 their Newton step and the step sizes to try).
 */
export interface NewtonRequest {
  readonly kind: "newton-request";
  readonly round: number;
  readonly refit: boolean;
  /** Design columns p. */
  readonly coefficients: number;
  /** Genes still iterating, over the fitted genes (G). */
  readonly mask: GeneMask;
  /** Their coefficients, A×p in mask order. */
  readonly beta: Float64Array;
  /** Newton step Δ on mask, A×p (empty at round 0, where β alone is evaluated). */
  readonly step: Float64Array;
  /** Step sizes t tried along Δ. */
  readonly stepSizes: Float64Array;
}

/** The request the centers are sent in a round state. */
export function newtonRequest(state: NewtonRoundState): NewtonRequest {
  const p = state.mask.length === 0 ? 0 : state.beta.length / state.mask.length;
  return {
    kind: "newton-request",
    round: state.round,
    refit: state.refit,
    coefficients: p,
    mask: state.mask,
    beta: gatherRows(state.beta, p, maskIndices(state.mask)),
    step: state.step ?? new Float64Array(0),
    stepSizes: state.stepSizes,
  };
}

/** Points per gene a request has evaluated: β alone at round 0, else one per step size. */
export function newtonPointCount(request: NewtonRequest): number {
  return request.round === 0 ? 1 : request.stepSizes.length;
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

/** {@link NewtonLocalShare} as sent: the information as packed upper triangles. */
export interface NewtonReply {
  readonly kind: "newton-reply";
  readonly round: number;
  readonly points: number;
  readonly nll: Float64Array;
  readonly residual: Float64Array;
  /** S×A×p(p+1)/2. */
  readonly information: Float64Array;
}

/** A share as sent (p design columns). */
export function newtonReply(share: NewtonLocalShare, p: number): NewtonReply {
  return {
    kind: "newton-reply",
    round: share.round,
    points: share.points,
    nll: share.nll,
    residual: share.residual,
    information: packSymmetric(share.information, p),
  };
}

/** A share as received (p design columns). */
export function newtonShareOf(reply: NewtonReply, p: number): NewtonLocalShare {
  return {
    kind: "newton-share",
    round: reply.round,
    points: reply.points,
    nll: reply.nll,
    residual: reply.residual,
    information: unpackSymmetric(reply.information, p),
  };
}

/** Result of the `fast` solver. */
export interface NewtonFinalState {
  readonly kind: "newton-final";
  readonly beta: Float64Array;
  readonly finishedRound: Int32Array;
  readonly unconverged: GeneMask;
  readonly rounds: number;
}
