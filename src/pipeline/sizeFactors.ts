/**
 * The federated size factors of a run: two rounds (log sums, then each center's own median of
 * ratios against the pooled pseudo-reference), and with DESeq2's poscounts a third, which has
 * each center divide its size factors by their geometric mean over all samples; or DESeq2's
 * iterative size factors (algorithms/sizeFactors/iterate.ts), each iteration an intercept-only
 * dispersion estimation and a search of the common slope. Each center keeps its size factors:
 * the aggregator never learns them, and every later step has the center use its own.
 */
import { DESEQ2_DISPERSION_OPTIONS } from "../algorithms/dispersions/options.js";
import type { FitHyperparameters } from "../algorithms/hyperparameters.js";
import type { LfcSolver } from "../algorithms/lfc/computeLfc.js";
import type { GeneMask } from "../algorithms/masks.js";
import {
  logGeometricMeans,
  meanLogSizeFactor,
  positiveLogGeometricMeans,
} from "../algorithms/sizeFactors/aggregate.js";
import {
  commonSlope,
  ITERATE_MAX_GENE_SET_UPDATES,
  ITERATE_MAX_ITERATIONS,
  ITERATE_TOLERANCE,
  iterateGeneSet,
} from "../algorithms/sizeFactors/iterate.js";
import type { SizeFactorProblem, SizeFactorsType } from "../algorithms/sizeFactors/state.js";
import { INTERCEPT_ONLY } from "../design/formula.js";
import type { FederationRunner } from "../federation/runner.js";
import { InputError } from "../io/errors.js";
import { federatedDispersions } from "./dispersions.js";

/** What the iterative size factors' dispersion estimations share with the run's. */
export interface IterateContext {
  /** Indices of the genes with a count somewhere. */
  readonly fitted: Int32Array;
  readonly hp: FitHyperparameters;
  readonly solver: LfcSolver;
  readonly maxit?: number;
}

/** How DESeq2's iterative size factors went (run.json). */
export interface IterateReport {
  /** Iterations of dispersions and size factors (DESeq2's, at most 10). */
  readonly iterations: number;
  /** Σ (Δ ln s)² of the last iteration (below 1e-4: converged). */
  readonly lastMove: number;
  /** Solves with an updated gene set, over all iterations. */
  readonly geneSetUpdates: number;
}

/**
 * Have every center estimate its samples' size factors (DESeq2's median of ratios on the pooled
 * counts, or its poscounts), which it keeps.
 * @param genes - every gene of the federation, in its order
 * @param type - "ratio" (DESeq2's default) or "poscounts"
 * @param present - per gene, whether some center has a non-zero count (needed by poscounts)
 */
export async function federatedSizeFactors(
  runner: FederationRunner,
  genes: readonly string[],
  type: SizeFactorsType = "ratio",
  present?: GeneMask,
  iterate?: IterateContext,
): Promise<IterateReport | null> {
  if (type === "iterate") {
    if (iterate === undefined) throw new Error("iterative size factors need the run's context");
    return iteratedSizeFactors(runner, genes, iterate);
  }
  const poscounts = type === "poscounts";
  const sums = await runner.round("size-factors", "logSums", {
    kind: "log-sums-request",
    genes,
    genesWithZeros: poscounts,
  });
  if (poscounts && present === undefined)
    throw new Error("poscounts size factors need the presence mask");
  const logGeoMeans = poscounts
    ? positiveLogGeometricMeans(sums, present as GeneMask)
    : logGeometricMeans(sums);
  const shares = await runner.round("size-factors", "sizeFactors", {
    kind: "size-factors-request",
    logGeoMeans,
    stabilize: poscounts,
  });
  if (!poscounts) return null;
  await runner.round("size-factors", "sizeFactorScale", {
    kind: "size-factor-scale-request",
    logMean: meanLogSizeFactor(shares),
  });
  return null;
}

const PHASE = "size-factors";

/**
 * DESeq2's `estimateSizeFactorsIterate`: from s = 1, at most 10 times, the intercept-only
 * dispersions (fitType "mean") at the current size factors, then the size factors maximising the
 * likelihood of the genes above the 5% quantile of it, until Σ (Δ ln s)² < 1e-4 (from the second
 * iteration on).
 * @throws InputError when they do not converge within 10 iterations (DESeq2 stops too)
 */
async function iteratedSizeFactors(
  runner: FederationRunner,
  genes: readonly string[],
  context: IterateContext,
): Promise<IterateReport> {
  const shares = await runner.round(PHASE, "unitSizeFactors", {
    kind: "unit-size-factors-request",
    genes,
  });
  const samples = shares.reduce((total, share) => total + share.samples, 0);
  let geneSetUpdates = 0;
  for (let iteration = 1; ; iteration++) {
    const estimates = await federatedDispersions(runner, {
      genes,
      fitted: context.fitted,
      design: INTERCEPT_ONLY.text,
      levels: {},
      references: {},
      columns: ["Intercept"],
      hp: context.hp,
      solver: context.solver,
      maxit: context.maxit,
      fitType: "mean",
      phasePrefix: `${PHASE}-`,
    });
    const nonZero = estimates.initial.mask;
    const dispersions = new Float64Array(genes.length).fill(Number.NaN);
    context.fitted.forEach((g, j) => {
      dispersions[g] = estimates.final[j];
    });
    const base = {
      baseMean: Float64Array.from(estimates.initial.baseMean, (m, g) => (nonZero[g] ? m : 0)),
      dispersions,
      minMu: DESEQ2_DISPERSION_OPTIONS.minMu,
    };
    // The gene set at the iteration's start (t = ln s), then at each solution until it holds.
    let candidate = await evaluate(runner, {
      ...base,
      keep: nonZero,
      lambda: 0,
      shift: 0,
      start: true,
    });
    let keep = iterateGeneSet(candidate.geneLogLik, nonZero);
    for (let update = 0; ; update++) {
      const problem = { ...base, keep };
      const solved = await commonSlope(problem, samples, async (lambda) => {
        const [pooled] = await runner.round(PHASE, "sizeFactorRoot", {
          kind: "size-factor-root-request",
          ...problem,
          lambda,
        });
        return { logSum: pooled.logSum, slope: pooled.slope, beyond: pooled.beyond[0] };
      });
      candidate = await evaluate(runner, { ...problem, ...solved, start: false });
      const next = iterateGeneSet(candidate.geneLogLik, nonZero);
      const same = next.every((k, g) => k === keep[g]);
      if (same || update + 1 >= ITERATE_MAX_GENE_SET_UPDATES) {
        await runner.round(PHASE, "sizeFactorCandidate", {
          kind: "size-factor-candidate-request",
          ...problem,
          lambda: solved.lambda,
          shift: solved.shift,
          atStart: false,
          commit: true,
        });
        break;
      }
      geneSetUpdates++;
      keep = next;
    }
    if (iteration > 1 && candidate.moved < ITERATE_TOLERANCE)
      return { iterations: iteration, lastMove: candidate.moved, geneSetUpdates };
    if (iteration === ITERATE_MAX_ITERATIONS)
      throw new InputError(
        `iterative size factors did not converge within ${ITERATE_MAX_ITERATIONS} iterations (Σ (Δ ln s)² = ${candidate.moved}; DESeq2 stops too): use --size-factors-type ratio or poscounts`,
      );
  }
}

/**
 * One evaluation round: the pooled per-gene log-likelihoods and Σ (Δ ln s)² at the candidate
 * t(λ) − shift, or with `start` at the iteration's start t = ln s (λ and shift then unused).
 */
async function evaluate(
  runner: FederationRunner,
  request: SizeFactorProblem & { readonly shift: number; readonly start: boolean },
): Promise<{ geneLogLik: Float64Array; moved: number }> {
  const { start, ...problem } = request;
  const [pooled] = await runner.round(PHASE, "sizeFactorCandidate", {
    kind: "size-factor-candidate-request",
    ...problem,
    commit: false,
    atStart: start,
  });
  return { geneLogLik: pooled.geneLogLik, moved: pooled.moved };
}
