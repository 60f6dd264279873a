/**
 * DESeq2's `lfcShrink(dds, coef = k, type)` over the federation.
 *
 * `type = "normal"`: the normal prior
 * from the MLE fit (aggregator only, results/lfcShrink.ts), then DESeq2's MAP fit
 * (`nbinomWaldTest(betaPrior = TRUE)` on the standard model matrix): IRLS from the least-squares
 * start with the prior's precision as its ridge, L-BFGS-B with the prior on the rows IRLS leaves,
 * and the sandwich covariance at the MAP estimate. Genes refitted after Cook's outlier
 * replacement are fitted as DESeq2's lfcShrink fits them, on counts(dds) — which DESeq() has
 * restored to the original counts — with the dispersions their replaced counts gave: the
 * centers' refit datasets are made again of the original counts (`prepareRefit` with
 * `originalCounts`).
 *
 * No new step: the fit uses the MLE fit's steps (`prepareRefit`, `init`, `deseq2Irls`,
 * `nllAtPoints`, `information`), whose requests the centers' replay of the plan checks.
 *
 * `type = "apeglm"`: algorithms/apeglm, from the results' MLE fold changes and standard errors.
 */
import { apeglmShrinkage } from "../algorithms/apeglm/aggregate.js";
import { deseq2Fit } from "../algorithms/deseq2/fit.js";
import { initAggregate } from "../algorithms/init/aggregate.js";
import { sumOverCenters } from "../algorithms/shares.js";
import { waldCovariance } from "../algorithms/wald/aggregate.js";
import type { FederationRunner } from "../federation/runner.js";
import { normalPriorVariance, priorPrecision } from "../results/lfcShrink.js";
import type { ResultsTable } from "../results/resultsTable.js";

/** The prior lfcShrink used, per estimator. */
export type ShrinkPrior =
  | {
      readonly type: "normal";
      /** DESeq2's `betaPriorVar` per design column (log2 scale). */
      readonly variance: Float64Array;
    }
  | {
      readonly type: "apeglm";
      /** apeglm's adaptive prior variance A (natural log scale, apeglm's `priorVar`). */
      readonly variance: number;
      /** The Cauchy prior's scale on the shrunk coefficient: min(√A, 1). */
      readonly scale: number;
      /** Genes whose MAP search did not converge (their estimates are kept, as apeglm does). */
      readonly notConverged: number;
    };

/** What the normal shrinkage starts from: the finished MLE fit of the fitted genes. */
export interface ShrinkInput {
  readonly p: number;
  /** The shrunk coefficient's column. */
  readonly coefficient: number;
  /** The intercept's column. */
  readonly intercept: number;
  /** Final MLE coefficients, G×p over the fitted genes (natural log; refitted genes' refits). */
  readonly beta: Float64Array;
  /** baseMean per fitted gene (the replaced counts' for refitted genes). */
  readonly baseMean: Float64Array;
  /** The fitted dispersion trend per fitted gene. */
  readonly dispersionTrend: Float64Array;
  /** The final dispersion per fitted gene (the refitted genes' refit dispersions). */
  readonly dispersions: Float64Array;
  /**
   * Fitted genes whose counts are all zero after Cook's replacement: left out of the prior and
   * given a shrunk fold change and standard error of 0, as DESeq2's results() gives them.
   */
  readonly nowZero: Uint8Array;
  /**
   * Fitted genes refitted on replaced counts (indices into the fitted genes, ascending): their MAP
   * fit runs on their original counts with their refit dispersions, as DESeq2's.
   */
  readonly refitRows: ArrayLike<number>;
  /** DESeq2's `maxit`. */
  readonly maxIterations?: number;
}

/** The normally shrunk fold changes. */
export interface ShrinkOutcome {
  /** MAP log2 fold change per fitted gene (0 for the genes left with no count). */
  readonly log2FoldChange: Float64Array;
  /** Its standard error (the sandwich at the MAP estimate). */
  readonly lfcSE: Float64Array;
  /** DESeq2's `betaPriorVar` per column (log2 scale). */
  readonly priorVariance: Float64Array;
}

/** One MAP fit (the centers' main or refit datasets) and its covariance. */
async function mapFit(
  runner: FederationRunner,
  refit: boolean,
  p: number,
  lambda: Float64Array,
  maxIterations: number | undefined,
): Promise<{ beta: Float64Array; sigma: Float64Array }> {
  const prefix = refit ? "shrink-refit" : "shrink";
  const init = initAggregate(
    await runner.round(`${prefix}-init`, "init", { kind: "init-request", refit }),
    refit,
  );
  const fit = await deseq2Fit(
    runner,
    { betaInit: init.beta, mask: init.mask, p, refit, lambda },
    { phases: { irls: `${prefix}-irls`, optim: `${prefix}-optim` }, maxIterations },
  );
  const shares = await runner.round(`${prefix}-wald`, "information", {
    kind: "information-request",
    beta: fit.beta,
    coefficients: p,
    refit,
  });
  const { sigma } = waldCovariance(sumOverCenters(shares, "xtwx"), p, lambda);
  return { beta: fit.beta, sigma };
}

/** Run DESeq2's normal shrinkage of one coefficient (see the module's comment). */
export async function normalShrinkage(
  runner: FederationRunner,
  input: ShrinkInput,
): Promise<ShrinkOutcome> {
  const { p, coefficient } = input;
  const genes = input.baseMean.length;
  // The prior from the genes whose counts are not all zero (DESeq2's `!allZero`).
  const used = Array.from({ length: genes }, (_, g) => g).filter((g) => !input.nowZero[g]);
  const priorVariance = normalPriorVariance({
    betaLog2: Float64Array.from(
      used.flatMap((g) => Array.from(input.beta.subarray(g * p, g * p + p))),
      (b) => b / Math.LN2,
    ),
    baseMean: Float64Array.from(used, (g) => input.baseMean[g]),
    dispersionTrend: Float64Array.from(used, (g) => input.dispersionTrend[g]),
    p,
    intercept: input.intercept,
  });
  const lambda = priorPrecision(priorVariance);
  const main = await mapFit(runner, false, p, lambda, input.maxIterations);
  const beta = main.beta;
  const sigma = main.sigma;
  if (input.refitRows.length > 0) {
    // DESeq2 refits on counts(dds), which DESeq() restored to the original counts, with the
    // dispersions the replaced counts gave: the centers' refit datasets become those.
    const refitGenes = new Uint8Array(genes);
    for (let a = 0; a < input.refitRows.length; a++) refitGenes[input.refitRows[a]] = 1;
    await runner.round("shrink-refit", "prepareRefit", {
      kind: "prepare-refit-request",
      refitGenes,
      dispersions: Float64Array.from(input.refitRows, (g) => input.dispersions[g]),
      originalCounts: true,
    });
    const refit = await mapFit(runner, true, p, lambda, input.maxIterations);
    for (let a = 0; a < input.refitRows.length; a++) {
      const g = input.refitRows[a];
      beta.set(refit.beta.subarray(a * p, a * p + p), g * p);
      sigma.set(refit.sigma.subarray(a * p * p, (a + 1) * p * p), g * p * p);
    }
  }
  const log2FoldChange = new Float64Array(genes);
  const lfcSE = new Float64Array(genes);
  for (let g = 0; g < genes; g++) {
    if (input.nowZero[g]) {
      // DESeq2's MAP fit leaves these genes out (all zero now); its results() fills in 0.
      log2FoldChange[g] = 0;
      lfcSE[g] = 0;
      continue;
    }
    log2FoldChange[g] = beta[g * p + coefficient] / Math.LN2;
    lfcSE[g] = Math.sqrt(sigma[g * p * p + coefficient * p + coefficient]) / Math.LN2;
  }
  return { log2FoldChange, lfcSE, priorVariance };
}

/**
 * DESeq2's `lfcShrink(dds, coef = k, type = "apeglm")` of every fitted gene: apeglm's prior
 * adapted to the results' MLE fold changes and standard errors, its MAP estimates and posterior
 * SDs from the centers' likelihood terms on their original counts (algorithms/apeglm).
 * @param results - the results table (over the run's genes)
 * @param fitted - the fitted genes' indices into it
 */
export async function apeglmShrink(
  runner: FederationRunner,
  p: number,
  coefficient: number,
  results: ResultsTable,
  fitted: Int32Array,
): Promise<{ prior: ShrinkPrior; log2FoldChange: Float64Array; lfcSE: Float64Array }> {
  const over = (values: Float64Array) => Float64Array.from(fitted, (g) => values[g]);
  const outcome = await apeglmShrinkage(runner, {
    p,
    coefficient,
    genes: fitted.length,
    rows: Int32Array.from(fitted, (_, j) => j),
    log2FoldChange: over(results.log2FoldChange),
    lfcSE: over(results.lfcSE),
  });
  return {
    log2FoldChange: outcome.log2FoldChange,
    lfcSE: outcome.lfcSE,
    prior: {
      type: "apeglm",
      variance: outcome.priorVariance,
      scale: outcome.priorScale,
      notConverged: outcome.notConverged,
    },
  };
}
