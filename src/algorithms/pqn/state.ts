/**
 * Shared states and local shares of the federated proximal quasi-Newton (PQN) solver.
 *
 * Everything here is plain data (typed arrays, numbers, booleans): it can be cloned,
 * serialised and sent across a process or network boundary. Per-gene arrays run over the
 * G non-zero genes of the fit; arrays "on mask" run over the A genes set in `mask`, in
 * increasing gene order.
 */
import { type GeneMask, gatherRows, maskIndices } from "../masks.js";

/** What the aggregator sends to every center before a PQN round (upstream's PQN shared state). */
export interface PqnRoundState {
  readonly kind: "pqn-round";
  /** Round number t (0 … pqnNumIters). */
  readonly round: number;
  /** Run on the centers' refit datasets (outlier-replaced counts) instead of the main ones. */
  readonly refit: boolean;
  /** Current coefficients, G×p (natural log). */
  readonly beta: Float64Array;
  /** Genes still iterating. */
  readonly mask: GeneMask;
  /** Genes that failed the line search (or ran out of rounds). */
  readonly divergedMask: GeneMask;
  /** Carried through for the caller: genes IRLS did not finish (irls_catch) or upstream's input. */
  readonly irlsDivergedMask: GeneMask;
  /** Regularised NLL at `beta`, G (NaN for genes never evaluated). */
  readonly regNll: Float64Array;
  /** Ascent direction on mask, A×p (null at round 0). */
  readonly direction: Float64Array | null;
  /** Newton decrement gᵀd on mask, A (null at round 0). */
  readonly decrement: Float64Array | null;
}

/**
 * What a center receives for a PQN round: the request part of {@link PqnRoundState} (the active
 * genes' coefficients and, after round 0, their ascent direction).
 */
export interface PqnRequest {
  readonly kind: "pqn-request";
  readonly round: number;
  readonly refit: boolean;
  /** Design columns p. */
  readonly coefficients: number;
  /** Genes still iterating, over the fitted genes (G). */
  readonly mask: GeneMask;
  /** Their coefficients, A×p in mask order. */
  readonly beta: Float64Array;
  /** Ascent direction on mask, A×p (empty at round 0). */
  readonly direction: Float64Array;
}

/** The request the centers are sent in a round state. */
export function pqnRequest(state: PqnRoundState): PqnRequest {
  const p = state.mask.length === 0 ? 0 : state.beta.length / state.mask.length;
  return {
    kind: "pqn-request",
    round: state.round,
    refit: state.refit,
    coefficients: p,
    mask: state.mask,
    beta: gatherRows(state.beta, p, maskIndices(state.mask)),
    direction: state.direction ?? new Float64Array(0),
  };
}

/** What one center returns for a PQN round: its sums over its own samples, nothing per sample. */
export interface PqnLocalShare {
  readonly kind: "pqn-share";
  /** The round this share answers. */
  readonly round: number;
  /** Number of evaluation points per gene S (1 at round 0, the line-search length after). */
  readonly steps: number;
  /** Un-regularised NLL at each point, S×A. */
  readonly nll: Float64Array;
  /** Gradient at each point, S×A×p. */
  readonly gradient: Float64Array;
  /** Fisher information at each point, as upper triangles: S×A×p(p+1)/2. */
  readonly fisher: Float64Array;
}

/** {@link PqnLocalShare} as sent. */
export interface PqnReply {
  readonly kind: "pqn-reply";
  readonly round: number;
  readonly steps: number;
  readonly nll: Float64Array;
  readonly gradient: Float64Array;
  /** S×A×p(p+1)/2. */
  readonly fisher: Float64Array;
}

/** A share as sent. */
export function pqnReply(share: PqnLocalShare): PqnReply {
  return {
    kind: "pqn-reply",
    round: share.round,
    steps: share.steps,
    nll: share.nll,
    gradient: share.gradient,
    fisher: share.fisher,
  };
}

/** The aggregator's output after the last PQN round. */
export interface PqnFinalState {
  readonly kind: "pqn-final";
  /** Final coefficients, G×p. */
  readonly beta: Float64Array;
  /** Genes flagged during the run or still iterating when rounds ran out. */
  readonly divergedMask: GeneMask;
  /** As carried by the round states. */
  readonly irlsDivergedMask: GeneMask;
}
