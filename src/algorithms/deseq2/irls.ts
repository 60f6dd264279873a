/**
 * DESeq2's IRLS (`fitBeta` in DESeq2 1.38's C++), one iteration per round trip, gene by gene
 * with DESeq2's own decisions: the ridge λ = 1e-6 on the log2 scale, μ floored at 0.5, the
 * deviance rule |dev − dev_old| / (|dev| + 0.1) < 1e-8 from the second iteration on, a stop
 * (not converged) when a coefficient leaves ±30 or the deviance is NaN, and 100 iterations.
 *
 * Round r sends β_r of the genes still iterating; the centers return Σ NLL, XᵀWX and XᵀWz at
 * β_r. The deviance 2·NLL(β_r) decides whether the iteration that produced β_r ended IRLS;
 * if not, the sums give β_{r+1} = (XᵀWX + λI)⁻¹ XᵀWz. DESeq2 solves the same normal equations
 * through a QR decomposition of the weighted design stacked on √λ: equal up to rounding.
 */
import { solveBatch, triangleSize } from "../../math/linalg.js";
import type { LfcPhase } from "../lfc/steps.js";
import { maskCount, maskIndices } from "../masks.js";
import { sumOverCenters } from "../shares.js";
import {
  DESEQ2_BETA_TOL,
  DESEQ2_LARGE,
  DESEQ2_MAX_ITERATIONS,
  type Deseq2IrlsEnd,
  type Deseq2IrlsRequest,
  type Deseq2IrlsShare,
  type Deseq2IrlsState,
  naturalRidge,
} from "./state.js";

/**
 * The first IRLS state: every gene of `mask` iterates from `betaInit`.
 * @param betaInit - G×p initial coefficients (natural log)
 * @param mask - the genes to fit
 * @param lambda - the prior precision per column on the log2 scale (absent: DESeq2's 1e-6)
 */
export function deseq2IrlsStart(
  betaInit: Float64Array,
  mask: Uint8Array,
  p: number,
  refit: boolean,
  lambda?: Float64Array,
): Deseq2IrlsState {
  const genes = mask.length;
  return {
    ...(lambda === undefined ? {} : { lambda: lambda.slice() }),
    kind: "deseq2-irls-round",
    round: 0,
    refit,
    p,
    beta: betaInit.slice(),
    mask: mask.slice(),
    iterations: new Int32Array(genes),
    previousDeviance: new Float64Array(genes),
  };
}

/** What the centers are sent for a state. */
export function deseq2IrlsRequest(state: Deseq2IrlsState): Deseq2IrlsRequest {
  const { p } = state;
  const active = maskIndices(state.mask);
  const beta = new Float64Array(active.length * p);
  active.forEach((g, a) => {
    beta.set(state.beta.subarray(g * p, g * p + p), a * p);
  });
  return {
    kind: "deseq2-irls-request",
    refit: state.refit,
    coefficients: p,
    mask: state.mask,
    beta,
  };
}

/**
 * Aggregate one round: decide, gene by gene, whether DESeq2's IRLS stops at β_r, and take the
 * next step for the others. Pure.
 * @param maxIterations - DESeq2's `maxit`
 */
export function deseq2IrlsAggregate(
  state: Deseq2IrlsState,
  shares: readonly Deseq2IrlsShare[],
  maxIterations = DESEQ2_MAX_ITERATIONS,
): Deseq2IrlsState | Deseq2IrlsEnd {
  const { p, round } = state;
  const half = triangleSize(p);
  const active = maskIndices(state.mask);
  if (shares.length === 0) throw new Error("IRLS aggregation needs at least one share");
  for (const [c, s] of shares.entries()) {
    if (
      s.nll.length !== active.length ||
      s.xtwx.length !== active.length * half ||
      s.xtwz.length !== active.length * p
    ) {
      throw new Error(`IRLS share ${c} does not answer round ${round} on ${active.length} genes`);
    }
  }
  const nll = sumOverCenters(shares, "nll");
  const xtwx = sumOverCenters(shares, "xtwx");
  const xtwz = sumOverCenters(shares, "xtwz");
  const beta = state.beta.slice();
  const mask = state.mask.slice();
  const iterations = state.iterations.slice();
  const previousDeviance = state.previousDeviance.slice();

  // Which genes go on: the deviance at β_r closes iteration r − 1 (none at r = 0: DESeq2 does
  // not evaluate the deviance of its starting point, dev_old starts at 0).
  const next: number[] = [];
  for (let a = 0; a < active.length; a++) {
    const g = active[a];
    if (round > 0) {
      const deviance = 2 * nll[a];
      const test = Math.abs(deviance - previousDeviance[g]) / (Math.abs(deviance) + 0.1);
      if (Number.isNaN(test)) {
        iterations[g] = maxIterations;
        mask[g] = 0;
        continue;
      }
      if (round > 1 && test < DESEQ2_BETA_TOL) {
        mask[g] = 0;
        continue;
      }
      previousDeviance[g] = deviance;
    }
    next.push(a);
  }

  // The next iterate for those: β = (XᵀWX + Λ)⁻¹ XᵀWz.
  const ridge = naturalRidge(state.lambda, p);
  const system = new Float64Array(next.length * p * p);
  const rhs = new Float64Array(next.length * p);
  next.forEach((a, j) => {
    const m = j * p * p;
    let t = a * half;
    for (let k = 0; k < p; k++) {
      for (let l = k; l < p; l++) {
        system[m + k * p + l] = xtwx[t];
        system[m + l * p + k] = xtwx[t];
        t++;
      }
      system[m + k * p + k] += ridge[k];
    }
    rhs.set(xtwz.subarray(a * p, a * p + p), j * p);
  });
  const solution = new Float64Array(next.length * p);
  solveSystems(system, rhs, p, next.length, solution);
  next.forEach((a, j) => {
    const g = active[a];
    iterations[g]++;
    let escaped = false;
    for (let k = 0; k < p; k++) {
      const b = solution[j * p + k];
      beta[g * p + k] = b;
      // A non-finite β (only from non-finite sums: the ridge keeps the system regular) stops as
      // one beyond the bound does; either way the row goes to L-BFGS-B from the initial β.
      if (!(Math.abs(b) <= DESEQ2_LARGE)) escaped = true;
    }
    if (escaped) {
      iterations[g] = maxIterations;
      mask[g] = 0;
    } else if (iterations[g] >= maxIterations) {
      // The last iteration: DESeq2 leaves the loop without evaluating its deviance.
      mask[g] = 0;
    }
  });

  if (maskCount(mask) === 0) {
    return {
      kind: "deseq2-irls-end",
      refit: state.refit,
      p,
      beta,
      iterations,
      rounds: round + 1,
    };
  }
  return {
    kind: "deseq2-irls-round",
    round: round + 1,
    refit: state.refit,
    p,
    beta,
    mask,
    iterations,
    previousDeviance,
    ...(state.lambda === undefined ? {} : { lambda: state.lambda }),
  };
}

/** Solve every system; a singular one gets NaN coefficients (DESeq2's row is then unstable). */
function solveSystems(
  system: Float64Array,
  rhs: Float64Array,
  p: number,
  count: number,
  out: Float64Array,
): void {
  try {
    solveBatch(system, rhs, p, count, out);
  } catch {
    const one = new Float64Array(p);
    for (let m = 0; m < count; m++) {
      try {
        solveBatch(
          system.subarray(m * p * p, (m + 1) * p * p),
          rhs.subarray(m * p, (m + 1) * p),
          p,
          1,
          one,
        );
        out.set(one, m * p);
      } catch {
        out.fill(Number.NaN, m * p, (m + 1) * p);
      }
    }
  }
}

/** The IRLS phase of the `deseq2` solver. */
export function deseq2IrlsPhase(
  name = "irls",
  maxIterations = DESEQ2_MAX_ITERATIONS,
): LfcPhase<"deseq2Irls", Deseq2IrlsEnd, Deseq2IrlsState> {
  return {
    name,
    step: "deseq2Irls",
    request: deseq2IrlsRequest,
    aggregate: (state, shares) => deseq2IrlsAggregate(state, shares, maxIterations),
    isResult: (value): value is Deseq2IrlsEnd => value.kind === "deseq2-irls-end",
    activeGenes: (state) => maskCount(state.mask),
    finish: (state) => ({
      kind: "deseq2-irls-end",
      refit: state.refit,
      p: state.p,
      beta: state.beta,
      iterations: state.iterations,
      rounds: state.round,
    }),
  };
}
