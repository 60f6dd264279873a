/**
 * The aggregator's part of apeglm (Zhu, Ibrahim & Love 2018) as DESeq2's `lfcShrink(type =
 * "apeglm")` runs it: a Cauchy prior of scale S on the shrunk coefficient and a normal prior
 * (sd 15) on the others; S adapted to the MLE fold changes and their standard errors (apeglm's
 * `priorVar`, capped at 1); the MAP estimate by L-BFGS-B on the negative log posterior divided by
 * its value at β = 0 (floored at 1), from apeglm's start (0.1, −0.1, 0.1, …); the posterior
 * standard deviation from the Laplace approximation, the inverse of the negative log posterior's
 * Hessian at the MAP. The optimiser's controls are those of PyDESeq2's port (`nbinomGLM`: ftol
 * and gtol 1e-8, ten correction pairs). The centers only sum likelihood terms (local.ts).
 *
 * Rounds: one at β = 0 (the scale), one per L-BFGS-B evaluation (every gene's optimiser in step),
 * one for the curvature at the MAP.
 */

import {
  type LbfgsbLockstep,
  lockstepDone,
  lockstepResults,
  lockstepStart,
  lockstepTell,
  lockstepWaiting,
} from "../../math/lbfgsb.js";
import { invertBatch } from "../../math/linalg.js";
import { unpackSymmetric } from "../lfc/symmetric.js";
import type { IterativePhase, PhaseRunner } from "../phase.js";
import { sumOverCenters } from "../shares.js";
import {
  APEGLM_NO_SHRINK_SCALE,
  APEGLM_PRIOR_VARIANCE_RANGE,
  type ApeglmRequest,
  type ApeglmShare,
} from "./state.js";

/** The step apeglm drives. */
export interface ApeglmStepTypes {
  apeglm: { input: ApeglmRequest; output: ApeglmShare };
}

/** What drives apeglm's rounds (the runtime's runner). */
export type ApeglmRunner = PhaseRunner<ApeglmStepTypes>;

/** Machine epsilon, as the L-BFGS-B code's `factr` is counted in. */
const EPSILON = 2.220446049250313e-16;

/** PyDESeq2's `minimize(method = "L-BFGS-B", options = {ftol: 1e-8, gtol: 1e-8})` controls. */
const OPTIMISER = { m: 10, factr: 1e-8 / EPSILON, pgtol: 1e-8, maxit: 15000 } as const;

/** What the objective is where the likelihood overflows (DESeq2's optim objectives use it too). */
const NOT_FINITE = 1e300;

/**
 * apeglm's adaptive prior variance (`priorVar`): the root A in [1e-6, 400] of
 * Σ w (S − D) / Σ w = A with w = 1/(2(A + D)²), S the squared MLE coefficients and D their squared
 * standard errors (natural log); 1e-6 when the left side is already below it there, 400 when it
 * is above it at 400. The root is bracketed and bisected to the last bit.
 * @param mle - coefficient of the shrunk column per gene (natural log; NaN: left out)
 * @param se - its standard error per gene (natural log)
 */
export function apeglmPriorVariance(mle: Float64Array, se: Float64Array): number {
  const s: number[] = [];
  const d: number[] = [];
  mle.forEach((b, g) => {
    if (Number.isFinite(b) && Number.isFinite(se[g])) {
      s.push(b * b);
      d.push(se[g] * se[g]);
    }
  });
  const excess = (a: number): number => {
    let num = 0;
    let den = 0;
    for (let g = 0; g < s.length; g++) {
      const w = 1 / (2 * (a + d[g]) ** 2);
      num += (s[g] - d[g]) * w;
      den += w;
    }
    return num / den - a;
  };
  const { min, max } = APEGLM_PRIOR_VARIANCE_RANGE;
  if (s.length === 0 || !(excess(min) >= 0)) return min;
  if (excess(max) >= 0) return max;
  let lo: number = min;
  let hi: number = max;
  for (;;) {
    const mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    if (excess(mid) >= 0) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The prior apeglm puts on one gene's coefficients. */
export interface ApeglmPrior {
  readonly p: number;
  /** The shrunk column. */
  readonly coefficient: number;
  /** The Cauchy prior's scale on it. */
  readonly scale: number;
}

/** The prior's scale from the adaptive variance: √A, capped at 1 (apeglm's default scale). */
export function apeglmPriorScale(priorVariance: number): number {
  return Math.min(Math.sqrt(priorVariance), 1);
}

/** −log prior at β (up to a constant): Σ β_k²/(2·15²) off the shrunk column, log1p(β_c²/S²) on it. */
function negativeLogPrior(prior: ApeglmPrior, beta: Float64Array): number {
  let value = 0;
  for (let k = 0; k < prior.p; k++) {
    const b = beta[k];
    value +=
      k === prior.coefficient
        ? Math.log1p((b / prior.scale) ** 2)
        : (b * b) / (2 * APEGLM_NO_SHRINK_SCALE ** 2);
  }
  return value;
}

/** Add the gradient of {@link negativeLogPrior} at β to `out`. */
function addPriorGradient(prior: ApeglmPrior, beta: Float64Array, out: Float64Array): void {
  const s2 = prior.scale ** 2;
  for (let k = 0; k < prior.p; k++) {
    const b = beta[k];
    out[k] += k === prior.coefficient ? (2 * b) / (s2 + b * b) : b / APEGLM_NO_SHRINK_SCALE ** 2;
  }
}

/** The diagonal Hessian of {@link negativeLogPrior} at β. */
function priorCurvature(prior: ApeglmPrior, beta: Float64Array, k: number): number {
  if (k !== prior.coefficient) return 1 / APEGLM_NO_SHRINK_SCALE ** 2;
  const s2 = prior.scale ** 2;
  const b2 = beta[k] * beta[k];
  return (2 * (s2 - b2)) / (s2 + b2) ** 2;
}

/**
 * The aggregator's state between rounds. Its optimisers (empty before "optimise") and pending
 * points: β = 0 in "scale", the optimisers' points in "optimise", the MAP estimates in
 * "curvature".
 */
export interface ApeglmState extends LbfgsbLockstep {
  readonly kind: "apeglm-round";
  /** "scale": the objective at β = 0; "optimise": L-BFGS-B; "curvature": the Hessian at the MAP. */
  readonly stage: "scale" | "optimise" | "curvature";
  readonly prior: ApeglmPrior;
  /** Fitted genes G (the requests' mask length). */
  readonly genes: number;
  /** The genes estimated, ascending. */
  readonly rows: Int32Array;
  /** Each row's objective scale: max(its negative log posterior at β = 0, 1) (empty before). */
  readonly scale: Float64Array;
}

/** apeglm's estimates per row. */
export interface ApeglmEnd {
  readonly kind: "apeglm-end";
  readonly rows: Int32Array;
  /** MAP coefficients, rows×p (natural log). */
  readonly map: Float64Array;
  /** Posterior standard deviation of the shrunk coefficient (natural log). */
  readonly sd: Float64Array;
  /** L-BFGS-B's convergence code per row (0: converged). */
  readonly convergence: Int32Array;
}

/** Start: every row evaluated at β = 0 for its objective's scale. */
export function apeglmStart(prior: ApeglmPrior, rows: Int32Array, genes: number): ApeglmState {
  return {
    kind: "apeglm-round",
    stage: "scale",
    prior,
    genes,
    rows,
    scale: new Float64Array(0),
    optimisers: [],
    pending: Array.from(rows, () => new Float64Array(prior.p)),
  };
}

/** The request of a state: its waiting points. */
export function apeglmRequest(state: ApeglmState): ApeglmRequest {
  const { p } = state.prior;
  const mask = new Uint8Array(state.genes);
  const waiting: Float64Array[] = [];
  state.rows.forEach((g, j) => {
    const x = state.pending[j];
    if (x === null) return;
    mask[g] = 1;
    waiting.push(x);
  });
  const beta = new Float64Array(waiting.length * p);
  waiting.forEach((x, a) => {
    beta.set(x, a * p);
  });
  return {
    kind: "apeglm-request",
    coefficients: p,
    mask,
    beta,
    curvature: state.stage === "curvature",
  };
}

/** apeglm's start (0.1, −0.1, 0.1, …). */
function initialPoint(p: number): Float64Array {
  return Float64Array.from({ length: p }, (_, k) => (k % 2 === 0 ? 0.1 : -0.1));
}

/** Aggregate one round. Pure. */
export function apeglmAggregate(
  state: ApeglmState,
  shares: readonly ApeglmShare[],
): ApeglmState | ApeglmEnd {
  const { prior } = state;
  const { p } = prior;
  const waiting = lockstepWaiting(state).length;
  for (const [c, s] of shares.entries()) {
    if (s.nll.length !== waiting || s.score.length !== waiting * p)
      throw new Error(`apeglm share ${c} has ${s.nll.length} values, expected ${waiting}`);
  }
  const nll = sumOverCenters(shares, "nll");
  if (state.stage === "scale") {
    const zero = new Float64Array(p);
    const scale = Float64Array.from(state.rows, (_, a) =>
      Math.max(negativeLogPrior(prior, zero) + nll[a], 1),
    );
    const lockstep = lockstepStart(
      Array.from(state.rows, () => initialPoint(p)),
      {
        lower: new Float64Array(p).fill(Number.NEGATIVE_INFINITY),
        upper: new Float64Array(p).fill(Number.POSITIVE_INFINITY),
        ...OPTIMISER,
      },
    );
    return { ...state, stage: "optimise", scale, ...lockstep };
  }
  if (state.stage === "curvature") return apeglmEnd(state, sumOverCenters(shares, "information"));
  const score = sumOverCenters(shares, "score");
  const lockstep = lockstepTell(state, (x, a, j) => {
    const scale = state.scale[j];
    const value = (negativeLogPrior(prior, x) + nll[a]) / scale;
    const gradient = new Float64Array(p);
    addPriorGradient(prior, x, gradient);
    for (let k = 0; k < p; k++) gradient[k] = (gradient[k] - score[a * p + k]) / scale;
    return { value: Number.isFinite(value) ? value : NOT_FINITE, gradient };
  });
  if (!lockstepDone(lockstep)) return { ...state, ...lockstep };
  // Every optimiser stopped: one more round for the curvature at the MAP.
  return {
    ...state,
    stage: "curvature",
    optimisers: lockstep.optimisers,
    pending: lockstepResults(lockstep).map((r) => r.par),
  };
}

/**
 * The estimates from the pooled observed information at the MAP: the posterior covariance is
 * the inverse of information + the prior's curvature (the negative log posterior's Hessian).
 */
function apeglmEnd(state: ApeglmState, information: Float64Array): ApeglmEnd {
  const { prior, rows } = state;
  const { p, coefficient } = prior;
  const pp = p * p;
  const map = new Float64Array(rows.length * p);
  const hessian = unpackSymmetric(information, p);
  state.pending.forEach((x, a) => {
    const point = x as Float64Array;
    map.set(point, a * p);
    for (let k = 0; k < p; k++) hessian[a * pp + k * p + k] += priorCurvature(prior, point, k);
  });
  const inverse = new Float64Array(rows.length * pp);
  invertBatch(hessian, p, rows.length, inverse);
  const sd = Float64Array.from(rows, (_, a) =>
    Math.sqrt(Math.abs(inverse[a * pp + coefficient * p + coefficient])),
  );
  const convergence = Int32Array.from(lockstepResults(state), (r) => r.convergence);
  return { kind: "apeglm-end", rows, map, sd, convergence };
}

/** apeglm's phase over the step "apeglm". */
export function apeglmPhase(
  name = "apeglm",
): IterativePhase<ApeglmStepTypes, "apeglm", ApeglmEnd, ApeglmState> {
  return {
    name,
    step: "apeglm",
    request: apeglmRequest,
    aggregate: apeglmAggregate,
    isResult: (value): value is ApeglmEnd => value.kind === "apeglm-end",
    activeGenes: (state) => lockstepWaiting(state).length,
    finish: (state) => {
      throw new Error(`apeglm: no gene left to estimate in stage ${state.stage}`);
    },
  };
}

/** What apeglm starts from. */
export interface ApeglmInput {
  readonly p: number;
  /** The shrunk column. */
  readonly coefficient: number;
  /** Fitted genes G. */
  readonly genes: number;
  /** The genes estimated (DESeq2's rows with a count above zero), ascending. */
  readonly rows: Int32Array;
  /** The results' MLE log2 fold change per fitted gene (NaN where NA). */
  readonly log2FoldChange: Float64Array;
  /** Its standard error per fitted gene. */
  readonly lfcSE: Float64Array;
  /**
   * DESeq2's `apeAdapt` (default true): the prior scale adapted to the MLE estimates; false:
   * apeglm's fixed scale 1.
   */
  readonly adaptive?: boolean;
}

/** apeglm's shrunk fold changes over the fitted genes. */
export interface ApeglmOutcome {
  /** MAP log2 fold change per fitted gene (NaN outside `rows`). */
  readonly log2FoldChange: Float64Array;
  /** Posterior SD of it (log2 scale). */
  readonly lfcSE: Float64Array;
  /** The adaptive prior variance A (natural log scale; NaN when not adaptive) and the scale used. */
  readonly priorVariance: number;
  readonly priorScale: number;
  /** Rows whose L-BFGS-B did not converge (apeglm reports them and keeps their estimates). */
  readonly notConverged: number;
}

/** Run apeglm over the federation (see the module's comment). */
export async function apeglmShrinkage(
  runner: ApeglmRunner,
  input: ApeglmInput,
  phase = "apeglm",
): Promise<ApeglmOutcome> {
  const priorVariance =
    input.adaptive === false
      ? Number.NaN
      : apeglmPriorVariance(
          Float64Array.from(input.log2FoldChange, (b) => b * Math.LN2),
          Float64Array.from(input.lfcSE, (s) => s * Math.LN2),
        );
  const priorScale = input.adaptive === false ? 1 : apeglmPriorScale(priorVariance);
  const log2FoldChange = new Float64Array(input.genes).fill(Number.NaN);
  const lfcSE = new Float64Array(input.genes).fill(Number.NaN);
  if (input.rows.length === 0)
    return { log2FoldChange, lfcSE, priorVariance, priorScale, notConverged: 0 };
  const prior = { p: input.p, coefficient: input.coefficient, scale: priorScale };
  const end = await runner.runPhase(
    apeglmPhase(phase),
    apeglmStart(prior, input.rows, input.genes),
  );
  end.rows.forEach((g, a) => {
    log2FoldChange[g] = end.map[a * input.p + input.coefficient] / Math.LN2;
    lfcSE[g] = end.sd[a] / Math.LN2;
  });
  const notConverged = end.convergence.filter((c) => c !== 0).length;
  return { log2FoldChange, lfcSE, priorVariance, priorScale, notConverged };
}
