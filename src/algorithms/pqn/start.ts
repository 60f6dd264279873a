/**
 * Entry points of the federated PQN: the `irls_catch` start (genes IRLS did not finish,
 * restarted from the initial β) and a plain start on a chosen set of genes.
 */
import type { GeneMask } from "../masks.js";
import type { PqnRoundState } from "./state.js";

/** What PQN needs of the IRLS end state. */
export interface IrlsOutcome {
  /** β at the end of IRLS, G×p. */
  readonly beta: Float64Array;
  /** Genes still iterating when IRLS stopped (not converged). */
  readonly mask: GeneMask;
  /** Genes IRLS flagged as diverged (|β| beyond the box). */
  readonly divergedMask: GeneMask;
}

/**
 * Round-0 PQN state catching the genes IRLS did not finish (upstream's `irls_catch`):
 * the PQN mask is `mask | divergedMask`, those genes restart from `betaInit`, and the
 * carried `irlsDivergedMask` becomes that PQN mask (as upstream).
 * @param irls - the IRLS end state
 * @param betaInit - the initial β of the fit (G×p)
 * @param refit - run on the refit datasets
 */
export function pqnCatchStart(
  irls: IrlsOutcome,
  betaInit: Float64Array,
  refit = false,
): PqnRoundState {
  const nGenes = irls.mask.length;
  const p = irls.beta.length / nGenes;
  const mask = new Uint8Array(nGenes);
  const beta = irls.beta.slice();
  for (let g = 0; g < nGenes; g++) {
    mask[g] = irls.mask[g] | irls.divergedMask[g];
    if (mask[g]) beta.set(betaInit.subarray(g * p, g * p + p), g * p);
  }
  return {
    kind: "pqn-round",
    round: 0,
    refit,
    beta,
    mask,
    divergedMask: new Uint8Array(nGenes),
    irlsDivergedMask: mask.slice(),
    regNll: new Float64Array(nGenes).fill(Number.NaN),
    direction: null,
    decrement: null,
  };
}

/**
 * Round-0 PQN state fitting the genes of `mask` from `beta` (upstream's PQN-only setting).
 * @param beta - starting coefficients, G×p
 * @param mask - genes to fit
 * @param irlsDivergedMask - carried through unchanged (upstream's field)
 * @param refit - run on the refit datasets
 */
export function pqnStart(
  beta: Float64Array,
  mask: GeneMask,
  irlsDivergedMask: GeneMask = new Uint8Array(mask.length),
  refit = false,
): PqnRoundState {
  return {
    kind: "pqn-round",
    round: 0,
    refit,
    beta: beta.slice(),
    mask: mask.slice(),
    divergedMask: new Uint8Array(mask.length),
    irlsDivergedMask: irlsDivergedMask.slice(),
    regNll: new Float64Array(mask.length).fill(Number.NaN),
    direction: null,
    decrement: null,
  };
}
