/**
 * DESeq2's iterative size factors (`estimateSizeFactors(type = "iterate")`,
 * `estimateSizeFactorsIterate`), solved without any sample's size factor leaving its center.
 *
 * DESeq2 starts from s = 1 and repeats, at most 10 times: the intercept-only dispersions
 * (`~ 1`, fitType "mean") at the current s; then, with q = μ/s of that fit (μ the linear
 * intercept-only μ floored at minmu) and those dispersions α fixed, it maximises over ln size
 * factors t (normalised to Σ t = 0) the summed log-likelihood
 * Σ_{g ∈ K(t)} Σ_j ln NB(y_gj; q_gj·e^{t_j}, 1/α_g), where K(t) drops the genes whose summed
 * log-likelihood is at or below its 5% quantile (R's `optim(method = "L-BFGS-B")` with numerical
 * gradients); it stops once Σ (Δ ln s)² < 1e-4 after the second iteration.
 *
 * For a fixed gene set K the objective is a sum over samples of strictly concave functions
 * h_j(t_j) (the NB log-likelihood is concave in ln μ), so its maximum under Σ t_j = 0 is the
 * point where every h_j′(t_j) equals one common λ (a Lagrange multiplier). Given λ each center
 * solves its own samples' t_j(λ) (Newton within a bracket); the aggregator searches λ with
 * Newton steps on the pooled Σ t_j(λ) = 0, then recomputes K at the solution and solves again
 * until K no longer changes: a maximum of DESeq2's objective at which K is locally constant is
 * exactly such a fixed point. The aggregator sees pooled sums only (Σ t_j, Σ dt_j/dλ, per-gene
 * log-likelihood sums); each center keeps its samples' size factors.
 */
import { nbLogDensity } from "../../math/nbDensity.js";
import { quantileType7 } from "../../stats/quantile.js";
import { type GeneMask, maskIndices } from "../masks.js";
import type {
  SizeFactorCandidateRequest,
  SizeFactorCandidateShare,
  SizeFactorProblem,
  SizeFactorRootRequest,
  SizeFactorRootShare,
} from "./state.js";

/** DESeq2's `niter`: iterations of dispersions and size factors at most. */
export const ITERATE_MAX_ITERATIONS = 10;
/** DESeq2's `Q`: genes at or below this quantile of the summed log-likelihood are left out. */
export const ITERATE_QUANTILE = 0.05;
/** DESeq2's convergence test: Σ (ln s_old − ln s_new)² below this, from the second iteration. */
export const ITERATE_TOLERANCE = 1e-4;
/** Re-solves with an updated gene set within one iteration, at most. */
export const ITERATE_MAX_GENE_SET_UPDATES = 20;
/** Newton steps on λ within one solve, at most. */
export const ITERATE_MAX_ROOT_ROUNDS = 100;
/** |ln s| a center accepts: beyond, a sample's size factor leaves the doubles' useful range. */
const LOG_SIZE_FACTOR_LIMIT = 200;

/** What a center solves its samples' problems on: its counts and its size factors at the start. */
export interface IterateCenterData {
  /** The center's samples. */
  readonly n: number;
  /** Counts of the run's genes, gene-major (gene g's n counts at g·n). */
  readonly counts: Float64Array;
  /** Its size factors at the start of the iteration (s of q = μ/s). */
  readonly sizeFactors: Float64Array;
}

/** DESeq2's q_gj = max(baseMean_g·s_j, minMu)/s_j. */
function meanOf(problem: SizeFactorProblem, g: number, s: number): number {
  return Math.max(problem.baseMean[g] * s, problem.minMu) / s;
}

/**
 * One sample's slope h′(t) = Σ_K [y − (y + r)·μ/(μ + r)] and curvature h″(t) =
 * −Σ_K (y + r)·μ/(μ + r)·r/(μ + r), μ = q·e^t, r = 1/α; written into `out` (no allocation).
 */
function slopeAndCurvature(
  center: IterateCenterData,
  problem: SizeFactorProblem,
  kept: Int32Array,
  j: number,
  t: number,
  out: Float64Array,
): void {
  const { n, counts } = center;
  const s = center.sizeFactors[j];
  const scale = Math.exp(t);
  let slope = 0;
  let curvature = 0;
  for (let a = 0; a < kept.length; a++) {
    const g = kept[a];
    const y = counts[g * n + j];
    const r = 1 / problem.dispersions[g];
    const mu = meanOf(problem, g, s) * scale;
    const share = mu / (mu + r);
    slope += y - (y + r) * share;
    curvature -= (y + r) * share * (1 - share);
  }
  out[0] = slope;
  out[1] = curvature;
}

/**
 * A sample's t with h′(t) = λ: Newton steps kept within a bracket (h′ decreases strictly), to
 * the last bit. `null` when λ is not below the sample's largest slope Σ_K y (no root: t → −∞).
 * @throws Error when the root lies beyond |t| = 200 (a size factor outside e^±200)
 */
function sampleRoot(
  center: IterateCenterData,
  problem: SizeFactorProblem,
  kept: Int32Array,
  j: number,
  work: Float64Array,
): { t: number; curvature: number } | null {
  const { n, counts } = center;
  let total = 0;
  for (let a = 0; a < kept.length; a++) total += counts[kept[a] * n + j];
  if (!(problem.lambda < total)) return null;
  const lambda = problem.lambda;
  let t = Math.log(center.sizeFactors[j]);
  slopeAndCurvature(center, problem, kept, j, t, work);
  // Bracket the root: lo has h′ > λ, hi has h′ < λ.
  let lo = Number.NEGATIVE_INFINITY;
  let hi = Number.POSITIVE_INFINITY;
  if (work[0] > lambda) lo = t;
  else hi = t;
  for (
    let step = 1;
    lo === Number.NEGATIVE_INFINITY || hi === Number.POSITIVE_INFINITY;
    step *= 2
  ) {
    const probe = lo === Number.NEGATIVE_INFINITY ? hi - step : lo + step;
    if (Math.abs(probe) > LOG_SIZE_FACTOR_LIMIT)
      throw new Error(
        `iterative size factors: a sample's size factor is beyond e^±${LOG_SIZE_FACTOR_LIMIT}`,
      );
    slopeAndCurvature(center, problem, kept, j, probe, work);
    if (work[0] > lambda) lo = probe;
    else hi = probe;
  }
  t = Math.min(Math.max(t, lo), hi);
  for (let iteration = 0; iteration < 200; iteration++) {
    slopeAndCurvature(center, problem, kept, j, t, work);
    const gap = work[0] - lambda;
    if (gap === 0) break;
    if (gap > 0) lo = t;
    else hi = t;
    let next = t - gap / work[1];
    if (!(next > lo && next < hi)) next = lo + (hi - lo) / 2;
    if (Math.abs(next - t) <= 4 * Number.EPSILON * Math.max(1, Math.abs(t)) || next === t) {
      t = next;
      break;
    }
    t = next;
  }
  slopeAndCurvature(center, problem, kept, j, t, work);
  return { t, curvature: work[1] };
}

/** A center's reply to "sizeFactorRoot": Σ t_j(λ), Σ 1/h_j″ and the samples without a root. */
export function sizeFactorRootLocal(
  center: IterateCenterData,
  request: SizeFactorRootRequest,
): SizeFactorRootShare {
  const kept = maskIndices(request.keep);
  const work = new Float64Array(2);
  let logSum = 0;
  let slope = 0;
  let beyond = 0;
  for (let j = 0; j < center.n; j++) {
    const root = sampleRoot(center, request, kept, j, work);
    if (root === null) {
      beyond++;
      continue;
    }
    logSum += root.t;
    slope += 1 / root.curvature;
  }
  return beyond > 0
    ? { kind: "size-factor-root-share", logSum: 0, slope: 0, beyond: Float64Array.of(beyond) }
    : { kind: "size-factor-root-share", logSum, slope, beyond: Float64Array.of(0) };
}

/**
 * The candidate ln size factors t_j(λ) − shift of the center's samples (ln s_j at the start).
 * @throws Error when a sample has no root at the request's λ
 */
export function candidateLogSizeFactors(
  center: IterateCenterData,
  request: SizeFactorCandidateRequest,
): Float64Array {
  if (request.atStart) return Float64Array.from(center.sizeFactors, Math.log);
  const kept = maskIndices(request.keep);
  const work = new Float64Array(2);
  const t = new Float64Array(center.n);
  for (let j = 0; j < center.n; j++) {
    const root = sampleRoot(center, request, kept, j, work);
    if (root === null)
      throw new Error("iterative size factors: a candidate at a slope with samples beyond it");
    t[j] = root.t - request.shift;
  }
  return t;
}

/**
 * A center's evaluation of the candidate: per gene its samples' summed ln NB at μ = q·e^t (R's
 * `dnbinom`; 0 for genes with no count anywhere), and Σ_j (t_j − ln s_j)².
 */
export function sizeFactorCandidateLocal(
  center: IterateCenterData,
  request: SizeFactorCandidateRequest,
  t: Float64Array,
): SizeFactorCandidateShare {
  const { n, counts, sizeFactors } = center;
  const genes = request.baseMean.length;
  const geneLogLik = new Float64Array(genes);
  const scales = Float64Array.from(t, Math.exp);
  for (let g = 0; g < genes; g++) {
    if (!(request.baseMean[g] > 0)) continue;
    const size = 1 / request.dispersions[g];
    let sum = 0;
    for (let j = 0; j < n; j++)
      sum += nbLogDensity(counts[g * n + j], size, meanOf(request, g, sizeFactors[j]) * scales[j]);
    geneLogLik[g] = sum;
  }
  let moved = 0;
  for (let j = 0; j < n; j++) moved += (t[j] - Math.log(sizeFactors[j])) ** 2;
  return { kind: "size-factor-candidate-share", geneLogLik, moved };
}

/**
 * DESeq2's gene set: the genes with a count somewhere whose pooled log-likelihood is above R's
 * type-7 `quantile(gene.ll, Q)` over them.
 */
export function iterateGeneSet(geneLogLik: Float64Array, nonZero: GeneMask): GeneMask {
  let count = 0;
  for (let g = 0; g < nonZero.length; g++) if (nonZero[g]) count++;
  const values = new Float64Array(count);
  for (let g = 0, a = 0; g < nonZero.length; g++) if (nonZero[g]) values[a++] = geneLogLik[g];
  const cut = quantileType7(values, [ITERATE_QUANTILE])[0];
  return Uint8Array.from(nonZero, (z, g) => (z && geneLogLik[g] > cut ? 1 : 0));
}

/**
 * The problem's floor −Σ_K 1/α: every sample's slope h′ lies above it, so a common λ must too.
 */
export function slopeFloor(problem: Pick<SizeFactorProblem, "keep" | "dispersions">): number {
  let floor = 0;
  for (let g = 0; g < problem.keep.length; g++)
    if (problem.keep[g]) floor -= 1 / problem.dispersions[g];
  return floor;
}

/** The pooled reply to a root request. */
export interface PooledRoot {
  readonly logSum: number;
  readonly slope: number;
  readonly beyond: number;
}

/**
 * The common slope λ with Σ_j t_j(λ) = 0 over all N samples: Newton steps on the pooled sum
 * (dΣt/dλ = Σ 1/h″ < 0), kept within the bracket the signs found so far give (λ above the
 * problem's floor −Σ_K 1/α, below which no sample has a root; a λ that leaves samples without
 * a root narrows it from above). Returns λ and the mean of Σ t_j(λ) left (the shift).
 * @param ask - one round: the pooled reply at λ
 * @throws Error when the search does not meet its tolerance within its rounds
 */
export async function commonSlope(
  problem: Omit<SizeFactorProblem, "lambda">,
  samples: number,
  ask: (lambda: number) => Promise<PooledRoot>,
): Promise<{ lambda: number; shift: number; rounds: number }> {
  let lo = slopeFloor(problem);
  let hi = Number.POSITIVE_INFINITY;
  let lambda = 0;
  for (let round = 1; round <= ITERATE_MAX_ROOT_ROUNDS; round++) {
    const reply = await ask(lambda);
    let next: number;
    if (reply.beyond > 0) {
      hi = lambda;
      next = lo + (hi - lo) / 2;
    } else {
      const sum = reply.logSum;
      if (Math.abs(sum) <= samples * 1e-13 || sum === 0)
        return { lambda, shift: sum / samples, rounds: round };
      if (sum > 0) lo = lambda;
      else hi = lambda;
      next = lambda - sum / reply.slope;
      if (!(next > lo && next < hi))
        next =
          hi === Number.POSITIVE_INFINITY ? lo + 2 * Math.max(1, Math.abs(lo)) : lo + (hi - lo) / 2;
    }
    if (next === lambda || !(hi - lo > 2 * Number.EPSILON * Math.max(Math.abs(lo), Math.abs(hi)))) {
      // The bracket is down to neighbouring doubles: λ is as close as a double gets.
      if (reply.beyond === 0) return { lambda, shift: reply.logSum / samples, rounds: round };
      throw new Error(`iterative size factors: the common slope's search stalled at ${lambda}`);
    }
    lambda = next;
  }
  throw new Error(
    `iterative size factors: no common slope within ${ITERATE_MAX_ROOT_ROUNDS} rounds`,
  );
}
