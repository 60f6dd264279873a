/**
 * DESeq2's likelihood-ratio test (`nbinomLRT`) over a federation: the reduced model fitted with
 * the full model's dispersions, and 2·(log-likelihood of the full fit − that of the reduced).
 *
 * The reduced model's columns are a subset of the full model's (the reduced formula keeps some
 * of the full design's variables, with the same levels and references), so the centers need no
 * second design: the aggregator sends full-length coefficients with zeros in the dropped columns
 * (η = Xβ is then exactly the reduced model's), and reads the reduced model's sums as sub-blocks
 * of the full ones ({@link columnSubsetRunner}). The centers answer the same steps as for the
 * full fit (`init`, `deseq2Irls`, `nllAtPoints`); nothing new is computed at a center.
 *
 * The log-likelihoods are DESeq2's `fitNbinomGLMs` ones: at μ = s·exp(Xβ) for the rows IRLS
 * fitted, at μ floored at 0.5 for the rows L-BFGS-B fitted (its `fitNbinomGLMsOptim` floors μ
 * before `dnbinom`); an intercept-only reduced model is DESeq2's shortcut, β = ln(baseMean) with
 * no fit.
 */

import { triangleSize } from "../../math/linalg.js";
import { initAggregate } from "../init/aggregate.js";
import type { InitLocalShare } from "../init/state.js";
import type { LfcRunner, LfcStepTypes } from "../lfc/steps.js";
import type { GeneMask } from "../masks.js";
import { maskIndices } from "../masks.js";
import type { IterativePhase } from "../phase.js";
import { deseq2Fit } from "./fit.js";
import type { Deseq2IrlsShare, NllAtPointsShare } from "./state.js";

/**
 * Indices, in the full model's columns, of the reduced model's columns.
 * @throws Error when a reduced column is not a full one (the models are not nested)
 */
export function reducedColumnIndices(
  full: readonly string[],
  reduced: readonly string[],
): Int32Array {
  return Int32Array.from(reduced, (name) => {
    const j = full.indexOf(name);
    if (j < 0) throw new Error(`reduced model column ${name} is not a column of the full model`);
    return j;
  });
}

/** Coefficients of a reduced model (A×q), as full-model coefficients (A×p, zeros elsewhere). */
function widen(values: Float64Array, keep: Int32Array, p: number): Float64Array {
  const q = keep.length;
  const rows = values.length / q;
  const out = new Float64Array(rows * p);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < q; k++) out[r * p + keep[k]] = values[r * q + k];
  return out;
}

/** The reduced model's columns of a row-major A×p matrix of per-gene vectors. */
function narrowColumns(values: Float64Array, keep: Int32Array, p: number): Float64Array {
  const q = keep.length;
  const rows = values.length / p;
  const out = new Float64Array(rows * q);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < q; k++) out[r * q + k] = values[r * p + keep[k]];
  return out;
}

/** Index of (k, l), k ≤ l, in a p×p symmetric matrix's packed upper triangle (row-major). */
function packedIndex(k: number, l: number, p: number): number {
  return k * p - (k * (k - 1)) / 2 + (l - k);
}

/** The reduced model's block of A packed upper triangles (p(p+1)/2 each). */
function narrowPacked(values: Float64Array, keep: Int32Array, p: number): Float64Array {
  const q = keep.length;
  const half = triangleSize(p);
  const halfQ = (q * (q + 1)) / 2;
  const rows = values.length / half;
  const out = new Float64Array(rows * halfQ);
  for (let r = 0; r < rows; r++) {
    let t = r * halfQ;
    for (let k = 0; k < q; k++)
      for (let l = k; l < q; l++) out[t++] = values[r * half + packedIndex(keep[k], keep[l], p)];
  }
  return out;
}

/** The reduced model's block of a p×p matrix. */
function narrowSquare(values: Float64Array, keep: Int32Array, p: number): Float64Array {
  const q = keep.length;
  const out = new Float64Array(q * q);
  for (let k = 0; k < q; k++)
    for (let l = 0; l < q; l++) out[k * q + l] = values[keep[k] * p + keep[l]];
  return out;
}

type Input<K extends keyof LfcStepTypes> = LfcStepTypes[K]["input"];
type Output<K extends keyof LfcStepTypes> = LfcStepTypes[K]["output"];

/** A reduced-model request as the centers (whose design is the full one) are sent it. */
function widenRequest<K extends keyof LfcStepTypes>(
  step: K,
  input: Input<K>,
  keep: Int32Array,
  p: number,
): Input<K> {
  if (step === "init") return input;
  if (step === "deseq2Irls") {
    const r = input as Input<"deseq2Irls">;
    return { ...r, coefficients: p, beta: widen(r.beta, keep, p) } as Input<K>;
  }
  if (step === "nllAtPoints") {
    const r = input as Input<"nllAtPoints">;
    return { ...r, coefficients: p, points: widen(r.points, keep, p) } as Input<K>;
  }
  throw new Error(`the reduced model is not fitted with step ${step}`);
}

/** A center's (or the pooled) full-model reply, as the reduced model's. */
function narrowReply<K extends keyof LfcStepTypes>(
  step: K,
  output: Output<K>,
  keep: Int32Array,
  p: number,
): Output<K> {
  if (step === "init") {
    const s = output as InitLocalShare;
    return {
      ...s,
      gram: narrowSquare(s.gram, keep, p),
      logFeatures: narrowColumns(s.logFeatures, keep, p),
    } as Output<K>;
  }
  if (step === "deseq2Irls") {
    const s = output as Deseq2IrlsShare;
    return {
      ...s,
      xtwx: narrowPacked(s.xtwx, keep, p),
      xtwz: narrowColumns(s.xtwz, keep, p),
    } as Output<K>;
  }
  if (step === "nllAtPoints") return output as NllAtPointsShare as Output<K>;
  throw new Error(`the reduced model is not fitted with step ${step}`);
}

/**
 * A runner for a model whose columns are `keep` of the centers' p: requests are widened to p
 * columns (zeros in the others), replies narrowed to `keep`. Exact: a zero coefficient adds
 * exactly 0 to η, and the reduced sums are entries of the full ones.
 */
export function columnSubsetRunner(runner: LfcRunner, keep: Int32Array, p: number): LfcRunner {
  return {
    get ledger() {
      return runner.ledger;
    },
    async round(phase, step, input) {
      const shares = await runner.round(phase, step, widenRequest(step, input, keep, p));
      return shares.map((s) => narrowReply(step, s, keep, p));
    },
    runPhase<K extends keyof LfcStepTypes & string, Out, S = Input<K>>(
      phase: IterativePhase<LfcStepTypes, K, Out, S>,
      start: S,
      onState?: (state: S) => void,
    ): Promise<Out> {
      const wide: IterativePhase<LfcStepTypes, K, Out, S> = {
        ...phase,
        request: (state) =>
          widenRequest(
            phase.step,
            phase.request === undefined ? (state as unknown as Input<K>) : phase.request(state),
            keep,
            p,
          ),
        aggregate: (state, shares) =>
          phase.aggregate(
            state,
            shares.map((s) => narrowReply(phase.step, s, keep, p)),
          ),
      };
      return runner.runPhase(wide, start, onState);
    },
  };
}

/** −Σ over the shares of each asked gene's NLL, into `logLike` at the genes' rows. */
function pooledLogLikelihood(
  shares: readonly { readonly nll: Float64Array }[],
  genes: Int32Array,
  logLike: Float64Array,
): void {
  for (let a = 0; a < genes.length; a++) {
    let nll = 0;
    for (const s of shares) nll += s.nll[a];
    logLike[genes[a]] = -nll;
  }
}

/**
 * DESeq2's log-likelihood of a fit, per gene: at μ = s·exp(Xβ) for the rows IRLS fitted, and at
 * μ floored at 0.5 for the rows L-BFGS-B fitted (`optimised`), as `fitNbinomGLMs` computes it.
 * One or two round trips (`nllAtPoints`, and `deseq2Irls` for the optimised rows).
 * @param beta - G×p coefficients (natural log) of every gene of the centers' dataset
 */
export async function deseq2LogLikelihood(
  runner: LfcRunner,
  phase: string,
  fit: {
    readonly beta: Float64Array;
    readonly p: number;
    readonly optimised: GeneMask;
    readonly refit: boolean;
  },
): Promise<Float64Array> {
  const { beta, p, optimised, refit } = fit;
  const genes = optimised.length;
  const logLike = new Float64Array(genes);
  const irlsRows = Uint8Array.from(optimised, (o) => (o ? 0 : 1));
  const irlsGenes = maskIndices(irlsRows);
  if (irlsGenes.length > 0) {
    const points = new Float64Array(irlsGenes.length * p);
    irlsGenes.forEach((g, a) => {
      for (let k = 0; k < p; k++) points[a * p + k] = Math.LOG2E * beta[g * p + k];
    });
    const shares = await runner.round(phase, "nllAtPoints", {
      kind: "nll-at-points-request",
      refit,
      coefficients: p,
      mask: irlsRows,
      pointsPerGene: 1,
      points,
    });
    pooledLogLikelihood(shares, irlsGenes, logLike);
  }
  const optimGenes = maskIndices(optimised);
  if (optimGenes.length > 0) {
    const rows = new Float64Array(optimGenes.length * p);
    optimGenes.forEach((g, a) => {
      rows.set(beta.subarray(g * p, g * p + p), a * p);
    });
    const shares = await runner.round(phase, "deseq2Irls", {
      kind: "deseq2-irls-request",
      refit,
      coefficients: p,
      mask: optimised,
      beta: rows,
    });
    pooledLogLikelihood(shares, optimGenes, logLike);
  }
  return logLike;
}

/** What {@link lrtStatistic} tests: the full fit of every gene of the centers' dataset. */
export interface LrtInput {
  /** G×p coefficients of the full model (natural log). */
  readonly beta: Float64Array;
  /** Rows of the full fit L-BFGS-B fitted. */
  readonly optimised: GeneMask;
  /** Number of full-model columns. */
  readonly p: number;
  /** The reduced model's columns among the full model's ({@link reducedColumnIndices}). */
  readonly keep: Int32Array;
  /** Mean of normalised counts per gene (the intercept-only model's fit). */
  readonly baseMean: Float64Array;
  readonly refit: boolean;
  /** DESeq2's `maxit` of the reduced fit. */
  readonly maxIterations?: number;
  /** Ledger phase prefix ("lrt" or "refit-lrt"). */
  readonly phase: string;
}

/** The test's statistic per gene, and the reduced fit it came from. */
export interface LrtOutcome {
  /** 2·(log-likelihood of the full fit − log-likelihood of the reduced fit). */
  readonly stat: Float64Array;
  /** Degrees of freedom: full columns − reduced columns. */
  readonly df: number;
  /** The reduced model's coefficients, G×q (natural log). */
  readonly reducedBeta: Float64Array;
}

/**
 * DESeq2's `nbinomLRT` statistic: the reduced model fitted as DESeq2 fits it (β from the least
 * squares of ln(y/s + 0.1), IRLS, L-BFGS-B on what IRLS leaves), with the dispersions the centers
 * hold; both log-likelihoods as `fitNbinomGLMs` computes them.
 */
export async function lrtStatistic(runner: LfcRunner, input: LrtInput): Promise<LrtOutcome> {
  const { p, keep, refit } = input;
  const q = keep.length;
  const genes = input.optimised.length;
  const full = await deseq2LogLikelihood(runner, `${input.phase}-loglik`, {
    beta: input.beta,
    p,
    optimised: input.optimised,
    refit,
  });
  const reducedRunner = columnSubsetRunner(runner, keep, p);
  let reducedBeta: Float64Array;
  let reducedOptimised: GeneMask;
  if (q === 1 && keep[0] === 0) {
    // DESeq2's shortcut for `~ 1` without a prior: β = log(mean of normalised counts), no fit.
    reducedBeta = Float64Array.from(input.baseMean, (m) => Math.log(m));
    reducedOptimised = new Uint8Array(genes);
  } else {
    const init = initAggregate(
      await reducedRunner.round(`${input.phase}-init`, "init", { kind: "init-request", refit }),
      refit,
    );
    const fit = await deseq2Fit(
      reducedRunner,
      { betaInit: init.beta, mask: init.mask, p: q, refit },
      {
        phases: { irls: `${input.phase}-irls`, optim: `${input.phase}-optim` },
        maxIterations: input.maxIterations,
      },
    );
    reducedBeta = fit.beta;
    reducedOptimised = fit.optimised;
  }
  const reduced = await deseq2LogLikelihood(reducedRunner, `${input.phase}-loglik`, {
    beta: reducedBeta,
    p: q,
    optimised: reducedOptimised,
    refit,
  });
  const stat = new Float64Array(genes);
  for (let g = 0; g < genes; g++) stat[g] = 2 * (full[g] - reduced[g]);
  return { stat, df: p - q, reducedBeta };
}
