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
import { newtonStart } from "../newton/aggregate.js";
import { newtonPhase } from "../newton/phase.js";
import type { NewtonRoundState } from "../newton/state.js";
import { pqnPhase } from "../pqn/phase.js";
import { pqnCatchStart, pqnStart } from "../pqn/start.js";
import type { PqnRoundState } from "../pqn/state.js";

/** Which solvers run. */
export type LfcMode = "irls-pqn" | "pqn";

/**
 * Which solver: `upstream` (fedpydeseq2's IRLS and PQN, at parity) or `fast` (Newton's method on
 * IRLS's fixed-point equation with a multi-point line search: DESeq2's answer in ≤ 30 rounds).
 */
export type LfcSolver = "upstream" | "fast";

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
  /** Round trip (init = 1) after which each gene's coefficients were final. */
  readonly finishedRound: Int32Array;
}

/** A point from which the fit can resume: the state about to be sent to the centers. */
export type LfcCheckpoint =
  | {
      readonly stage: "irls";
      readonly betaInit: Float64Array;
      readonly state: IrlsRoundState;
      /** Round trip after which each gene was final so far (−1: not yet). */
      readonly finished?: Int32Array;
    }
  | { readonly stage: "newton"; readonly betaInit: Float64Array; readonly state: NewtonRoundState }
  | {
      readonly stage: "pqn";
      readonly betaInit: Float64Array;
      /** Genes PQN fits (its start mask). */
      readonly caught: GeneMask;
      readonly state: PqnRoundState;
      readonly finished?: Int32Array;
    };

/** Options of {@link computeLfc}. */
export interface LfcOptions {
  /** Fit the centers' refit datasets. */
  readonly refit?: boolean;
  /** Resume from this checkpoint instead of starting with the β initialisation. */
  readonly resume?: LfcCheckpoint;
  /** Called with every state the fit reaches, before it is sent to the centers. */
  readonly onCheckpoint?: (checkpoint: LfcCheckpoint) => void;
  /** The solver (default `upstream`). */
  readonly solver?: LfcSolver;
}

/** Round trips of the runner so far (init included). */
function roundsSoFar(runner: FederationRunner): number {
  const r = runner.ledger.rounds;
  return (r.init ?? 0) + (r.irls ?? 0) + (r.pqn ?? 0) + (r.newton ?? 0);
}

/** Record, for genes that just left `previous`, the round they finished at. */
function markFinished(
  finished: Int32Array,
  previous: GeneMask,
  next: GeneMask,
  round: number,
): void {
  for (let g = 0; g < finished.length; g++) if (previous[g] && !next[g]) finished[g] = round;
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
  if (options.solver === "fast" || options.resume?.stage === "newton") {
    return computeLfcFast(runner, hp, refit, options.resume, save);
  }
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
  const finished =
    checkpoint.finished !== undefined
      ? checkpoint.finished.slice()
      : new Int32Array(checkpoint.state.mask.length).fill(-1);
  if (checkpoint.stage === "irls") {
    let previous = checkpoint.state.mask;
    const irlsEnd = await runner.runPhase(irlsPhase(hp), checkpoint.state, (state) => {
      markFinished(finished, previous, state.mask, roundsSoFar(runner));
      previous = state.mask;
      save({ stage: "irls", betaInit, state, finished: finished.slice() });
    });
    markFinished(finished, previous, irlsEnd.mask, roundsSoFar(runner));
    const start = pqnCatchStart(irlsEnd, betaInit, refit);
    checkpoint = {
      stage: "pqn",
      betaInit,
      caught: start.mask,
      state: start,
      finished: finished.slice(),
    };
    save(checkpoint);
  }
  const { caught } = checkpoint;
  let previous = checkpoint.state.mask;
  const final = await runner.runPhase(pqnPhase(hp), checkpoint.state, (state) => {
    markFinished(finished, previous, state.mask, roundsSoFar(runner));
    previous = state.mask;
    save({ stage: "pqn", betaInit, caught, state, finished: finished.slice() });
  });
  const nGenes = caught.length;
  for (let g = 0; g < nGenes; g++)
    if (finished[g] < 0 || (caught[g] && previous[g])) finished[g] = roundsSoFar(runner);
  const irlsConverged = new Uint8Array(nGenes);
  if (mode === "irls-pqn") for (let g = 0; g < nGenes; g++) irlsConverged[g] = caught[g] ? 0 : 1;
  return {
    beta: final.beta,
    betaInit,
    irlsConverged,
    pqnCaught: caught,
    pqnDiverged: final.divergedMask,
    finishedRound: finished,
  };
}

/** The `fast` solver: β initialisation, then Newton rounds on every gene. */
async function computeLfcFast(
  runner: FederationRunner,
  hp: FitHyperparameters,
  refit: boolean,
  resume: LfcCheckpoint | undefined,
  save: (checkpoint: LfcCheckpoint) => void,
): Promise<LfcResult> {
  let betaInit: Float64Array;
  let start: NewtonRoundState;
  if (resume !== undefined) {
    if (resume.stage !== "newton")
      throw new Error(`cannot resume the fast solver from a ${resume.stage} checkpoint`);
    betaInit = resume.betaInit;
    start = resume.state;
  } else {
    const initShares = await runner.round("init", "init", { kind: "init-request", refit });
    const init = initAggregate(initShares, refit);
    betaInit = init.beta;
    start = newtonStart(init.beta, init.mask, refit);
    save({ stage: "newton", betaInit, state: start });
  }
  const nGenes = start.mask.length;
  const final = await runner.runPhase(newtonPhase(hp), start, (state) =>
    save({ stage: "newton", betaInit, state }),
  );
  const converged = new Uint8Array(nGenes);
  const finishedRound = new Int32Array(nGenes);
  for (let g = 0; g < nGenes; g++) {
    converged[g] = final.unconverged[g] ? 0 : 1;
    // Newton round t is round trip t + 2 (the initialisation is the first).
    finishedRound[g] = final.finishedRound[g] + 2;
  }
  return {
    beta: final.beta,
    betaInit,
    irlsConverged: converged,
    pqnCaught: new Uint8Array(nGenes),
    pqnDiverged: final.unconverged,
    finishedRound,
  };
}
