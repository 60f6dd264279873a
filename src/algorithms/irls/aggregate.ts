/**
 * The aggregation step of federated IRLS: pooled NLL, deviance-ratio convergence, divergence
 * beyond the box, and the ridge-regularised Newton update β = (XᵀWX + λI)⁻¹ XᵀWz.
 */
import { solveBatch } from "../../math/linalg.js";
import type { FitHyperparameters } from "../hyperparameters.js";
import { RIDGE } from "../hyperparameters.js";
import { maskIndices } from "../masks.js";
import { sumOverCenters } from "../shares.js";
import type { IrlsEndState, IrlsLocalShare, IrlsRoundState } from "./state.js";

/**
 * Aggregate one IRLS round (upstream's `make_global_irls_update`). Pure.
 * @param state - the state the centers received
 * @param shares - one share per center, in federation order
 * @param hp - hyper-parameters
 * @returns the next round state, or the end state after round `irlsNumIter`
 */
export function irlsAggregate(
  state: IrlsRoundState,
  shares: readonly IrlsLocalShare[],
  hp: FitHyperparameters,
): IrlsRoundState | IrlsEndState {
  const nGenes = state.mask.length;
  const p = state.beta.length / nGenes;
  const pp = p * p;
  const active = maskIndices(state.mask);
  if (shares.length === 0) throw new Error("IRLS aggregation needs at least one share");
  for (const [c, s] of shares.entries()) {
    if (
      s.round !== state.round ||
      s.nll.length !== active.length ||
      s.hatMatrix.length !== active.length * pp
    ) {
      throw new Error(
        `IRLS share ${c} does not answer round ${state.round} on ${active.length} genes`,
      );
    }
  }
  const beta = state.beta.slice();
  let mask = state.mask.slice();
  let divergedMask = state.divergedMask.slice();
  let nll = state.nll.slice();
  const hat = sumOverCenters(shares, "hatMatrix");
  const features = sumOverCenters(shares, "features");
  const nllOnMask = sumOverCenters(shares, "nll");

  // Which of the previously active genes stay active (row j of hat/features is active[j]).
  let keep: Int32Array;
  if (state.round === 0) {
    nll = new Float64Array(nGenes);
    for (let a = 0; a < active.length; a++) nll[active[a]] = nllOnMask[a];
    keep = Int32Array.from(active.keys());
  } else {
    const old = state.nll;
    for (let a = 0; a < active.length; a++) nll[active[a]] = nllOnMask[a];
    const nextMask = new Uint8Array(nGenes);
    const nextDiverged = new Uint8Array(nGenes);
    for (let g = 0; g < nGenes; g++) {
      let beyond = false;
      for (let k = 0; k < p; k++) if (Math.abs(beta[g * p + k]) > hp.maxBeta) beyond = true;
      nextDiverged[g] = divergedMask[g] || beyond ? 1 : 0;
      const ratio = Math.abs(2 * nll[g] - 2 * old[g]) / (Math.abs(2 * nll[g]) + 0.1);
      nextMask[g] = mask[g] && ratio > hp.betaTol && !nextDiverged[g] ? 1 : 0;
    }
    mask = nextMask;
    divergedMask = nextDiverged;
    const rows: number[] = [];
    for (let a = 0; a < active.length; a++) if (mask[active[a]]) rows.push(a);
    keep = Int32Array.from(rows);
  }

  if (state.round === hp.irlsNumIter) {
    return {
      kind: "irls-end",
      round: state.round,
      refit: state.refit,
      beta,
      mask,
      divergedMask,
      nll,
    };
  }

  const system = new Float64Array(keep.length * pp);
  const rhs = new Float64Array(keep.length * p);
  for (let j = 0; j < keep.length; j++) {
    const a = keep[j];
    system.set(hat.subarray(a * pp, a * pp + pp), j * pp);
    for (let k = 0; k < p; k++) system[j * pp + k * p + k] += RIDGE;
    rhs.set(features.subarray(a * p, a * p + p), j * p);
  }
  const solution = new Float64Array(keep.length * p);
  solveBatch(system, rhs, p, keep.length, solution);
  for (let j = 0; j < keep.length; j++) {
    const g = active[keep[j]];
    beta.set(solution.subarray(j * p, j * p + p), g * p);
  }
  return {
    kind: "irls-round",
    round: state.round + 1,
    refit: state.refit,
    beta,
    mask,
    divergedMask,
    nll,
  };
}
