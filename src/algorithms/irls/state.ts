/**
 * Shared states and local shares of federated IRLS (plain, serialisable data).
 */
import { packSymmetric, unpackSymmetric } from "../lfc/symmetric.js";
import { type GeneMask, gatherRows, maskIndices } from "../masks.js";

/** What the aggregator sends to every center before an IRLS round. */
export interface IrlsRoundState {
  readonly kind: "irls-round";
  /** Round k (0 … irlsNumIter): the local step evaluates the β computed by aggregation k − 1. */
  readonly round: number;
  /** Run on the refit datasets. */
  readonly refit: boolean;
  /** Coefficients, G×p. */
  readonly beta: Float64Array;
  /** Genes still iterating. */
  readonly mask: GeneMask;
  /** Genes with a coefficient beyond the box. */
  readonly divergedMask: GeneMask;
  /** Pooled NLL at the previous evaluation, G (1000 before the first). */
  readonly nll: Float64Array;
}

/**
 * What a center receives for an IRLS round: the request part of {@link IrlsRoundState} (the
 * coefficients of the genes still iterating; the rest is the aggregator's bookkeeping).
 */
export interface IrlsRequest {
  readonly kind: "irls-request";
  readonly round: number;
  /** Run on the refit datasets. */
  readonly refit: boolean;
  /** Design columns p. */
  readonly coefficients: number;
  /** Genes still iterating, over the fitted genes (G). */
  readonly mask: GeneMask;
  /** Their coefficients, A×p in mask order. */
  readonly beta: Float64Array;
}

/** The request the centers are sent in a round state. */
export function irlsRequest(state: IrlsRoundState): IrlsRequest {
  const p = state.mask.length === 0 ? 0 : state.beta.length / state.mask.length;
  return {
    kind: "irls-request",
    round: state.round,
    refit: state.refit,
    coefficients: p,
    mask: state.mask,
    beta: gatherRows(state.beta, p, maskIndices(state.mask)),
  };
}

/** One center's IRLS sums for the active genes. */
export interface IrlsLocalShare {
  readonly kind: "irls-share";
  readonly round: number;
  /** NLL at β, A (NaN where a sample overflowed). */
  readonly nll: Float64Array;
  /** XᵀWX, A×p×p. */
  readonly hatMatrix: Float64Array;
  /** XᵀWz, A×p. */
  readonly features: Float64Array;
}

/** {@link IrlsLocalShare} as sent: XᵀWX as packed upper triangles, A×p(p+1)/2. */
export interface IrlsReply {
  readonly kind: "irls-reply";
  readonly round: number;
  readonly nll: Float64Array;
  readonly hatMatrix: Float64Array;
  readonly features: Float64Array;
}

/** A share as sent (p design columns). */
export function irlsReply(share: IrlsLocalShare, p: number): IrlsReply {
  return {
    kind: "irls-reply",
    round: share.round,
    nll: share.nll,
    hatMatrix: packSymmetric(share.hatMatrix, p),
    features: share.features,
  };
}

/** A share as received (p design columns). */
export function irlsShareOf(reply: IrlsReply, p: number): IrlsLocalShare {
  return {
    kind: "irls-share",
    round: reply.round,
    nll: reply.nll,
    hatMatrix: unpackSymmetric(reply.hatMatrix, p),
    features: reply.features,
  };
}

/** The aggregator's output after the last IRLS round (input of the PQN catch). */
export interface IrlsEndState {
  readonly kind: "irls-end";
  readonly round: number;
  readonly refit: boolean;
  readonly beta: Float64Array;
  /** Genes not converged when IRLS stopped. */
  readonly mask: GeneMask;
  readonly divergedMask: GeneMask;
  readonly nll: Float64Array;
}
