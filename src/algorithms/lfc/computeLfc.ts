/**
 * The log-fold-change fit with fixed dispersions (upstream's `compute_lfc`): β init, federated
 * IRLS, then PQN on the genes IRLS did not finish ("irls-pqn"), or PQN alone on every gene ("pqn").
 */
import type { FederationRunner } from "../../federation/runner.js";
import type { FitHyperparameters } from "../hyperparameters.js";
import { initAggregate } from "../init/aggregate.js";
import { irlsPhase } from "../irls/phase.js";
import type { GeneMask } from "../masks.js";
import { pqnPhase } from "../pqn/phase.js";
import { pqnCatchStart, pqnStart } from "../pqn/start.js";

/** Which solvers run. */
export type LfcMode = "irls-pqn" | "pqn";

/** The fitted coefficients and how each gene got them. */
export interface LfcResult {
  /** Coefficients, G×p, natural log. */
  readonly beta: Float64Array;
  /** The initial β, G×p. */
  readonly betaInit: Float64Array;
  /** Genes IRLS converged on (not passed to PQN). */
  readonly irlsConverged: GeneMask;
  /** Genes PQN fitted. */
  readonly pqnCaught: GeneMask;
  /** Genes PQN flagged (line-search failure or out of rounds). */
  readonly pqnDiverged: GeneMask;
}

/**
 * Run the fit over the runner's federation.
 * @param runner - the federation runner (its centers hold the G genes to fit)
 * @param hp - hyper-parameters
 * @param mode - "irls-pqn" (upstream's compute_lfc) or "pqn" (PQN from the init on every gene)
 * @param refit - fit the centers' refit datasets
 */
export async function computeLfc(
  runner: FederationRunner,
  hp: FitHyperparameters,
  mode: LfcMode,
  refit = false,
): Promise<LfcResult> {
  const initShares = await runner.round("init", "init", { kind: "init-request", refit });
  const irlsStart = initAggregate(initShares, refit);
  const betaInit = irlsStart.beta;
  const nGenes = irlsStart.mask.length;
  if (mode === "pqn") {
    const all = new Uint8Array(nGenes).fill(1);
    const final = await runner.runPhase(
      pqnPhase(hp),
      pqnStart(betaInit, all, new Uint8Array(nGenes), refit),
    );
    return {
      beta: final.beta,
      betaInit,
      irlsConverged: new Uint8Array(nGenes),
      pqnCaught: all,
      pqnDiverged: final.divergedMask,
    };
  }
  const irlsEnd = await runner.runPhase(irlsPhase(hp), irlsStart);
  const start = pqnCatchStart(irlsEnd, betaInit, refit);
  const final = await runner.runPhase(pqnPhase(hp), start);
  const irlsConverged = new Uint8Array(nGenes);
  for (let g = 0; g < nGenes; g++) irlsConverged[g] = start.mask[g] ? 0 : 1;
  return {
    beta: final.beta,
    betaInit,
    irlsConverged,
    pqnCaught: start.mask,
    pqnDiverged: final.divergedMask,
  };
}
