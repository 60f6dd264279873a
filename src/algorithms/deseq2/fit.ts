/**
 * DESeq2's `fitNbinomGLMs` over a federation: IRLS from the given start, then L-BFGS-B on the
 * rows IRLS did not converge, started where DESeq2 starts them.
 */
import type { LfcRunner } from "../lfc/steps.js";
import type { GeneMask } from "../masks.js";
import { maskIndices } from "../masks.js";
import { deseq2IrlsPhase, deseq2IrlsStart } from "./irls.js";
import { deseq2OptimPhase, deseq2OptimStart } from "./optim.js";
import {
  DESEQ2_LARGE,
  DESEQ2_MAX_ITERATIONS,
  type Deseq2FitResult,
  type Deseq2IrlsEnd,
  type Deseq2IrlsState,
} from "./state.js";

/** A point from which {@link deseq2Fit} resumes: an IRLS round, or the start of the refit. */
export type Deseq2FitCheckpoint =
  | { readonly stage: "irls"; readonly state: Deseq2IrlsState }
  | { readonly stage: "optim"; readonly irls: Deseq2IrlsEnd };

/** What {@link deseq2Fit} starts from. */
export interface Deseq2FitStart {
  /** G×p initial coefficients (natural log): DESeq2's `beta_mat`. */
  readonly betaInit: Float64Array;
  /** The genes to fit. */
  readonly mask: GeneMask;
  readonly p: number;
  readonly refit: boolean;
  /** The prior precision per column on the log2 scale (absent: DESeq2's 1e-6 on every one). */
  readonly lambda?: Float64Array;
}

/** The rows DESeq2 hands to `optim`, and where it starts each (log2 scale). */
export function optimStarts(
  irls: Deseq2IrlsEnd,
  betaInit: Float64Array,
  mask: GeneMask,
  maxIterations = DESEQ2_MAX_ITERATIONS,
): { rows: Int32Array; starts: Float64Array } {
  const { p } = irls;
  const rows: number[] = [];
  const starts: number[] = [];
  for (const g of maskIndices(mask)) {
    const beta = irls.beta.subarray(g * p, g * p + p);
    const stable = beta.every(Number.isFinite);
    if (stable && irls.iterations[g] < maxIterations) continue;
    rows.push(g);
    const log2 = Array.from(beta, (b) => Math.LOG2E * b);
    // DESeq2 restarts from its IRLS result when that is usable, else from `beta_mat`, the
    // natural-log initial coefficients passed as log2 ones (its own quirk, kept for parity).
    const usable = stable && log2.every((b) => Math.abs(b) < DESEQ2_LARGE);
    starts.push(...(usable ? log2 : betaInit.subarray(g * p, g * p + p)));
  }
  return { rows: Int32Array.from(rows), starts: Float64Array.from(starts) };
}

/**
 * Run DESeq2's fit of `start.mask`'s genes.
 * @param phases - ledger names of the two phases (e.g. "irls", "optim")
 * @param save - called with every state reached, for checkpoints
 */
export async function deseq2Fit(
  runner: LfcRunner,
  start: Deseq2FitStart,
  options: {
    readonly resume?: Deseq2FitCheckpoint;
    readonly save?: (checkpoint: Deseq2FitCheckpoint) => void;
    readonly phases?: { readonly irls: string; readonly optim: string };
    /** DESeq2's `maxit` (default 100). */
    readonly maxIterations?: number;
  } = {},
): Promise<Deseq2FitResult> {
  const save = options.save ?? (() => {});
  const phases = options.phases ?? { irls: "irls", optim: "optim" };
  const { betaInit, mask, p, refit, lambda } = start;
  const maxIterations = options.maxIterations ?? DESEQ2_MAX_ITERATIONS;
  let irls: Deseq2IrlsEnd;
  if (options.resume?.stage === "optim") {
    irls = options.resume.irls;
  } else {
    const first =
      options.resume?.stage === "irls"
        ? options.resume.state
        : deseq2IrlsStart(betaInit, mask, p, refit, lambda);
    if (options.resume === undefined) save({ stage: "irls", state: first });
    irls = await runner.runPhase(deseq2IrlsPhase(phases.irls, maxIterations), first, (state) =>
      save({ stage: "irls", state }),
    );
    save({ stage: "optim", irls });
  }
  const genes = mask.length;
  const beta = irls.beta.slice();
  const converged = new Uint8Array(genes);
  const optimised = new Uint8Array(genes);
  for (const g of maskIndices(mask)) converged[g] = irls.iterations[g] < maxIterations ? 1 : 0;
  const { rows, starts } = optimStarts(irls, betaInit, mask, maxIterations);
  if (rows.length > 0) {
    const end = await runner.runPhase(
      deseq2OptimPhase(phases.optim),
      deseq2OptimStart(rows, starts, p, genes, refit, lambda),
    );
    rows.forEach((g, j) => {
      optimised[g] = 1;
      converged[g] = end.convergence[j] === 0 ? 1 : 0;
      for (let k = 0; k < p; k++) beta[g * p + k] = end.par[j * p + k] * Math.LN2;
    });
  }
  return { beta, converged, iterations: irls.iterations, optimised };
}
