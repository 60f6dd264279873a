/**
 * DESeq2's refit of the rows its IRLS did not converge (`fitNbinomGLMsWithOptim`): R's
 * `optim(β, objective, method = "L-BFGS-B", lower = −30, upper = 30)` on the log2 scale, with
 * optim's own central finite differences for the gradient, replayed decision for decision.
 *
 * The objective is DESeq2's negative log posterior −Σ log NB(y; s·2^{xβ}, 1/α) − Σ log N(β; 0,
 * 1/λ) with μ not floored (10^300 where it is not finite). Each round trip evaluates, for every
 * row still optimised, the point L-BFGS-B asks for and its 2p finite-difference neighbours: the
 * centers return their NLL sums there, the aggregator adds the prior, forms the gradient as
 * optim does and tells L-BFGS-B, which answers with its next point (or stops).
 */
import {
  finiteDifferenceGradient,
  finiteDifferencePoints,
  type LbfgsbLockstep,
  lockstepDone,
  lockstepResults,
  lockstepStart,
  lockstepTell,
  lockstepWaiting,
} from "../../math/lbfgsb.js";
import type { LfcPhase } from "../lfc/steps.js";
import { maskCount } from "../masks.js";
import { sumOverCenters } from "../shares.js";
import {
  DESEQ2_LAMBDA_LOG2,
  DESEQ2_LARGE,
  type NllAtPointsRequest,
  type NllAtPointsShare,
} from "./state.js";

/** R's `M_LN_SQRT_2PI`. */
const LN_SQRT_2PI = 0.9189385332046728;

/** What `fitNbinomGLMsWithOptim`'s objective returns where the posterior is not finite. */
const NOT_FINITE = 1e300;

/**
 * The aggregator's state between L-BFGS-B rounds: each row's optimiser, in `rows` order, and the
 * point it waits to have evaluated (log2 scale).
 */
export interface Deseq2OptimState extends LbfgsbLockstep {
  readonly kind: "deseq2-optim-round";
  readonly round: number;
  readonly refit: boolean;
  readonly p: number;
  /** Fitted genes G. */
  readonly genes: number;
  /** The optimised rows, ascending. */
  readonly rows: Int32Array;
  /** The prior precision per column on the log2 scale (absent: DESeq2's 1e-6 on every one). */
  readonly lambda?: Float64Array;
}

/** The outcome of the refit, per optimised row. */
export interface Deseq2OptimEnd {
  readonly kind: "deseq2-optim-end";
  readonly rows: Int32Array;
  /** Coefficients, rows×p, log2 scale (optim's `par`). */
  readonly par: Float64Array;
  /** optim's `convergence` per row (0: converged). */
  readonly convergence: Int32Array;
  /** Round trips the refit took. */
  readonly rounds: number;
}

/** The box of every coefficient: DESeq2's `large` on the log2 scale of optim. */
function box(p: number): { lower: Float64Array; upper: Float64Array } {
  return {
    lower: new Float64Array(p).fill(-DESEQ2_LARGE),
    upper: new Float64Array(p).fill(DESEQ2_LARGE),
  };
}

/**
 * Start L-BFGS-B on the given rows from the given log2-scale points.
 * @param starts - rows×p starting points (log2 scale)
 */
export function deseq2OptimStart(
  rows: Int32Array,
  starts: Float64Array,
  p: number,
  genes: number,
  refit: boolean,
  lambda?: Float64Array,
): Deseq2OptimState {
  const lockstep = lockstepStart(
    Array.from(rows, (_, j) => starts.slice(j * p, j * p + p)),
    box(p),
  );
  return {
    kind: "deseq2-optim-round",
    round: 0,
    refit,
    p,
    genes,
    rows,
    ...lockstep,
    ...(lambda === undefined ? {} : { lambda: lambda.slice() }),
  };
}

/** The genes (over the fitted genes) whose optimiser waits for an evaluation. */
function activeMask(state: Deseq2OptimState): Uint8Array {
  const mask = new Uint8Array(state.genes);
  state.rows.forEach((g, j) => {
    if (state.pending[j] !== null) mask[g] = 1;
  });
  return mask;
}

/**
 * What the centers are sent: each waiting point and its neighbours, on optim's log2 scale (the
 * centers form μ = s·2^(xβ) as DESeq2 does, not s·exp(x·β·ln 2), which differs in last bits).
 */
export function deseq2OptimRequest(state: Deseq2OptimState): NllAtPointsRequest {
  const { p } = state;
  const { lower, upper } = box(p);
  const perGene = 1 + 2 * p;
  const waiting = lockstepWaiting(state);
  const points = new Float64Array(waiting.length * perGene * p);
  waiting.forEach((x, a) => {
    const base = a * perGene * p;
    points.set(x, base);
    finiteDifferencePoints(x, lower, upper).forEach((point, i) => {
      points.set(point, base + (1 + i) * p);
    });
  });
  return {
    kind: "nll-at-points-request",
    refit: state.refit,
    coefficients: p,
    mask: activeMask(state),
    pointsPerGene: perGene,
    points,
  };
}

/** The prior's standard deviations, `sqrt(1/lambda)` as DESeq2 passes them to `dnorm`, and logs. */
function priorScales(lambda: Float64Array | undefined, p: number): PriorScales {
  const sigma = Float64Array.from(lambda ?? new Float64Array(p).fill(DESEQ2_LAMBDA_LOG2), (l) =>
    Math.sqrt(1 / l),
  );
  return { sigma, logSigma: Float64Array.from(sigma, Math.log) };
}

interface PriorScales {
  readonly sigma: Float64Array;
  readonly logSigma: Float64Array;
}

/** DESeq2's objective at a log2-scale point from the pooled NLL there. */
function negativeLogPosterior(
  nll: number,
  x: Float64Array,
  offset: number,
  p: number,
  prior: PriorScales,
): number {
  let logPrior = 0;
  for (let k = 0; k < p; k++) {
    const z = x[offset + k] / prior.sigma[k];
    logPrior += -(LN_SQRT_2PI + 0.5 * z * z + prior.logSigma[k]);
  }
  const value = -1 * (-nll + logPrior);
  return Number.isFinite(value) ? value : NOT_FINITE;
}

/** Aggregate one round: every waiting optimiser is told its value and gradient. Pure. */
export function deseq2OptimAggregate(
  state: Deseq2OptimState,
  shares: readonly NllAtPointsShare[],
): Deseq2OptimState | Deseq2OptimEnd {
  const { p } = state;
  const { lower, upper } = box(p);
  const perGene = 1 + 2 * p;
  const waiting = lockstepWaiting(state).length;
  for (const [c, s] of shares.entries()) {
    if (s.nll.length !== waiting * perGene)
      throw new Error(
        `likelihood share ${c} has ${s.nll.length} values, expected ${waiting * perGene}`,
      );
  }
  const nll = sumOverCenters(shares, "nll");
  const prior = priorScales(state.lambda, p);
  const neighbourValues = new Float64Array(2 * p);
  const lockstep = lockstepTell(state, (x, a) => {
    const base = a * perGene;
    const value = negativeLogPosterior(nll[base], x, 0, p, prior);
    finiteDifferencePoints(x, lower, upper).forEach((point, i) => {
      neighbourValues[i] = negativeLogPosterior(nll[base + 1 + i], point, 0, p, prior);
    });
    return { value, gradient: finiteDifferenceGradient(x, lower, upper, neighbourValues) };
  });
  const next: Deseq2OptimState = { ...state, round: state.round + 1, ...lockstep };
  return lockstepDone(next) ? deseq2OptimEnd(next) : next;
}

/** The refit's outcome once every optimiser stopped. */
function deseq2OptimEnd(state: Deseq2OptimState): Deseq2OptimEnd {
  const { p, rows } = state;
  const par = new Float64Array(rows.length * p);
  const convergence = new Int32Array(rows.length);
  lockstepResults(state).forEach((result, j) => {
    par.set(result.par, j * p);
    convergence[j] = result.convergence;
  });
  return { kind: "deseq2-optim-end", rows, par, convergence, rounds: state.round };
}

/** The L-BFGS-B phase of the `deseq2` solver. */
export function deseq2OptimPhase(
  name = "optim",
): LfcPhase<"nllAtPoints", Deseq2OptimEnd, Deseq2OptimState> {
  return {
    name,
    step: "nllAtPoints",
    request: deseq2OptimRequest,
    aggregate: deseq2OptimAggregate,
    isResult: (value): value is Deseq2OptimEnd => value.kind === "deseq2-optim-end",
    activeGenes: (state) => maskCount(activeMask(state)),
    finish: deseq2OptimEnd,
  };
}
