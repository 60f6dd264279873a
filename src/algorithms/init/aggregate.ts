/**
 * Aggregation of the β initialisation: β0 = (Σ X_cᵀX_c)⁻¹ Σ X_cᵀ ln(y/s + 0.1), the first
 * IRLS state (every gene active, NLL 1000 as upstream).
 */
import { solveMany } from "../../math/linalg.js";
import type { IrlsRoundState } from "../irls/state.js";
import { sumOverCenters } from "../shares.js";
import type { InitLocalShare } from "./state.js";

/** Sum of the centers' Gram matrices, in federation order. */
export function globalGram(shares: readonly InitLocalShare[]): Float64Array {
  return sumOverCenters(shares, "gram");
}

/**
 * Build the initial β and the IRLS round-0 state.
 * @param shares - one share per center, in federation order
 * @param refit - whether the fit runs on refit datasets
 * @throws SingularMatrixError when the pooled Gram matrix is singular (check the design first)
 */
export function initAggregate(shares: readonly InitLocalShare[], refit = false): IrlsRoundState {
  if (shares.length === 0) throw new Error("β initialisation needs at least one share");
  const gram = globalGram(shares);
  const p = Math.round(Math.sqrt(gram.length));
  const features = sumOverCenters(shares, "logFeatures");
  const nGenes = features.length / p;
  const beta = new Float64Array(features.length);
  solveMany(gram, features, p, nGenes, beta);
  return {
    kind: "irls-round",
    round: 0,
    refit,
    beta,
    mask: new Uint8Array(nGenes).fill(1),
    divergedMask: new Uint8Array(nGenes),
    nll: new Float64Array(nGenes).fill(1000),
  };
}
