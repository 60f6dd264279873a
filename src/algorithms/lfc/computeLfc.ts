/**
 * The log-fold-change fit with fixed dispersions (upstream's `compute_lfc`): β init, federated
 * IRLS, then PQN on the genes IRLS did not finish ("irls-pqn"), or PQN alone on every gene
 * ("pqn"). Every state the fit reaches can be saved as a checkpoint and the fit resumed from it.
 */
import type { FederationRunner } from "../../federation/runner.js";
import type { FitHyperparameters } from "../hyperparameters.js";
import { initAggregate } from "../init/aggregate.js";
import { irlsPhase } from "../irls/phase.js";
import type { IrlsRoundState } from "../irls/state.js";
import type { GeneMask } from "../masks.js";
import { pqnPhase } from "../pqn/phase.js";
import { pqnCatchStart, pqnStart } from "../pqn/start.js";
import type { PqnRoundState } from "../pqn/state.js";

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

/** A point from which the fit can resume: the state about to be sent to the centers. */
export type LfcCheckpoint =
  | { readonly stage: "irls"; readonly betaInit: Float64Array; readonly state: IrlsRoundState }
  | {
      readonly stage: "pqn";
      readonly betaInit: Float64Array;
      /** Genes PQN fits (its start mask). */
      readonly caught: GeneMask;
      readonly state: PqnRoundState;
    };

/** Options of {@link computeLfc}. */
export interface LfcOptions {
  /** Fit the centers' refit datasets. */
  readonly refit?: boolean;
  /** Resume from this checkpoint instead of starting with the β initialisation. */
  readonly resume?: LfcCheckpoint;
  /** Called with every state the fit reaches, before it is sent to the centers. */
  readonly onCheckpoint?: (checkpoint: LfcCheckpoint) => void;
}

/**
 * Run the fit over the runner's federation (its centers must be prepared).
 * @param runner - the federation runner
 * @param hp - hyper-parameters
 * @param mode - "irls-pqn" (upstream's compute_lfc) or "pqn" (PQN from the init on every gene)
 */
export async function computeLfc(
  runner: FederationRunner,
  hp: FitHyperparameters,
  mode: LfcMode,
  options: LfcOptions = {},
): Promise<LfcResult> {
  const refit = options.refit ?? false;
  const save = options.onCheckpoint ?? (() => {});
  let checkpoint = options.resume;
  if (checkpoint === undefined) {
    const initShares = await runner.round("init", "init", { kind: "init-request", refit });
    const irlsStart = initAggregate(initShares, refit);
    const nGenes = irlsStart.mask.length;
    const betaInit = irlsStart.beta;
    if (mode === "pqn") {
      const all = new Uint8Array(nGenes).fill(1);
      checkpoint = {
        stage: "pqn",
        betaInit,
        caught: all,
        state: pqnStart(betaInit, all, new Uint8Array(nGenes), refit),
      };
    } else {
      checkpoint = { stage: "irls", betaInit, state: irlsStart };
    }
    save(checkpoint);
  }
  const { betaInit } = checkpoint;
  if (checkpoint.stage === "irls") {
    const irlsEnd = await runner.runPhase(irlsPhase(hp), checkpoint.state, (state) =>
      save({ stage: "irls", betaInit, state }),
    );
    const start = pqnCatchStart(irlsEnd, betaInit, refit);
    checkpoint = { stage: "pqn", betaInit, caught: start.mask, state: start };
    save(checkpoint);
  }
  const { caught } = checkpoint;
  const final = await runner.runPhase(pqnPhase(hp), checkpoint.state, (state) =>
    save({ stage: "pqn", betaInit, caught, state }),
  );
  const nGenes = caught.length;
  const irlsConverged = new Uint8Array(nGenes);
  if (mode === "irls-pqn") for (let g = 0; g < nGenes; g++) irlsConverged[g] = caught[g] ? 0 : 1;
  return {
    beta: final.beta,
    betaInit,
    irlsConverged,
    pqnCaught: caught,
    pqnDiverged: final.divergedMask,
  };
}
