/**
 * Aggregation of the β initialisation: β0 = (Σ X_cᵀX_c)⁻¹ Σ X_cᵀ ln(y/s + 0.1), the first
 * IRLS state (every gene active, NLL 1000 as upstream).
 */
import { solveMany } from "../../math/linalg.js";
import type { IrlsRoundState } from "../irls/state.js";
import type { InitLocalShare } from "./state.js";

/** Sum of the centers' Gram matrices, in federation order. */
export function globalGram(shares: readonly InitLocalShare[]): Float64Array {
  const gram = shares[0].gram.slice();
  for (let c = 1; c < shares.length; c++) {
    for (let i = 0; i < gram.length; i++) gram[i] += shares[c].gram[i];
  }
  return gram;
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
  const features = shares[0].logFeatures.slice();
  for (let c = 1; c < shares.length; c++) {
    const f = shares[c].logFeatures;
    if (f.length !== features.length)
      throw new Error(`init share ${c} has ${f.length / p} genes, expected ${features.length / p}`);
    for (let i = 0; i < features.length; i++) features[i] += f[i];
  }
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
