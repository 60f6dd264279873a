/**
 * The `run` job: counts and metadata in, DESeq2's whole analysis out. Size factors, dispersions,
 * the log-fold-change fit, Wald tests, Cook's outliers and their refit, and the results table,
 * each federated: the aggregator sees per-gene aggregates and the samples' size factors only.
 */
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { privateCooksFilterMask } from "../algorithms/cooks/index.js";
import { lrtStatistic, reducedColumnIndices } from "../algorithms/deseq2/lrt.js";
import type { FitType } from "../algorithms/dispersions/trend.js";
import { DEFAULT_HYPERPARAMETERS } from "../algorithms/hyperparameters.js";
import { computeLfc, type LfcResult } from "../algorithms/lfc/computeLfc.js";
import { maskCount, maskIndices } from "../algorithms/masks.js";
import { federatedPca } from "../algorithms/pca/aggregate.js";
import { mergePresence } from "../algorithms/setup/presence.js";
import { levelsOf } from "../algorithms/setup/state.js";
import type { SizeFactorsType } from "../algorithms/sizeFactors/state.js";
import { sparseGenes } from "../algorithms/sparseGenes.js";
import {
  federatedMaximum,
  localVstTrend,
  type VstTrend,
  vstRequest,
  vstTrendOf,
} from "../algorithms/vst.js";
import { type WaldCovariance, waldCovariance } from "../algorithms/wald/aggregate.js";
import { defaultThreads, GenePool } from "../compute/genePool.js";
import {
  checkMixedNumeric,
  type DesignLevels,
  designColumns,
  integerCovariates,
  localLevels,
  mergeLevels,
} from "../design/designMatrix.js";
import { allCellKeys, factorCellRows } from "../design/factorCells.js";
import {
  type Formula,
  isFactorCall,
  parseFormula,
  parseReducedFormula,
} from "../design/formula.js";
import type { Metadata } from "../design/metadata.js";
import { localCellSizes, planFactors, pooledCellRule } from "../federation/cellRule.js";
import type { CenterSession } from "../federation/centerSession.js";
import { InProcessTransport } from "../federation/inProcess.js";
import {
  type AnalysisPlan,
  type CellSizes,
  DEFAULT_MIN_CELL,
  planHash,
  UNVERIFIED_MIN_CELL,
} from "../federation/plan.js";
import { FederationRunner, type RoundEvent } from "../federation/runner.js";
import type { StepInput } from "../federation/steps.js";
import { JsonLinesLog, recordingTransport } from "../federation/transcript.js";
import type { CenterInfo, Transport } from "../federation/transport.js";
import type { ReplayedPipeline } from "../federation/verifiedRequests.js";
import { writeFileAtomic } from "../io/atomic.js";
import { formatNumber, writeCsvAtomic } from "../io/csv.js";
import type { ReadDatasetOptions } from "../io/dataset.js";
import { InputError } from "../io/errors.js";
import { makeFolders } from "../io/folders.js";
import type { DispersionFigureSource, ReportInput } from "../reports/html.js";
import { type ReportReference, readReferenceLfc } from "../reports/reference.js";
import { ReportThread } from "../reports/reportThread.js";
import { type ContrastSpec, defaultLevelsContrast, resolveContrast } from "../results/contrast.js";
import { shrunkCoefficient } from "../results/lfcShrink.js";
import { type ResultsTable, resultsOverAllGenes, resultsTable } from "../results/resultsTable.js";
import { planFromRunJob, plannedLevels, runJobFromPlan } from "./analysisPlan.js";
import { federatedCooks } from "./cooks.js";
import {
  type DispersionEstimates,
  type DispersionJob,
  federatedDispersions,
} from "./dispersions.js";
import {
  type FitOutcome,
  federationGenes,
  fitGenes,
  type RunReport,
  reportInput,
  runReport,
  simulatedCenters,
  writeLfcCsv,
} from "./fitLfc.js";
import type { RunJob } from "./runJob.js";
import { type LevelPresence, SAVED_FIT_FILE, type SavedFit, writeSavedFit } from "./savedFit.js";
import { apeglmShrink, normalShrinkage, type ShrinkPrior } from "./shrink.js";
import { federatedSizeFactors, type IterateReport } from "./sizeFactors.js";

export type { RunJob } from "./runJob.js";

/** A simulated `run`: the whole dataset folder, split into centers in this process. */
export interface SimulatedRunJob extends RunJob {
  readonly dataDir: string;
  readonly read?: ReadDatasetOptions;
  /** Threads the centers' heavy local steps split their genes over (default: the cores). */
  readonly threads?: number;
  /** Write every message the centers send, as received, to this JSON Lines file (`--transcript`). */
  readonly transcriptFile?: string;
  /**
   * Secure aggregation (federation/secureAggregation/layer.ts): the simulated centers mask their
   * summed fields (default false here; `fedseq run --data` turns it on).
   */
  readonly secureAggregation?: boolean;
  /**
   * The analysis plan (`--plan`); default: made from the job and the data (levels, cell sizes),
   * with `minCell` and `secureAggregation`. Its `secure_aggregation` must be the job's.
   */
  readonly plan?: AnalysisPlan;
  /** k of the plan made when none is given (default 3; ignored with `plan`). */
  readonly minCell?: number;
  /** Whether the plan it makes leaves sparse genes out (`--omit-sparse-genes`). */
  readonly omitSparseGenes?: boolean;
  /**
   * Whether the plan it makes has the centers verify every request (default: under secure
   * aggregation; `--no-verify-requests`; federation/verifiedRequests.ts).
   */
  readonly verifyRequests?: boolean;
  /**
   * Have each simulated center replay the plan and verify every request, as a real center does
   * (default false: one user holds the aggregator and every center, so nothing is verified).
   */
  readonly replay?: boolean;
  /**
   * Render the report on a thread of its own, started with the first round, while the tables
   * are written (reports/reportThread.ts: the command line's choice, one report a process).
   * Default false: on this thread, after the tables, where a process writing many reports keeps
   * the plotting code loaded and warm (a fresh thread loads and runs it cold every time).
   */
  readonly reportThread?: boolean;
}

/** Everything a finished run produced. */
export interface RunOutcome {
  readonly fit: FitOutcome;
  /** What `fedseq results --from` needs to test other contrasts (written as saved_fit.json). */
  readonly saved: SavedFit;
  /** Sample ids, centers in federation order (each center's size factors stay with it). */
  readonly samples: readonly string[];
  /** Whether the centers masked their sums (secure aggregation). */
  readonly secureAggregation: boolean;
  /** Each center's number of samples, in federation order. */
  readonly centerSamples: readonly { readonly center: string; readonly samples: number }[];
  /** Dispersion estimates of the fitted genes (rows in `fit.fitted` order). */
  readonly dispersions: DispersionEstimates;
  readonly results: ResultsTable;
  /** The tested contrast, DESeq2-style ("tissue heart vs adipose"). */
  readonly contrast: string;
  /** What the Cook's steps found and did. */
  readonly cooks: {
    /** Genes with a Cook's distance above the cutoff (DESeq2's `replace` flag). */
    readonly outliers: number;
    /** Genes refitted after their outlier counts were replaced. */
    readonly refitted: number;
    /** Counts replaced, over all centers. */
    readonly replacedCounts: number;
    /** Genes whose p-value Cook's filtering set to NA. */
    readonly pvaluesRemoved: number;
  };
  /** Genes left out as sparse (the plan's `omit_sparse_genes`; null: the plan keeps them). */
  readonly sparseGenes: number | null;
  /** How DESeq2's iterative size factors went (null: another size-factor type). */
  readonly sizeFactorIterations: IterateReport | null;
  /** The likelihood-ratio test's reduced design and degrees of freedom (null: the Wald test). */
  readonly lrt: { readonly reduced: string; readonly df: number } | null;
  /**
   * DESeq2's vst (null: not asked for): the trend the centers transformed their samples with, or
   * why they did not (a local trend).
   */
  readonly vst: { readonly trend: VstTrend } | { readonly unavailable: string } | null;
  /**
   * DESeq2's plotPCA of the transformed counts (null: no vst, or fewer than two samples), or why
   * it was not made (a plan without verified requests).
   */
  readonly pca: PcaResult | { readonly unavailable: string } | null;
  /** DESeq2's lfcShrink (null: not asked for): shrunk.csv's table, over every gene. */
  readonly shrunk: {
    /** The shrunk coefficient's column name. */
    readonly coefficient: string;
    readonly prior: ShrinkPrior;
    readonly table: ShrunkTable;
  } | null;
}

/** DESeq2's `plotPCA(vst(dds, blind = FALSE), returnData = TRUE)` over the federation. */
export interface PcaResult {
  /** The genes of largest variance it used (min(500, eligible genes)). */
  readonly genes: number;
  /** Genes left out for a count in 1 to k − 1 samples of the federation. */
  readonly leftOut: number;
  /** PC1's and PC2's share of their total variance (`attr(, "percentVar")`). */
  readonly percentVariance: Float64Array;
  /** Product rounds of the subspace iteration, and whether it met its tolerance. */
  readonly iterations: number;
  readonly converged: boolean;
  /** The samples' coordinates, when the centers sent them (the plan's pca_coordinates). */
  readonly coordinates: PcaCoordinates | null;
}

/** Every sample's coordinates on PC1 and PC2, centers in federation order. */
export interface PcaCoordinates {
  readonly samples: readonly string[];
  readonly centers: readonly string[];
  readonly pc1: Float64Array;
  readonly pc2: Float64Array;
}

/** Per-center sample-major n×2 coordinates (federation order) as one table. */
function pcaCoordinatesOf(
  centers: readonly CenterInfo[],
  perCenter: readonly Float64Array[],
): PcaCoordinates {
  const samples = centers.flatMap((c) => c.samples);
  const pc1 = new Float64Array(samples.length);
  const pc2 = new Float64Array(samples.length);
  let offset = 0;
  centers.forEach((c, k) => {
    const values = perCenter[k];
    if (values.length !== c.samples.length * 2)
      throw new Error(
        `center ${c.name}: ${values.length / 2} PCA coordinates for ${c.samples.length} samples`,
      );
    for (let i = 0; i < c.samples.length; i++) {
      pc1[offset + i] = values[2 * i];
      pc2[offset + i] = values[2 * i + 1];
    }
    offset += c.samples.length;
  });
  return {
    samples,
    centers: centers.flatMap((c) => c.samples.map(() => c.name)),
    pc1,
    pc2,
  };
}

/** shrunk.csv: per gene (every gene of the data), NaN where DESeq2 has NA. */
export interface ShrunkTable {
  readonly baseMean: Float64Array;
  readonly log2FoldChange: Float64Array;
  readonly lfcSE: Float64Array;
  readonly pvalue: Float64Array;
  readonly padj: Float64Array;
}

/** Options of {@link runOverFederation}. */
export interface RunOptions {
  readonly runId?: string;
  /**
   * The analysis plan the centers accepted: every request carries its hash, and the levels the
   * centers hold must be the plan's. The job must be the plan's ({@link runJobFromPlan}).
   */
  readonly plan?: AnalysisPlan;
  readonly onRound?: (event: RoundEvent) => void;
  /** Called when the run enters another phase (progress lines). */
  readonly onPhase?: (phase: string) => void;
  /**
   * Called once the dispersions are estimated, before the fit (a report thread draws their plot
   * meanwhile): the estimates of the fitted genes (row j is gene fitted[j] of `genes`).
   */
  readonly onDispersions?: (
    estimates: DispersionEstimates,
    genes: number,
    fitted: Int32Array,
  ) => void;
}

/**
 * Run DESeq2's analysis over a transport.
 * @param transport - reaches the centers (their data never leaves them)
 */
export async function runOverFederation(
  transport: Transport,
  job: RunJob,
  options: RunOptions = {},
): Promise<RunOutcome> {
  const formula = parseFormula(job.design);
  const allGenes = federationGenes(transport);
  const history: RoundEvent[] = [];
  const runner = new FederationRunner(transport, {
    runId: options.runId,
    plan: options.plan === undefined ? undefined : planHash(options.plan),
    onPhase: options.onPhase,
    onRound: (event) => {
      history.push(event);
      options.onRound?.(event);
    },
  });

  // The design's levels first: a contrast or reference level no center has stops here (exit 2),
  // before any other round. Under a plan they are the plan's (each center checked its own
  // against them before round 1): no round asks the centers which levels they hold, and a bad
  // contrast stops before round 1.
  const levels =
    options.plan === undefined
      ? mergeLevels(
          (
            await runner.round("setup", "levels", { kind: "levels-request", formula: job.design })
          ).map(levelsOf),
        )
      : plannedLevels(options.plan);
  const columns = designColumns(formula, levels, job.references);
  const contrast = resolveContrast(job.contrast, formula, levels, columns);
  // lfcShrink's coefficient: a contrast that is not one stops here, before any round.
  const shrinkColumn =
    job.lfcShrink === undefined
      ? null
      : shrunkCoefficient(job.lfcShrink, formula, contrast, columns);
  // The Cook's cells' candidate rows (null with a continuous covariate); made now, so that a
  // design with too many level combinations stops before any estimate.
  const candidateRows = factorCellRows(formula, levels, job.references, columns);

  const presence = await runner.round("setup", "presence", {
    kind: "presence-request",
    genes: allGenes,
  });
  const presentOfAll = mergePresence(presence.map((s) => s.present));
  // Under a plan that leaves sparse genes out, the analysis runs on the other genes only: no
  // center computes anything more of a sparse gene (results.csv gives it a row of NA).
  const sparse = await omittedSparseGenes(runner, allGenes, presentOfAll, options.plan);
  const kept = sparse === null ? null : Int32Array.from(maskIndices(sparse.map((s) => 1 - s)));
  const genes = kept === null ? allGenes : Array.from(kept, (g) => allGenes[g]);
  const present = kept === null ? presentOfAll : Uint8Array.from(kept, (g) => presentOfAll[g]);
  const fittedList: number[] = [];
  for (let g = 0; g < genes.length; g++) if (present[g]) fittedList.push(g);
  const fitted = Int32Array.from(fittedList);

  // (A sparse gene has a zero: ratio size factors never use it; poscounts' reference leaves
  // it out when the plan does.)
  const sizeFactorIterations = await federatedSizeFactors(
    runner,
    genes,
    job.sizeFactorsType,
    present,
    { fitted, hp: job.hp, solver: job.solver, maxit: job.maxit },
  );

  const dispersionJob: DispersionJob = {
    genes,
    fitted,
    design: job.design,
    levels,
    references: job.references,
    columns,
    hp: job.hp,
    solver: job.solver,
    maxit: job.maxit,
    fitType: job.fitType,
  };
  const dispersions = await federatedDispersions(runner, dispersionJob);
  options.onDispersions?.(dispersions, genes.length, fitted);

  const fit = await fitGenes(runner, transport, {
    genes,
    fitted,
    allZero: genes.length - fitted.length,
    notSelected: 0,
    sizeFactors: null,
    levels,
    dispersions: dispersions.final,
    design: job.design,
    references: job.references,
    hp: job.hp,
    mode: job.mode,
    solver: job.solver,
    maxit: job.maxit,
    fingerprint: "",
    history,
  });

  const p = columns.length;
  const wald = await waldRound(runner, fit.result.beta, p, false);
  // DESeq2's nbinomLRT: the reduced model fitted with the same dispersions, before Cook's step
  // (whose refit runs the test again on the refitted genes).
  const lrtColumns = reducedColumns(job, formula, levels, columns);
  const lrt =
    lrtColumns === null
      ? null
      : await lrtStatistic(runner, {
          beta: fit.result.beta,
          optimised: fit.result.pqnCaught,
          p,
          keep: lrtColumns,
          baseMean: fit.baseMean,
          refit: false,
          maxIterations: job.maxit,
          phase: "lrt",
        });
  // DESeq2's results() applies its two-level rule to a factor column only, not to factor(x) of a
  // numeric one.
  const twoLevelFactor =
    formula.terms.length === 1 &&
    levels[formula.terms[0]]?.length === 2 &&
    !isFactorCall(formula, formula.terms[0]);
  const cooks = await federatedCooks(runner, {
    beta: fit.result.beta,
    dispersions: dispersions.final,
    hatInverse: wald.inverse,
    // nbinomLRT computes the distances before it stores its full model's μ: from the μ the
    // gene-wise dispersions were computed at (nbinomWaldTest stores its fit's μ first).
    ...(lrt === null || dispersions.genewiseMu === null
      ? {}
      : { residualMu: dispersions.genewiseMu }),
    baseMean: fit.baseMean,
    twoLevelFactor,
    designColumns: p,
    samples: transport.centers.reduce((m, c) => m + c.samples.length, 0),
    candidateRows,
    minReplicatesForReplace: job.minReplicatesForReplace,
    ...(job.cooksCutoff === undefined ? {} : { filterCutoff: job.cooksCutoff }),
  });

  // DESeq2's refitWithoutOutliers: genes whose outlier counts were replaced get new dispersions
  // (the first trend and prior), coefficients and standard errors, on the replaced counts.
  let final = { fit, dispersions, sigma: wald.sigma };
  const { outcome } = cooks;
  const refitRows = maskIndices(outcome.refit);
  if (outcome.refitted && refitRows.length > 0) {
    const refitDispersions = await federatedDispersions(runner, dispersionJob, {
      genes: outcome.refit,
      trend: dispersions.trendFit,
      priorVariance: dispersions.priorVariance,
      varLogDispEsts: dispersions.varLogDispEsts,
    });
    await runner.round("refit", "prepareRefit", {
      kind: "prepare-refit-request",
      refitGenes: outcome.refit,
      dispersions: refitDispersions.final,
      originalCounts: false,
    });
    const refitResult = await computeLfc(runner, job.hp, job.mode, {
      refit: true,
      solver: job.solver,
      maxIterations: job.maxit,
    });
    const refitWald = await waldRound(runner, refitResult.beta, p, true);
    if (lrt !== null && lrtColumns !== null) {
      const refitLrt = await lrtStatistic(runner, {
        beta: refitResult.beta,
        optimised: refitResult.pqnCaught,
        p,
        keep: lrtColumns,
        baseMean: Float64Array.from(refitRows, (j) => outcome.replacedBaseMean[j]),
        refit: true,
        maxIterations: job.maxit,
        phase: "refit-lrt",
      });
      refitRows.forEach((j, a) => {
        lrt.stat[j] = refitLrt.stat[a];
      });
    }
    final = mergeRefit(final, refitRows, {
      result: refitResult,
      dispersions: refitDispersions,
      sigma: refitWald.sigma,
    });
  }

  // DESeq2's refitWithoutOutliers recomputes every gene's baseMean from the replaced counts
  // (getBaseMeansAndVariances) whenever it replaced any: the refitted genes' and those left with
  // no count (0, so the independent filtering drops them: padj NA); the others' are unchanged.
  const replacedRows = maskIndices(outcome.replace);
  if (replacedRows.length > 0) {
    const replaced = final.fit.baseMean.slice();
    for (const j of replacedRows) replaced[j] = outcome.replacedBaseMean[j];
    final = { ...final, fit: { ...final.fit, baseMean: replaced } };
  }
  const baseMean = new Float64Array(genes.length);
  fitted.forEach((g, j) => {
    baseMean[g] = final.fit.baseMean[j];
  });
  const contrastAllZero = await contrastAllZeroGenes(
    runner,
    job.contrast ?? defaultLevelsContrast(formula, levels, columns),
    genes,
    fitted,
  );
  // results(cooksCutoff = FALSE) (`--no-cooks-filter`): no p-value is set to NA for an outlier.
  const cooksOutlier =
    job.cooksFilter === false
      ? new Uint8Array(fitted.length)
      : privateCooksFilterMask(outcome, { twoLevelFactor });
  // fedpydeseq2's solver may end a gene unconverged where DESeq2 would have refitted it: such
  // coefficients are no answer, so their p-values are withheld. (`deseq2` reports DESeq2's own
  // unconverged rows as DESeq2 does; `fast` hands its unconverged genes to the `deseq2` path.)
  const withheld =
    job.solver === "upstream"
      ? Uint8Array.from(cooksOutlier, (c, j) => (c || !final.fit.result.converged[j] ? 1 : 0))
      : cooksOutlier;
  const results = resultsTable({
    genes: genes.length,
    fitted,
    baseMean,
    beta: final.fit.result.beta,
    sigma: final.sigma,
    contrast,
    wald: job.wald,
    alpha: job.alpha,
    independentFiltering: job.independentFiltering,
    cooksOutlier: withheld,
    nowZero: outcome.newAllZero,
    ...(contrastAllZero === null ? {} : { contrastAllZero }),
    ...(lrt === null ? {} : { lrt: { stat: lrt.stat, df: lrt.df } }),
  });
  // DESeq2's lfcShrink(coef, type): the MAP estimate of every fitted gene.
  const shrunk: { prior: ShrinkPrior; log2FoldChange: Float64Array; lfcSE: Float64Array } | null =
    shrinkColumn === null
      ? null
      : job.lfcShrink === "apeglm"
        ? await apeglmShrink(runner, p, shrinkColumn, results, fitted)
        : await normalShrinkage(runner, {
            p,
            coefficient: shrinkColumn,
            intercept: columns.indexOf("Intercept"),
            beta: final.fit.result.beta,
            baseMean: final.fit.baseMean,
            dispersionTrend: final.dispersions.trend,
            dispersions: final.dispersions.final,
            nowZero: outcome.newAllZero,
            refitRows: outcome.refitted ? refitRows : [],
            maxIterations: job.maxit,
          }).then((s) => ({ ...s, prior: { type: "normal", variance: s.priorVariance } as const }));
  const saved: SavedFit = {
    design: job.design,
    levels,
    references: job.references,
    columns,
    genes: allGenes,
    kept,
    fitted,
    baseMean,
    beta: final.fit.result.beta,
    sigma: final.sigma,
    withheld,
    nowZero: outcome.newAllZero,
    lrt: lrt === null ? null : { reduced: job.reduced as string, df: lrt.df, stat: lrt.stat },
    levelPresence:
      job.levelPresence === false
        ? null
        : await federatedLevelPresence(runner, formula, levels, genes, fitted),
  };
  const vst =
    job.vst === true ? await federatedVst(runner, dispersions, job.vstMaxCount === true) : null;
  return {
    saved,
    fit: kept === null ? final.fit : overAllGenes(final.fit, allGenes, kept),
    samples: transport.centers.flatMap((c) => c.samples),
    centerSamples: transport.centers.map((c) => ({ center: c.name, samples: c.samples.length })),
    secureAggregation: (transport.secure ?? null) !== null,
    dispersions: final.dispersions,
    results: kept === null ? results : resultsOverAllGenes(results, allGenes.length, kept),
    contrast: contrast.description,
    cooks: {
      outliers: maskCount(outcome.replace),
      refitted: refitRows.length,
      replacedCounts: outcome.replacedEntries.reduce((a, b) => a + b, 0),
      pvaluesRemoved: maskCount(cooksOutlier),
    },
    sparseGenes: sparse === null ? null : maskCount(sparse),
    sizeFactorIterations,
    lrt: lrt === null ? null : { reduced: job.reduced as string, df: lrt.df },
    vst,
    // The PCA's coordinates round must stay the run's last: under verified requests each
    // round's replies are relayed to every center with the next request, and the coordinates a
    // plan with pca_coordinates sends are consented to the aggregator only.
    pca: await runPca(runner, vst, job, options.plan, transport.centers, genes.length),
    shrunk:
      shrunk === null
        ? null
        : {
            coefficient: columns[shrinkColumn as number],
            prior: shrunk.prior,
            table: shrunkTable(
              results,
              fitted,
              genes.length,
              shrunk.log2FoldChange,
              shrunk.lfcSE,
              kept,
              allGenes.length,
            ),
          },
  };
}

/** The run's PCA, when it made one. */
export function madePca(outcome: Pick<RunOutcome, "pca">): PcaResult | null {
  return outcome.pca === null || "unavailable" in outcome.pca ? null : outcome.pca;
}

/** run.json's `pca`. */
function pcaJson(pca: NonNullable<RunOutcome["pca"]>): NonNullable<RunJson["pca"]> {
  if ("unavailable" in pca) return { unavailable: pca.unavailable };
  return {
    genes: pca.genes,
    left_out: pca.leftOut,
    percent_variance: { PC1: pca.percentVariance[0], PC2: pca.percentVariance[1] },
    coordinates:
      pca.coordinates === null ? "kept at the centers" : "sent by the centers (pca_coordinates)",
    rounds: pca.iterations + 2,
    converged: pca.converged,
  };
}

/** run.json's `vst`: the trend (a local trend's spline summarised), or why none. */
function vstJson(vst: NonNullable<RunOutcome["vst"]>): NonNullable<RunJson["vst"]> {
  if ("unavailable" in vst || vst.trend.fit !== "local") return vst as NonNullable<RunJson["vst"]>;
  const { eta, xi, knots } = vst.trend;
  return { trend: { fit: "local", eta, xi, knots: knots.length } };
}

/**
 * DESeq2's plotPCA of the run's vst (algorithms/pca): null without a vst; under a plan, only with
 * verified requests (the PCA's requests must be the replay's), else why not.
 */
async function runPca(
  runner: FederationRunner,
  vst: RunOutcome["vst"],
  job: RunJob,
  plan: AnalysisPlan | undefined,
  centers: readonly CenterInfo[],
  genes: number,
): Promise<RunOutcome["pca"]> {
  if (vst === null || !("trend" in vst)) return null;
  if (plan !== undefined && !plan.verifyRequests)
    return {
      unavailable:
        "the PCA's sums give the aggregator the pooled covariance of 500 genes, and its requests must be the plan's: it runs only under verified requests",
    };
  const pca = await federatedPca(
    runner,
    genes,
    job.pcaCoordinates === true,
    plan?.minCell ?? DEFAULT_MIN_CELL,
  );
  if (pca === null) return null;
  return {
    genes: pca.genes,
    leftOut: pca.leftOut,
    percentVariance: pca.percentVariance,
    iterations: pca.iterations,
    converged: pca.converged,
    coordinates: pca.coordinates === null ? null : pcaCoordinatesOf(centers, pca.coordinates),
  };
}

/** run.json's `lfc_shrink`: the estimator, the shrunk coefficient and its prior. */
function shrinkJson(
  coefficient: string,
  prior: ShrinkPrior,
  columns: readonly string[],
): NonNullable<RunJson["lfc_shrink"]> {
  if (prior.type === "apeglm")
    return {
      type: "apeglm",
      coefficient,
      prior_variance: prior.variance,
      prior_scale: prior.scale,
      not_converged: prior.notConverged,
    };
  return {
    type: "normal",
    coefficient,
    prior_variance: Object.fromEntries(columns.map((c, j) => [c, prior.variance[j]])),
  };
}

/**
 * shrunk.csv's columns over every gene: the MAP log2 fold change and its standard error of the
 * fitted genes, baseMean, pvalue and padj of the results (as DESeq2's lfcShrink keeps them).
 */
function shrunkTable(
  results: ResultsTable,
  fitted: Int32Array,
  genes: number,
  log2FoldChange: Float64Array,
  lfcSE: Float64Array,
  kept: Int32Array | null,
  allGenes: number,
): ShrunkTable {
  const lfc = new Float64Array(genes).fill(Number.NaN);
  const se = new Float64Array(genes).fill(Number.NaN);
  fitted.forEach((g, j) => {
    lfc[g] = log2FoldChange[j];
    se[g] = lfcSE[j];
  });
  const over = (values: Float64Array): Float64Array => {
    if (kept === null) return values;
    const out = new Float64Array(allGenes).fill(Number.NaN);
    kept.forEach((g, j) => {
      out[g] = values[j];
    });
    return out;
  };
  const all = kept === null ? results : resultsOverAllGenes(results, allGenes, kept);
  return {
    baseMean: all.baseMean,
    log2FoldChange: over(lfc),
    lfcSE: over(se),
    pvalue: all.pvalue,
    padj: all.padj,
  };
}

/**
 * The aggregator's pipeline for `plan`, as each center replays it to verify the aggregator's
 * requests (federation/verifiedRequests.ts): the run the plan describes, and nothing else.
 */
export function planPipeline(plan: AnalysisPlan): ReplayedPipeline {
  const job = runJobFromPlan(plan, ".");
  return (transport, runId) => runOverFederation(transport, job, { plan, runId });
}

/**
 * DESeq2's `contrastAllZero`: the fitted genes (1) whose counts are all zero in the samples the
 * contrast compares (a contrast of two levels: theirs; a numeric contrast with weights of both
 * signs: those whose design row it weighs), from one round of presence bits over those samples
 * (OR-ed over the centers); null for other contrasts (DESeq2 checks none for the default,
 * `results(name = …)` or a continuous variable).
 */
async function contrastAllZeroGenes(
  runner: FederationRunner,
  contrast: ContrastSpec | undefined,
  genes: readonly string[],
  fitted: Int32Array,
): Promise<Uint8Array | null> {
  const ids = Array.from(fitted, (g) => genes[g]);
  let request: StepInput<"contrastPresence">;
  if (contrast?.kind === "levels") {
    request = {
      kind: "contrast-presence-request",
      genes: ids,
      factor: contrast.factor,
      levels: [contrast.level, contrast.reference],
      columns: new Uint8Array(0),
    };
  } else if (
    contrast?.kind === "vector" &&
    contrast.weights.some((w) => w > 0) &&
    contrast.weights.some((w) => w < 0)
  ) {
    // DESeq2's contrastAllZeroNumeric: only for weights of both signs.
    request = {
      kind: "contrast-presence-request",
      genes: ids,
      factor: "",
      levels: [],
      columns: Uint8Array.from(contrast.weights, (w) => (w === 0 ? 0 : 1)),
    };
  } else return null;
  const shares = await runner.round("contrast", "contrastPresence", request);
  const present = mergePresence(shares.map((s) => s.present));
  return Uint8Array.from(present, (bit) => 1 - bit);
}

/**
 * Per fitted gene and level of each factor of the design, whether any sample of the level has a
 * count (OR-ed over the centers): one round per factor, kept in the saved fit for `fedseq
 * results --from` (DESeq2's contrastAllZero of any two levels).
 */
async function federatedLevelPresence(
  runner: FederationRunner,
  formula: Formula,
  levels: DesignLevels,
  genes: readonly string[],
  fitted: Int32Array,
): Promise<LevelPresence> {
  const ids = Array.from(fitted, (g) => genes[g]);
  const out: Record<string, { levels: readonly string[]; present: Uint8Array }> = {};
  for (const factor of formula.terms.filter((t) => Object.hasOwn(levels, t))) {
    const shares = await runner.round("level-presence", "levelPresence", {
      kind: "level-presence-request",
      genes: ids,
      factor,
      levels: levels[factor],
    });
    out[factor] = { levels: levels[factor], present: mergePresence(shares.map((s) => s.present)) };
  }
  return out;
}

/**
 * DESeq2's vst with the fitted trend (the first fit's, as DESeq2's dispersionFunction after a
 * refit): one round in which each center transforms its own samples and keeps them.
 */
async function federatedVst(
  runner: FederationRunner,
  dispersions: DispersionEstimates,
  maxCountAllowed: boolean,
): Promise<{ trend: VstTrend } | { unavailable: string }> {
  let trend = vstTrendOf(dispersions.trendFit);
  if (trend === null) {
    if (!maxCountAllowed)
      return {
        unavailable:
          "the dispersion trend is DESeq2's local fit, whose vst integrates up to the federation's largest normalised count (one sample's value): the analysis plan does not let it be found (fedseq plan/run --vst-max-count)",
      };
    // The largest normalised count, by bisection: each round says only how many counts lie
    // above a threshold (pooled).
    const maxCount = await federatedMaximum(async (threshold) => {
      const shares = await runner.round("vst-maximum", "vstMaximum", {
        kind: "vst-maximum-request",
        threshold,
      });
      return shares.reduce((sum, s) => sum + s.above[0], 0);
    });
    const { initial } = dispersions;
    trend = localVstTrend({
      maxCount,
      dispersionAt: dispersions.trendFit.at,
      meanInverseSizeFactor: initial.meanInverseSizeFactor,
      rowMeans: Float64Array.from(initial.baseMean, (m) => (Number.isFinite(m) ? m : 0)),
    });
  }
  await runner.round("vst", "vst", vstRequest(trend));
  return { trend };
}

/** The reduced model's columns among the design's (null: no likelihood-ratio test). */
function reducedColumns(
  job: RunJob,
  formula: Formula,
  levels: DesignLevels,
  columns: readonly string[],
): Int32Array | null {
  if (job.reduced === undefined) return null;
  const reduced = parseReducedFormula(job.reduced, formula);
  const references = Object.fromEntries(
    Object.entries(job.references).filter(([factor]) => reduced.terms.includes(factor)),
  );
  return reducedColumnIndices(columns, designColumns(reduced, levels, references));
}

/**
 * A fit over the kept genes as a fit over all genes: the same rows, the genes left out counted
 * as not selected.
 */
function overAllGenes(fit: FitOutcome, allGenes: readonly string[], kept: Int32Array): FitOutcome {
  return {
    ...fit,
    genes: allGenes,
    fitted: Int32Array.from(fit.fitted, (j) => kept[j]),
    notSelected: fit.notSelected + allGenes.length - kept.length,
  };
}

/**
 * Under a plan that leaves sparse genes out, the genes to leave out (1), over `genes`: one
 * round in which each center counts, per present gene and cell, its samples with a non-zero
 * count; null when the plan keeps them (no round).
 */
async function omittedSparseGenes(
  runner: FederationRunner,
  genes: readonly string[],
  present: Uint8Array,
  plan: AnalysisPlan | undefined,
): Promise<Uint8Array | null> {
  if (plan === undefined || !plan.omitSparseGenes) return null;
  const factors = planFactors(plan);
  const cells = allCellKeys(factors, plan.levels);
  const asked = maskIndices(present);
  const shares = await runner.round("setup", "nonZeroCells", {
    kind: "non-zero-cells-request",
    genes: Array.from(asked, (g) => genes[g]),
    factors,
    cells,
  });
  const sparseOfAsked = sparseGenes(shares, cells.length, plan.minCell);
  const sparse = new Uint8Array(genes.length);
  asked.forEach((g, j) => {
    sparse[g] = sparseOfAsked[j];
  });
  return sparse;
}

/** The Wald step: each center's XᵀWX at β, summed into β's covariance. */
async function waldRound(
  runner: FederationRunner,
  beta: Float64Array,
  p: number,
  refit: boolean,
): Promise<WaldCovariance> {
  const shares = await runner.round(refit ? "refit-wald" : "wald", "information", {
    kind: "information-request",
    beta,
    coefficients: p,
    refit,
  });
  const xtwx = shares[0].xtwx.slice();
  for (const share of shares.slice(1))
    for (let i = 0; i < xtwx.length; i++) xtwx[i] += share.xtwx[i];
  return waldCovariance(xtwx, p);
}

/** The fit, dispersions and covariances of the fitted genes, before or after the refit. */
interface FinalFit {
  readonly fit: FitOutcome;
  readonly dispersions: DispersionEstimates;
  readonly sigma: Float64Array;
}

/** Put the refitted genes' estimates (rows `rows` of the fitted genes) in place. */
function mergeRefit(
  first: FinalFit,
  rows: Int32Array,
  refit: {
    result: LfcResult;
    dispersions: DispersionEstimates;
    sigma: Float64Array;
  },
): FinalFit {
  const p = first.fit.columns.length;
  const r = first.fit.result;
  const beta = r.beta.slice();
  const sigma = first.sigma.slice();
  const irlsConverged = r.irlsConverged.slice();
  const pqnCaught = r.pqnCaught.slice();
  const pqnDiverged = r.pqnDiverged.slice();
  const finishedRound = r.finishedRound.slice();
  const converged = r.converged.slice();
  const iterations = r.iterations.slice();
  const handedOver = r.handedOver.slice();
  const d = first.dispersions;
  const genewise = d.genewise.slice();
  const trend = d.trend.slice();
  const map = d.map.slice();
  const finalDispersion = d.final.slice();
  const outlier = d.outlier.slice();
  rows.forEach((j, a) => {
    beta.set(refit.result.beta.subarray(a * p, a * p + p), j * p);
    sigma.set(refit.sigma.subarray(a * p * p, (a + 1) * p * p), j * p * p);
    irlsConverged[j] = refit.result.irlsConverged[a];
    pqnCaught[j] = refit.result.pqnCaught[a];
    pqnDiverged[j] = refit.result.pqnDiverged[a];
    finishedRound[j] = refit.result.finishedRound[a];
    converged[j] = refit.result.converged[a];
    iterations[j] = refit.result.iterations[a];
    handedOver[j] = refit.result.handedOver[a];
    genewise[j] = refit.dispersions.genewise[a];
    trend[j] = refit.dispersions.trend[a];
    map[j] = refit.dispersions.map[a];
    finalDispersion[j] = refit.dispersions.final[a];
    outlier[j] = refit.dispersions.outlier[a];
  });
  return {
    fit: {
      ...first.fit,
      result: {
        ...r,
        beta,
        irlsConverged,
        pqnCaught,
        pqnDiverged,
        finishedRound,
        converged,
        iterations,
        handedOver,
      },
    },
    dispersions: { ...d, genewise, trend, map, final: finalDispersion, outlier },
    sigma,
  };
}

/** What `run` reports in `run.json`. */
export interface RunJson extends Omit<RunReport, "rounds"> {
  /** Round trips per phase (setup, size-factors, dispersions, init, irls/newton/pqn, wald, …) and in all. */
  rounds: Record<string, number> & { total: number };
  contrast: string;
  /**
   * The test: "Wald", or "LRT" with its reduced design and degrees of freedom (stat and pvalue
   * are then the likelihood-ratio test's; log2FoldChange and lfcSE the contrast's).
   */
  test: "Wald" | "LRT";
  reduced?: string;
  lrt_df?: number;
  /** DESeq2's vst: the trend used (vst.csv written; a local trend's spline summarised), or why not. */
  vst?:
    | {
        trend:
          | Exclude<VstTrend, { fit: "local" }>
          | { fit: "local"; eta: number; xi: number; knots: number };
      }
    | { unavailable: string };
  /**
   * DESeq2's plotPCA of the transformed counts: the genes used, PC1's and PC2's share of their
   * variance, where the samples' coordinates are (pca.csv when this run holds them).
   */
  pca?:
    | {
        genes: number;
        /** Genes left out for a count in 1 to k − 1 samples (k the plan's min_cell). */
        left_out: number;
        percent_variance: { PC1: number; PC2: number };
        coordinates: "sent by the centers (pca_coordinates)" | "kept at the centers";
        rounds: number;
        converged: boolean;
      }
    | { unavailable: string };
  /**
   * DESeq2's lfcShrink (shrunk.csv written): the estimator, the shrunk coefficient and the prior
   * variance of each design column (DESeq2's `betaPriorVar`, log2 scale).
   */
  lfc_shrink?:
    | { type: "normal"; coefficient: string; prior_variance: Record<string, number> }
    | {
        type: "apeglm";
        coefficient: string;
        /** apeglm's adaptive prior variance (natural log scale) and the Cauchy scale min(√A, 1). */
        prior_variance: number;
        prior_scale: number;
        /** Genes whose MAP search did not converge. */
        not_converged: number;
      };
  alpha: number;
  /** Mean normalised count below which independent filtering set padj to NA. */
  filter_threshold: number | null;
  /** Genes with padj < alpha. */
  significant: number;
  dispersions: {
    outliers: number;
    genewise_below_min: number;
    /**
     * The trend: DESeq2's `fitType` asked for (`--fit-type`), the one used (another only when
     * the parametric fit failed and DESeq2's fallback applied), and why it fell back (or null).
     */
    /** DESeq2's `estimateSizeFactors` type (`--size-factors-type`). */
    size_factors_type: SizeFactorsType;
    /**
     * With iterate: its iterations (at most 10), the last one's Σ (Δ ln s)² and the re-solves
     * after the gene set changed.
     */
    size_factor_iterations?: { iterations: number; last_move: number; gene_set_updates: number };
    trend: { fit_type: FitType; used: FitType; fallback_reason: string | null };
  };
  cooks: { outliers: number; refitted: number; replaced_counts: number; pvalues_removed: number };
  /** Bytes per phase (protobuf encoding), to and from the aggregator. */
  bytes_by_phase: Record<string, { to_aggregator: number; from_aggregator: number }>;
  /**
   * The plan's k-sample rule (cellRule.ts): k, whether pooled cells counted, and the cells that
   * broke it — only ever in a simulation, whose user holds all the data (real centers refuse).
   */
  k_sample_rule?: KSampleRule;
  /** Under a plan that leaves sparse genes out: how many (their rows in results.csv: all NA). */
  sparse_genes?: { omitted: number };
  /** What DESeq2 would warn of in the design (a simulation, whose user holds the data). */
  design_warnings?: string[];
}

/**
 * DESeq2's warning for numeric design variables with whole-number values (a simulation's user
 * holds every center's metadata; in a real federation only the centers do).
 */
export function designWarnings(
  metadata: readonly Metadata[],
  formula: Formula,
  levels: DesignLevels,
): string[] {
  const values = new Map<string, Set<number>>();
  for (const m of metadata)
    for (const { variable, values: v } of integerCovariates(m, formula)) {
      if (Object.hasOwn(levels, variable)) continue;
      const set = values.get(variable) ?? new Set<number>();
      for (const x of v) set.add(x);
      values.set(variable, set);
    }
  const warnings = [...values].map(([variable, set]) => {
    const sorted = [...set].sort((a, b) => a - b);
    const shown = sorted.length > 5 ? `${sorted.slice(0, 5).join(", ")}, …` : sorted.join(", ");
    return `design variable "${variable}" is numeric with whole-number values (${shown}): it is fitted as one continuous covariate (a fold change per unit), as DESeq2 does, which warns the same; if it is a factor (e.g. a batch), write factor(${variable}) in the design, or its levels as text (e.g. b1, b2)`;
  });
  const shared = covariateCellsWarning(metadata, formula);
  return shared === null ? warnings : [...warnings, shared];
}

/**
 * Where fedseq's Cook's cells are not DESeq2's: with a continuous covariate fedseq takes every
 * sample as its own cell (forming cells would need each center to disclose its covariate
 * values), while DESeq2 groups samples with equal design rows, and a group of ≥ 3 counts for its
 * maxCooks (p-values of outlier genes set to NA) and of ≥ 7 for replacement. A simulation's user
 * holds every center's metadata, so the samples in such groups can be counted.
 * @returns the warning, or null when the design has no continuous covariate or no design row is
 *   shared by 3 or more samples
 */
export function covariateCellsWarning(
  metadata: readonly Metadata[],
  formula: Formula,
): string | null {
  const factors = new Set<string>();
  for (const m of metadata)
    for (const factor of Object.keys(localLevels(m, formula))) factors.add(factor);
  const covariates = formula.terms.filter((term) => !factors.has(term));
  if (covariates.length === 0) return null;
  // A sample's design row is fixed by its value of every variable (numbers compared as numbers).
  const samples = new Map<string, { readonly first: string; count: number }>();
  for (const m of metadata) {
    const columns = formula.terms.map((term) => m.values.get(term) ?? []);
    for (let i = 0; i < (columns[0]?.length ?? 0); i++) {
      const row = formula.terms.map((term, k) =>
        factors.has(term) ? columns[k][i] : String(Number(columns[k][i])),
      );
      const key = JSON.stringify(row);
      const cell = samples.get(key);
      if (cell === undefined)
        samples.set(key, {
          first: formula.terms.map((term, k) => `${term} = ${row[k]}`).join(", "),
          count: 1,
        });
      else cell.count++;
    }
  }
  const cells = [...samples.values()].filter((cell) => cell.count >= 3);
  if (cells.length === 0) return null;
  const inCells = cells.reduce((sum, cell) => sum + cell.count, 0);
  const total = [...samples.values()].reduce((sum, cell) => sum + cell.count, 0);
  const largest = cells.reduce((a, b) => (b.count > a.count ? b : a));
  return `${inCells} of ${total} samples share their design row with 2 or more others (${cells.length} such rows, e.g. ${largest.first}: ${largest.count} samples): DESeq2 takes each such group as a Cook's cell (its maxCooks, which sets outlier genes' p-values to NA, and with 7 or more samples its count replacement), fedseq takes every sample of a design with a continuous covariate (${covariates.join(", ")}) as its own cell, so p-values DESeq2 sets to NA may be kept here (README, "Cook's distances")`;
}

/** How a run stood with the plan's k-sample rule. */
export interface KSampleRule {
  min_cell: number;
  pooled_cells: boolean;
  /** Whether the plan has the centers verify requests (then the other centers' cells count too). */
  verified_requests: boolean;
  unmet: string[];
}

/** The k-sample rule of a plan, with the cells that broke it. */
export function kSampleRule(plan: AnalysisPlan, unmet: readonly string[] = []): KSampleRule {
  return {
    min_cell: plan.minCell,
    pooled_cells: pooledCellRule(plan),
    verified_requests: plan.verifyRequests,
    unmet: [...unmet],
  };
}

/** The report of a finished run. */
export function runJson(outcome: RunOutcome, job: RunJob, seconds: number): RunJson {
  const base = runReport(outcome.fit, { ...job, fixedRounds: false }, seconds);
  const ledger = outcome.fit.ledger;
  const rounds: Record<string, number> & { total: number } = { total: 0 };
  for (const [phase, count] of Object.entries(ledger.rounds)) {
    rounds[phase] = count;
    rounds.total += count;
  }
  let significant = 0;
  for (const q of outcome.results.padj) if (q < job.alpha) significant++;
  let outliers = 0;
  let belowMin = 0;
  const d = outcome.dispersions;
  for (let j = 0; j < d.final.length; j++) {
    if (d.outlier[j]) outliers++;
    if (d.genewise[j] <= d.minDispersion) belowMin++;
  }
  const threshold = outcome.results.filterThreshold;
  return {
    ...base,
    rounds,
    contrast: outcome.contrast,
    ...(outcome.lrt === null
      ? { test: "Wald" as const }
      : { test: "LRT" as const, reduced: outcome.lrt.reduced, lrt_df: outcome.lrt.df }),
    alpha: job.alpha,
    filter_threshold: Number.isFinite(threshold) ? threshold : null,
    significant,
    dispersions: {
      outliers,
      genewise_below_min: belowMin,
      size_factors_type: job.sizeFactorsType ?? "ratio",
      ...(outcome.sizeFactorIterations === null
        ? {}
        : {
            size_factor_iterations: {
              iterations: outcome.sizeFactorIterations.iterations,
              last_move: outcome.sizeFactorIterations.lastMove,
              gene_set_updates: outcome.sizeFactorIterations.geneSetUpdates,
            },
          }),
      trend: {
        fit_type: job.fitType ?? "parametric",
        used: d.trendFit.type,
        fallback_reason: d.trendFit.failure === "" ? null : d.trendFit.failure,
      },
    },
    bytes_by_phase: Object.fromEntries(
      Object.entries(ledger.phaseBytes ?? {}).map(([phase, b]) => [
        phase,
        { to_aggregator: b.toAggregator, from_aggregator: b.fromAggregator },
      ]),
    ),
    cooks: {
      outliers: outcome.cooks.outliers,
      refitted: outcome.cooks.refitted,
      replaced_counts: outcome.cooks.replacedCounts,
      pvalues_removed: outcome.cooks.pvaluesRemoved,
    },
    ...(outcome.sparseGenes === null ? {} : { sparse_genes: { omitted: outcome.sparseGenes } }),
    ...(outcome.vst === null ? {} : { vst: vstJson(outcome.vst) }),
    ...(outcome.pca === null ? {} : { pca: pcaJson(outcome.pca) }),
    ...(outcome.shrunk === null
      ? {}
      : {
          lfc_shrink: shrinkJson(
            outcome.shrunk.coefficient,
            outcome.shrunk.prior,
            outcome.saved.columns,
          ),
        }),
  };
}

/**
 * Write a run's outputs into `outDir`, each atomically: `dispersions.csv`, `lfc.csv`,
 * `results.csv`, `run.json`, `report.html`, and `size_factors.csv` when the size factors are
 * given (a simulation, whose user holds every center's data; in a real federation each center
 * keeps its own: `fedseq center --size-factors-out FILE`).
 * @param extra - `sizeFactors`: every sample's, in `outcome.samples` order; `kSampleRule`: for
 *   run.json
 */
export async function writeRunOutputs(
  outDir: string,
  outcome: RunOutcome,
  job: RunJob,
  seconds: number,
  extra: {
    readonly sizeFactors?: Float64Array;
    readonly kSampleRule?: KSampleRule;
    readonly designWarnings?: readonly string[];
    /** The centers' variance-stabilised counts (a simulation's), for `vst.csv`. */
    readonly vst?: VstTable;
    /** The samples' PCA coordinates the centers kept (a simulation's), for pca.csv and the plot. */
    readonly pcaCoordinates?: PcaCoordinates;
    /** A simulation's sample groups for the PCA plot (the contrast's factor), by sample. */
    readonly sampleGroups?: ReadonlyMap<string, string>;
    /** The plan's samples per center and design cell, for the report. */
    readonly cellSizes?: CellSizes | null;
    /**
     * The run's report thread (started with its first round): the report renders there while
     * the tables are written; without one, on this thread after the tables.
     */
    readonly reportThread?: ReportThread;
  } = {},
): Promise<RunJson> {
  const { sizeFactors } = extra;
  const report = runJson(outcome, job, seconds);
  if (extra.kSampleRule !== undefined) report.k_sample_rule = extra.kSampleRule;
  if (extra.designWarnings !== undefined && extra.designWarnings.length > 0)
    report.design_warnings = [...extra.designWarnings];
  const fitReport = runReport(outcome.fit, { ...job, fixedRounds: false }, seconds);
  makeFolders(outDir);
  const pcaCoordinates = madePca(outcome)?.coordinates ?? extra.pcaCoordinates ?? null;
  const tables = () =>
    writeRunTables(outDir, outcome, report, extra.vst, pcaCoordinates, sizeFactors);
  let reference: ReportReference | undefined;
  try {
    reference =
      job.compareFile === undefined ? undefined : readReferenceLfc(job.compareFile, outcome.fit);
  } catch (error) {
    // A reference that cannot be read (checked before round 1, it may still fail here) costs
    // the report, not the analysis: the tables are written, then the error is the outcome.
    tables();
    throw error;
  }
  const reportInput = runReportInput(outcome, job, report, fitReport, {
    ...(reference === undefined ? {} : { reference }),
    ...(sizeFactors === undefined ? {} : { sizeFactors }),
    cellSizes: extra.cellSizes ?? null,
    pcaCoordinates,
    ...(extra.sampleGroups === undefined ? {} : { sampleGroups: extra.sampleGroups }),
  });
  const file = join(outDir, "report.html");
  if (extra.reportThread !== undefined) {
    // The report renders on its own thread while this one writes the tables.
    await extra.reportThread.writeAlongside(file, reportInput, tables);
  } else {
    tables();
    // The report's plotting libraries (vega) load only when a report is written here.
    const { writeReport } = await import("../reports/html.js");
    await writeReport(file, reportInput);
  }
  return report;
}

/** Every table of a run, and run.json, written atomically into `outDir`. */
function writeRunTables(
  outDir: string,
  outcome: RunOutcome,
  report: RunJson,
  vst: VstTable | undefined,
  pcaCoordinates: PcaCoordinates | null,
  sizeFactors: Float64Array | undefined,
): void {
  if (vst !== undefined) writeVstCsv(join(outDir, "vst.csv"), vst);
  if (pcaCoordinates !== null) writePcaCsv(join(outDir, "pca.csv"), pcaCoordinates);
  if (sizeFactors !== undefined)
    writeSizeFactorsCsv(join(outDir, "size_factors.csv"), outcome.samples, sizeFactors);
  const { genes, fitted } = outcome.fit;
  const rowOf = new Int32Array(genes.length).fill(-1);
  fitted.forEach((g, j) => {
    rowOf[g] = j;
  });
  const d = outcome.dispersions;
  writeCsvAtomic(
    join(outDir, "dispersions.csv"),
    [
      "gene",
      "dispersion_genewise",
      "dispersion_trend",
      "dispersion_map",
      "dispersion",
      "dispersion_outlier",
    ],
    genes.map((gene, g) => {
      const j = rowOf[g];
      if (j < 0) return [gene, "", "", "", "", ""];
      return [
        gene,
        formatNumber(d.genewise[j]),
        formatNumber(d.trend[j]),
        formatNumber(d.map[j]),
        formatNumber(d.final[j]),
        d.outlier[j] ? "true" : "false",
      ];
    }),
  );
  writeLfcCsv(join(outDir, "lfc.csv"), outcome.fit);
  writeResultsCsv(join(outDir, "results.csv"), genes, outcome.results);
  if (outcome.shrunk !== null)
    writeShrunkCsv(join(outDir, "shrunk.csv"), genes, outcome.shrunk.table);
  writeSavedFit(join(outDir, SAVED_FIT_FILE), outcome.saved);
  writeFileAtomic(join(outDir, "run.json"), `${JSON.stringify(report, null, 2)}\n`);
  // An earlier run into the same folder may have written tables this one does not (its
  // shrunk.csv beside this run's results.csv of another contrast): each is removed, last, so the
  // folder holds one run's tables.
  const written = new Set([
    ...(vst === undefined ? [] : ["vst.csv"]),
    ...(pcaCoordinates === null ? [] : ["pca.csv"]),
    ...(sizeFactors === undefined ? [] : ["size_factors.csv"]),
    ...(outcome.shrunk === null ? [] : ["shrunk.csv"]),
  ]);
  for (const optional of OPTIONAL_RUN_TABLES)
    if (!written.has(optional)) rmSync(join(outDir, optional), { force: true });
}

/** The tables a run writes only with some options (or only in a simulation). */
const OPTIONAL_RUN_TABLES = ["vst.csv", "pca.csv", "size_factors.csv", "shrunk.csv"] as const;

/**
 * The variable the PCA plot colours samples by, as DESeq2's `plotPCA(intgroup =)`: the
 * contrast's factor, else the design's last variable.
 */
function pcaGroupFactor(job: RunJob): string {
  if (job.contrast?.kind === "levels") return job.contrast.factor;
  return parseFormula(job.design).terms.at(-1) ?? "center";
}

/** Most groups the PCA plot colours by (a variable with more is not a grouping). */
const MAX_PCA_GROUPS = 12;

/**
 * A simulation's samples' values of {@link pcaGroupFactor} (its user holds the metadata);
 * undefined when a center lacks the column or it has more than {@link MAX_PCA_GROUPS} values.
 */
function simulatedSampleGroups(
  sessions: readonly CenterSession[],
  job: RunJob,
): ReadonlyMap<string, string> | undefined {
  const factor = pcaGroupFactor(job);
  const groups = new Map<string, string>();
  for (const s of sessions) {
    const values = s.data.metadata.values.get(factor);
    if (values === undefined) return undefined;
    s.data.samples.forEach((sample, i) => {
      groups.set(sample, values[i]);
    });
  }
  return new Set(groups.values()).size > MAX_PCA_GROUPS ? undefined : groups;
}

/** pca.csv: `sample,center,PC1,PC2` (DESeq2's plotPCA(returnData = TRUE) coordinates). */
export function writePcaCsv(file: string, c: PcaCoordinates): void {
  writeCsvAtomic(
    file,
    ["sample", "center", "PC1", "PC2"],
    c.samples.map((sample, i) => [
      sample,
      c.centers[i],
      formatNumber(c.pc1[i]),
      formatNumber(c.pc2[i]),
    ]),
  );
}

/** Write `gene` then the named per-gene columns of `table` atomically (empty cells for NaN). */
function writeGeneTable<K extends string>(
  file: string,
  genes: readonly string[],
  table: Readonly<Record<K, ArrayLike<number>>>,
  columns: readonly K[],
): void {
  const values = columns.map((c) => table[c]);
  function* rows(): Generator<string[]> {
    for (let g = 0; g < genes.length; g++) {
      const row = new Array<string>(values.length + 1);
      row[0] = genes[g];
      for (let k = 0; k < values.length; k++) row[k + 1] = formatNumber(values[k][g]);
      yield row;
    }
  }
  writeCsvAtomic(file, ["gene", ...columns], rows());
}

/** DESeq2's results table as `results.csv`: one row per gene, NA where DESeq2 has NA. */
export function writeResultsCsv(file: string, genes: readonly string[], r: ResultsTable): void {
  writeGeneTable(file, genes, r, ["baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]);
}

/** shrunk.csv: `gene,baseMean,log2FoldChange,lfcSE,pvalue,padj` (empty where DESeq2 has NA). */
export function writeShrunkCsv(file: string, genes: readonly string[], t: ShrunkTable): void {
  writeGeneTable(file, genes, t, ["baseMean", "log2FoldChange", "lfcSE", "pvalue", "padj"]);
}

/** A run's report thread, started with its first round: see {@link reportThreadOfRun}. */
export interface RunReportThread {
  /** The run's {@link RunOptions.onPhase}: starts the thread at the first phase, then `next`. */
  readonly onPhase: (phase: string) => void;
  /** The run's {@link RunOptions.onDispersions}: sends the dispersion plot's numbers. */
  readonly onDispersions: NonNullable<RunOptions["onDispersions"]>;
  /** The thread, once started (for {@link writeRunOutputs}). */
  thread(): ReportThread | undefined;
  /** End the thread unless a report was asked of it. */
  close(): void;
}

/**
 * The report thread of a run, started when the first round starts — after every check of the
 * input, so that a command stopping on bad input starts none — so that vega loads while the
 * rounds run; it draws the dispersion plot once the dispersions are estimated, while the fit
 * goes on.
 * @param next - the run's own onPhase (progress lines), called after
 */
export function reportThreadOfRun(next?: (phase: string) => void): RunReportThread {
  let started: ReportThread | undefined;
  return {
    onPhase: (phase) => {
      started ??= ReportThread.start();
      next?.(phase);
    },
    onDispersions: (estimates, genes, fitted) =>
      started?.dispersionsEstimated(
        dispersionFigureSource(genes, fitted, estimates.initial.baseMean, estimates),
      ),
    thread: () => started,
    close: () => started?.close(),
  };
}

/**
 * The dispersion plot's numbers over every gene, as a run's report draws them: the fitted genes'
 * means (`baseMeanByGene`, by gene) and estimates (by fitted row), NaN for the other genes.
 */
function dispersionFigureSource(
  genes: number,
  fitted: Int32Array,
  baseMeanByGene: ArrayLike<number>,
  d: Pick<DispersionEstimates, "genewise" | "trend" | "final">,
): DispersionFigureSource {
  const spread = (values: ArrayLike<number>, byGene: boolean) => {
    const out = new Float64Array(genes).fill(Number.NaN);
    fitted.forEach((g, j) => {
      out[g] = values[byGene ? g : j];
    });
    return out;
  };
  return {
    baseMean: spread(baseMeanByGene, true),
    dispersions: {
      genewise: spread(d.genewise, false),
      trend: spread(d.trend, false),
      final: spread(d.final, false),
    },
  };
}

/** The HTML report's data for a run: the fit's, plus dispersions and the tests. */
function runReportInput(
  outcome: RunOutcome,
  job: RunJob,
  report: RunJson,
  fitReport: RunReport,
  extra: {
    readonly reference?: ReportReference;
    readonly sizeFactors?: Float64Array;
    readonly cellSizes: CellSizes | null;
    readonly pcaCoordinates: PcaCoordinates | null;
    readonly sampleGroups?: ReadonlyMap<string, string>;
  },
): ReportInput {
  const base = reportInput(outcome.fit, fitReport, extra.reference);
  const centerOfSample = outcome.centerSamples.flatMap(({ center, samples }) =>
    new Array<string>(samples).fill(center),
  );
  // The fit-lfc summary's round lines describe the fit alone: a run lists every phase instead.
  const {
    "rounds (init + IRLS + PQN + Newton + L-BFGS-B)": _fitRounds,
    "set-up rounds": _setup,
    ...fitFederation
  } = base.federation ?? {};
  const { "design columns": columns, ...fitSummary } = base.summary;
  const d = outcome.dispersions;
  const figure = dispersionFigureSource(
    outcome.fit.genes.length,
    outcome.fit.fitted,
    base.baseMean,
    d,
  );
  const pca = madePca(outcome);
  return {
    ...base,
    title: `fedseq: ${outcome.contrast}, ${report.genes.fitted} genes across ${outcome.fit.centers.length} centers`,
    lfc: outcome.results.log2FoldChange,
    coefficient: outcome.contrast,
    dispersions: { ...figure.dispersions, trendType: trendLabel(report) },
    tests: {
      contrast: outcome.contrast,
      alpha: report.alpha,
      log2FoldChange: outcome.results.log2FoldChange,
      lfcSE: outcome.results.lfcSE,
      stat: outcome.results.stat,
      pvalue: outcome.results.pvalue,
      padj: outcome.results.padj,
      baseMean: outcome.results.baseMean,
    },
    summary: {
      design: job.design,
      "design columns": columns,
      contrast: outcome.contrast,
      test:
        outcome.lrt === null
          ? "Wald"
          : `likelihood-ratio test against ${outcome.lrt.reduced} (${outcome.lrt.df} df): p-values are its; fold changes the contrast's`,
      [`genes with padj < ${report.alpha}`]: report.significant,
      ...fitSummary,
      "size factors":
        report.dispersions.size_factor_iterations === undefined
          ? report.dispersions.size_factors_type
          : `iterate (${report.dispersions.size_factor_iterations.iterations} iterations)`,
      "dispersion trend": trendLabel(report),
      "dispersion outliers (gene-wise kept)": report.dispersions.outliers,
      "Cook's outliers (genes refitted / p-values set to NA)": `${report.cooks.outliers} (${report.cooks.refitted} / ${report.cooks.pvalues_removed})`,
    },
    samples: {
      perCenter: outcome.centerSamples,
      cells: extra.cellSizes ?? null,
      sizeFactors:
        extra.sizeFactors === undefined
          ? null
          : outcome.samples.map((sample, i) => ({
              sample,
              center: centerOfSample[i],
              value: (extra.sizeFactors as Float64Array)[i],
            })),
    },
    ...(pca === null
      ? {}
      : {
          pca: {
            genes: pca.genes,
            percentVariance: [pca.percentVariance[0], pca.percentVariance[1]],
            points:
              extra.pcaCoordinates === null
                ? null
                : extra.pcaCoordinates.samples.map((sample, i) => {
                    const c = extra.pcaCoordinates as PcaCoordinates;
                    return {
                      sample,
                      center: c.centers[i],
                      group: extra.sampleGroups?.get(sample) ?? c.centers[i],
                      pc1: c.pc1[i],
                      pc2: c.pc2[i],
                    };
                  }),
            groupedBy: extra.sampleGroups === undefined ? "center" : pcaGroupFactor(job),
          },
        }),
    federation: {
      ...fitFederation,
      "secure aggregation": outcome.secureAggregation ? "yes" : "no (sums in clear)",
      "round trips in all": report.rounds.total,
      "round trips per phase": Object.entries(report.rounds)
        .filter(([phase]) => phase !== "total")
        .map(([phase, count]) => `${phase} ${count}`)
        .join(", "),
    },
  };
}

/** The trend the dispersions used, as DESeq2 names it (and the fallback, if one applied). */
function trendLabel(report: RunJson): string {
  const { fit_type: asked, used, fallback_reason: reason } = report.dispersions.trend;
  return asked === used ? used : `${used} (asked: ${asked}; ${reason ?? "fallback"})`;
}

/**
 * The size factors simulated centers computed in run `runId` and kept, read where they are
 * (never sent): every sample's, centers in `order` (the transport's), each in its sample order.
 */
export function simulatedSizeFactors(
  sessions: readonly CenterSession[],
  runId: string,
  order: readonly CenterInfo[],
): Float64Array {
  const byName = new Map(sessions.map((s) => [s.name, s]));
  const out = new Float64Array(order.reduce((n, c) => n + c.samples.length, 0));
  let offset = 0;
  for (const info of order) {
    const own = byName.get(info.name)?.ownSizeFactors(runId) ?? null;
    if (own === null) throw new Error(`center ${info.name}: no size factors for run ${runId}`);
    out.set(own, offset);
    offset += own.length;
  }
  return out;
}

/** Variance-stabilised counts: genes × samples. */
export interface VstTable {
  readonly genes: readonly string[];
  readonly samples: readonly string[];
  /** Gene-major: gene g's values (one per sample) at g·samples. */
  readonly values: Float64Array;
}

/**
 * The variance-stabilised counts simulated centers computed in run `runId` and kept, read where
 * they are (never sent): every gene of `genes` × every sample, centers in `order`; null when the
 * run transformed none.
 */
export function simulatedVst(
  sessions: readonly CenterSession[],
  runId: string,
  order: readonly CenterInfo[],
  genes: readonly string[],
): VstTable | null {
  const byName = new Map(sessions.map((s) => [s.name, s]));
  const samples = order.flatMap((c) => c.samples);
  const values = new Float64Array(genes.length * samples.length);
  let offset = 0;
  for (const info of order) {
    const session = byName.get(info.name);
    const own = session?.ownVst(runId) ?? null;
    if (session === undefined || own === null) return null;
    const n = info.samples.length;
    const row = new Map(session.data.genes.map((g, i) => [g, i]));
    genes.forEach((gene, g) => {
      const r = row.get(gene);
      if (r === undefined) throw new Error(`center ${info.name}: no gene ${gene} for vst.csv`);
      for (let i = 0; i < n; i++) values[g * samples.length + offset + i] = own[r * n + i];
    });
    offset += n;
  }
  return { genes, samples, values };
}

/**
 * The PCA coordinates simulated centers computed in run `runId` and kept (their plan did not
 * send them), read where they are; null when a center made none.
 */
export function simulatedPcaCoordinates(
  sessions: readonly CenterSession[],
  runId: string,
  order: readonly CenterInfo[],
): PcaCoordinates | null {
  const byName = new Map(sessions.map((s) => [s.name, s]));
  const own = order.map((c) => byName.get(c.name)?.ownPcaCoordinates(runId) ?? null);
  if (own.some((x) => x === null)) return null;
  return pcaCoordinatesOf(order, own as Float64Array[]);
}

/** Write `vst.csv` (`gene` then one column per sample) atomically. */
export function writeVstCsv(file: string, table: VstTable): void {
  const m = table.samples.length;
  writeCsvAtomic(
    file,
    ["gene", ...table.samples],
    table.genes.map((gene, g) => [
      gene,
      ...Array.from(table.values.subarray(g * m, (g + 1) * m), formatNumber),
    ]),
  );
}

/** Write `sample,size_factor` rows atomically. */
export function writeSizeFactorsCsv(
  file: string,
  samples: readonly string[],
  sizeFactors: Float64Array,
): void {
  writeCsvAtomic(
    file,
    ["sample", "size_factor"],
    samples.map((s, i) => [s, formatNumber(sizeFactors[i])]),
  );
}

/**
 * The options of a simulated analysis: the data folder and the design; everything else has
 * DESeq2's default (`DESeq(dds); results(dds)`: ratio size factors, parametric trend, Wald test of
 * the last coefficient, alpha 0.1 with independent filtering, Cook's replacement and filter) and
 * fedseq's (the `deseq2` solver, no secure aggregation, threads on every core).
 */
export type SimulatedRunOptions = Pick<SimulatedRunJob, "dataDir" | "design"> &
  Partial<Omit<SimulatedRunJob, "dataDir" | "design">>;

/** A simulated run job with the defaults of {@link SimulatedRunOptions} filled in. */
export function simulatedRunJob(options: SimulatedRunOptions): SimulatedRunJob {
  return {
    references: {},
    mode: "irls-pqn",
    solver: "deseq2",
    hp: DEFAULT_HYPERPARAMETERS,
    outDir: "",
    wald: { lfcThreshold: 0, altHypothesis: "greaterAbs" },
    alpha: 0.1,
    independentFiltering: true,
    ...options,
  };
}

/** What a simulated analysis holds in memory (every center's data was the user's). */
export interface SimulatedAnalysis {
  /** What `run.json` holds. */
  readonly report: RunJson;
  /** The fit, dispersions and DESeq2's results table (`outcome.results`, genes `outcome.fit.genes`). */
  readonly outcome: RunOutcome;
  /** Every sample's size factor, samples in `outcome.samples` order. */
  readonly sizeFactors: Float64Array;
  /** The variance-stabilised counts (`vst: true` and a parametric or mean trend), or null. */
  readonly vst: VstTable | null;
}

/**
 * DESeq2's analysis of a dataset folder, split into its centers in this process, kept in memory:
 * nothing is written (see {@link runSimulated} for the files).
 * @example
 * ```js
 * const { report, outcome } = await analyseSimulated({ dataDir: bundledBodymap(), design: "~ tissue" });
 * ```
 */
export async function analyseSimulated(
  options: SimulatedRunOptions,
  onRound?: (event: RoundEvent) => void,
  onPhase?: (phase: string) => void,
): Promise<SimulatedAnalysis> {
  const job = simulatedRunJob(options);
  const run = await simulate(job, onRound, onPhase);
  const report = runJson(run.outcome, job, run.seconds);
  decorateReport(report, run.extra);
  return {
    report,
    outcome: run.outcome,
    sizeFactors: run.extra.sizeFactors,
    vst: run.extra.vst ?? null,
  };
}

/**
 * DESeq2's analysis of a dataset folder, split into its centers in this process, with its files
 * written to `outDir` (as `fedseq run --data`).
 * @returns what run.json holds
 */
export async function runSimulated(
  options: SimulatedRunOptions,
  onRound?: (event: RoundEvent) => void,
  onPhase?: (phase: string) => void,
): Promise<RunJson> {
  const job = simulatedRunJob(options);
  if (job.outDir === "")
    throw new InputError("runSimulated: outDir is required (or use analyseSimulated)");
  const report = job.reportThread === true ? reportThreadOfRun(onPhase) : null;
  try {
    const run = await simulate(job, onRound, report?.onPhase ?? onPhase, report?.onDispersions);
    const reportThread = report?.thread();
    return await writeRunOutputs(job.outDir, run.outcome, job, run.seconds, {
      ...run.extra,
      ...(reportThread === undefined ? {} : { reportThread }),
    });
  } finally {
    report?.close();
  }
}

/** What {@link simulate} gives {@link writeRunOutputs} besides the outcome. */
interface SimulationExtras {
  readonly sizeFactors: Float64Array;
  readonly cellSizes: CellSizes | null;
  readonly vst?: VstTable;
  readonly pcaCoordinates?: PcaCoordinates;
  readonly sampleGroups?: ReadonlyMap<string, string>;
  readonly designWarnings: readonly string[];
  readonly kSampleRule?: KSampleRule;
}

/** Put a simulation's extras into its report (as writeRunOutputs does). */
function decorateReport(report: RunJson, extra: SimulationExtras): void {
  if (extra.kSampleRule !== undefined) report.k_sample_rule = extra.kSampleRule;
  if (extra.designWarnings.length > 0) report.design_warnings = [...extra.designWarnings];
}

/** The simulation itself: centers in this process, their outcome and what they kept. */
async function simulate(
  job: SimulatedRunJob,
  onRound?: (event: RoundEvent) => void,
  onPhase?: (phase: string) => void,
  onDispersions?: RunOptions["onDispersions"],
): Promise<{ outcome: RunOutcome; seconds: number; extra: SimulationExtras }> {
  const started = performance.now();
  const pool = new GenePool({ threads: job.threads ?? defaultThreads() });
  // The simulated centers accept the plan of this job (given, or made from their data as
  // `fedseq plan --data` makes it) and enforce it as real centers do.
  let plan = job.plan;
  const formula = parseFormula(job.design);
  // The user of a simulation holds every center's data: a cell too small for the plan's
  // k-sample rule is reported (run.json, and a warning from the CLI), not refused.
  const unmet: string[] = [];
  const sessions = await simulatedCenters(job.dataDir, job.read, {
    kernels: pool,
    cellRuleWaiver: (problem) => unmet.push(problem),
    // One user holds the aggregator and every center: nothing to verify, so no center replays
    // the plan (a real center does: verifiedRequests.ts; `replay` runs them here too).
    replay: job.replay === true ? planPipeline : null,
    plan: (data) => {
      if (plan === undefined) {
        checkMixedNumeric(
          data.map((d) => d.metadata),
          formula,
        );
        const levels = mergeLevels(data.map((d) => localLevels(d.metadata, formula)));
        const cells = { design: job.design, levels };
        plan = planFromRunJob(
          job,
          levels,
          data.map((d) => d.name),
          {
            minCell: job.minCell,
            secureAggregation: job.secureAggregation === true,
            omitSparseGenes: job.omitSparseGenes === true,
            ...(job.verifyRequests === undefined ? {} : { verifyRequests: job.verifyRequests }),
            cellSizes: Object.fromEntries(data.map((d) => [d.name, localCellSizes(cells, d)])),
          },
        );
        // A plan file would be refused (plan.ts); the simulation runs it and says so. (In
        // clear the cell rule already reports k above 1.)
        if (plan.secureAggregation && !plan.verifyRequests && plan.minCell > 1)
          unmet.push(`min_cell ${plan.minCell}: ${UNVERIFIED_MIN_CELL}`);
      } else if (plan.secureAggregation !== (job.secureAggregation === true)) {
        throw new InputError(
          `the analysis plan's secure_aggregation is ${plan.secureAggregation}, the run's ${job.secureAggregation === true}`,
        );
      }
      return plan;
    },
  });
  const centers = new InProcessTransport(sessions, {
    secureAggregation: job.secureAggregation === true,
    maskThread: pool.threads >= 2,
  });
  const runId = randomUUID();
  const transcript = job.transcriptFile === undefined ? null : new JsonLinesLog(job.transcriptFile);
  const transport = transcript === null ? centers : recordingTransport(centers, transcript);
  try {
    const outcome = await runOverFederation(transport, job, {
      onRound,
      onPhase,
      onDispersions,
      plan,
      runId,
    });
    const sizeFactors = simulatedSizeFactors(sessions, runId, transport.centers);
    const vst = simulatedVst(sessions, runId, transport.centers, outcome.fit.genes);
    // The coordinates the centers kept (a plan that sends them has them in the outcome).
    const pcaCoordinates =
      madePca(outcome)?.coordinates === null
        ? simulatedPcaCoordinates(sessions, runId, transport.centers)
        : null;
    const sampleGroups =
      madePca(outcome) === null ? undefined : simulatedSampleGroups(sessions, job);
    const seconds = (performance.now() - started) / 1000;
    return {
      outcome,
      seconds,
      extra: {
        sizeFactors,
        cellSizes: plan?.cellSizes ?? null,
        ...(vst === null ? {} : { vst }),
        ...(pcaCoordinates === null ? {} : { pcaCoordinates }),
        ...(sampleGroups === undefined ? {} : { sampleGroups }),
        designWarnings: designWarnings(
          sessions.map((s) => s.data.metadata),
          formula,
          plan?.levels ?? {},
        ),
        kSampleRule: plan === undefined ? undefined : kSampleRule(plan, unmet),
      },
    };
  } finally {
    transcript?.close();
    await transport.close();
    await pool.close();
  }
}
