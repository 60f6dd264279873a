/**
 * The log-fold-change fit with fixed dispersions (upstream's `compute_lfc`): β init, federated
 * IRLS, then PQN on the genes IRLS did not finish ("irls-pqn"), or PQN alone on every gene
 * ("pqn"). Every state the fit reaches can be saved as a checkpoint and the fit resumed from it.
 */
import { type Deseq2FitCheckpoint, deseq2Fit } from "../deseq2/fit.js";
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
import type { LfcRunner } from "./steps.js";

/** Which solvers run. */
export type LfcMode = "irls-pqn" | "pqn";

/**
 * Which solver: `deseq2` (DESeq2's own `fitNbinomGLMs` replayed step for step: IRLS, then
 * L-BFGS-B on the rows IRLS does not converge), `upstream` (fedpydeseq2's IRLS and PQN, at
 * parity) or `fast` (Newton's method on IRLS's fixed-point equation with a multi-point line
 * search, ≤ 30 rounds; the genes it does not converge are refitted by the `deseq2` path).
 */
export type LfcSolver = "deseq2" | "upstream" | "fast";

/** Every solver, the default first. */
export const LFC_SOLVERS: readonly LfcSolver[] = ["deseq2", "fast", "upstream"];

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
  /**
   * DESeq2's `betaConv`: the coefficients are a converged answer (for `deseq2`: IRLS converged,
   * or L-BFGS-B reported convergence on the refit).
   */
  readonly converged: GeneMask;
  /** DESeq2's `betaIter` (`deseq2`); the solver's own iterations for the others. */
  readonly iterations: Int32Array;
  /** Genes a `fast` fit did not converge and handed to the `deseq2` path. */
  readonly handedOver: GeneMask;
}

/** The `fast` fit whose unconverged genes the `deseq2` path refits. */
export interface FastHandoff {
  readonly beta: Float64Array;
  readonly finishedRound: Int32Array;
  readonly unconverged: GeneMask;
  readonly rounds: number;
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
      readonly stage: "deseq2";
      readonly betaInit: Float64Array;
      readonly fit: Deseq2FitCheckpoint;
      /** When the `fast` solver handed its unconverged genes over: its fit. */
      readonly handoff?: FastHandoff;
    }
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
  /** The solver (default `upstream`, the parity fit). */
  readonly solver?: LfcSolver;
  /** DESeq2's `maxit` for the `deseq2` path (default 100). */
  readonly maxIterations?: number;
  /** Newton rounds of the `fast` solver before it hands what is left over (default 28). */
  readonly fastMaxRounds?: number;
}

/** Round trips of the runner so far (init included). */
function roundsSoFar(runner: LfcRunner): number {
  const r = runner.ledger.rounds;
  return (r.init ?? 0) + (r.irls ?? 0) + (r.pqn ?? 0) + (r.newton ?? 0) + (r.optim ?? 0);
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
  runner: LfcRunner,
  hp: FitHyperparameters,
  mode: LfcMode,
  options: LfcOptions = {},
): Promise<LfcResult> {
  const refit = options.refit ?? false;
  const save = options.onCheckpoint ?? (() => {});
  if (options.resume?.stage === "deseq2" && options.resume.handoff !== undefined) {
    return handOver(runner, refit, options.resume.betaInit, options.resume.handoff, save, {
      resume: options.resume.fit,
      maxIterations: options.maxIterations,
    });
  }
  if (options.solver === "deseq2" || options.resume?.stage === "deseq2") {
    return computeLfcDeseq2(runner, refit, options.resume, save, options.maxIterations);
  }
  if (options.solver === "fast" || options.resume?.stage === "newton") {
    return computeLfcFast(runner, hp, refit, options.resume, save, options);
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
  const converged = new Uint8Array(nGenes);
  for (let g = 0; g < nGenes; g++)
    converged[g] = irlsConverged[g] || !final.divergedMask[g] ? 1 : 0;
  return {
    beta: final.beta,
    betaInit,
    irlsConverged,
    pqnCaught: caught,
    pqnDiverged: final.divergedMask,
    finishedRound: finished,
    converged,
    iterations: Int32Array.from(finished, (r) => Math.max(r - 1, 0)),
    handedOver: new Uint8Array(nGenes),
  };
}

/** Number of design columns of a G×p coefficient matrix over a G-gene mask. */
function columnsOf(beta: Float64Array, genes: number): number {
  return genes === 0 ? 0 : beta.length / genes;
}

/** The `deseq2` solver: β initialisation, DESeq2's IRLS, L-BFGS-B on what IRLS left. */
async function computeLfcDeseq2(
  runner: LfcRunner,
  refit: boolean,
  resume: LfcCheckpoint | undefined,
  save: (checkpoint: LfcCheckpoint) => void,
  maxIterations?: number,
): Promise<LfcResult> {
  let betaInit: Float64Array;
  let mask: GeneMask;
  let fitResume: Deseq2FitCheckpoint | undefined;
  if (resume !== undefined) {
    if (resume.stage !== "deseq2")
      throw new Error(`cannot resume the deseq2 solver from a ${resume.stage} checkpoint`);
    betaInit = resume.betaInit;
    fitResume = resume.fit;
    mask =
      fitResume.stage === "irls"
        ? new Uint8Array(fitResume.state.mask.length).fill(1)
        : new Uint8Array(fitResume.irls.iterations.length).fill(1);
  } else {
    const initShares = await runner.round("init", "init", { kind: "init-request", refit });
    const init = initAggregate(initShares, refit);
    betaInit = init.beta;
    mask = init.mask;
  }
  const nGenes = mask.length;
  const p = columnsOf(betaInit, nGenes);
  const fit = await deseq2Fit(
    runner,
    { betaInit, mask, p, refit },
    {
      resume: fitResume,
      save: (checkpoint) => save({ stage: "deseq2", betaInit, fit: checkpoint }),
      maxIterations,
    },
  );
  const total = roundsSoFar(runner);
  const irlsConverged = new Uint8Array(nGenes);
  const pqnDiverged = new Uint8Array(nGenes);
  const finishedRound = new Int32Array(nGenes);
  for (let g = 0; g < nGenes; g++) {
    irlsConverged[g] = fit.optimised[g] ? 0 : 1;
    pqnDiverged[g] = fit.converged[g] ? 0 : 1;
    // IRLS stopping after iteration t was decided in round trip t + 2 (init is the first).
    finishedRound[g] = fit.optimised[g] ? total : fit.iterations[g] + 2;
  }
  return {
    beta: fit.beta,
    betaInit,
    irlsConverged,
    pqnCaught: fit.optimised,
    pqnDiverged,
    finishedRound,
    converged: fit.converged,
    iterations: fit.iterations,
    handedOver: new Uint8Array(nGenes),
  };
}

/**
 * Refit the genes a `fast` fit did not converge along DESeq2's path (IRLS from the initial β,
 * then L-BFGS-B), and merge: no unconverged Newton iterate is ever reported as an answer.
 */
async function handOver(
  runner: LfcRunner,
  refit: boolean,
  betaInit: Float64Array,
  fast: FastHandoff,
  save: (checkpoint: LfcCheckpoint) => void,
  options: { readonly resume?: Deseq2FitCheckpoint; readonly maxIterations?: number } = {},
): Promise<LfcResult> {
  const nGenes = fast.unconverged.length;
  const p = columnsOf(betaInit, nGenes);
  const fit = await deseq2Fit(
    runner,
    { betaInit, mask: fast.unconverged, p, refit },
    {
      resume: options.resume,
      save: (checkpoint) => save({ stage: "deseq2", betaInit, fit: checkpoint, handoff: fast }),
      maxIterations: options.maxIterations,
    },
  );
  const total = roundsSoFar(runner);
  const beta = fast.beta.slice();
  const converged = new Uint8Array(nGenes);
  const iterations = new Int32Array(nGenes);
  const finishedRound = new Int32Array(nGenes);
  const pqnCaught = new Uint8Array(nGenes);
  for (let g = 0; g < nGenes; g++) {
    if (fast.unconverged[g]) {
      beta.set(fit.beta.subarray(g * p, g * p + p), g * p);
      converged[g] = fit.converged[g];
      iterations[g] = fit.iterations[g];
      pqnCaught[g] = fit.optimised[g];
      finishedRound[g] = total;
    } else {
      converged[g] = 1;
      iterations[g] = fast.finishedRound[g] + 1;
      finishedRound[g] = fast.finishedRound[g] + 2;
    }
  }
  return {
    beta,
    betaInit,
    irlsConverged: Uint8Array.from(converged, (c, g) => (c && !pqnCaught[g] ? 1 : 0)),
    pqnCaught,
    pqnDiverged: Uint8Array.from(converged, (c) => (c ? 0 : 1)),
    finishedRound,
    converged,
    iterations,
    handedOver: fast.unconverged,
  };
}

/** The `fast` solver: β initialisation, then Newton rounds on every gene. */
async function computeLfcFast(
  runner: LfcRunner,
  hp: FitHyperparameters,
  refit: boolean,
  resume: LfcCheckpoint | undefined,
  save: (checkpoint: LfcCheckpoint) => void,
  options: Pick<LfcOptions, "maxIterations" | "fastMaxRounds">,
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
  const final = await runner.runPhase(newtonPhase(hp, options.fastMaxRounds), start, (state) =>
    save({ stage: "newton", betaInit, state }),
  );
  if (final.unconverged.some((u) => u === 1)) {
    return handOver(
      runner,
      refit,
      betaInit,
      {
        beta: final.beta,
        finishedRound: final.finishedRound,
        unconverged: final.unconverged,
        rounds: final.rounds,
      },
      save,
      { maxIterations: options.maxIterations },
    );
  }
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
    converged,
    iterations: Int32Array.from(final.finishedRound, (r) => r + 1),
    handedOver: new Uint8Array(nGenes),
  };
}
