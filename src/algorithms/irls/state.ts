/**
 * Shared states and local shares of federated IRLS (plain, serialisable data).
 */
import type { GeneMask } from "../masks.js";

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
