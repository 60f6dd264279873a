/**
 * DESeq2's `estimateDispersions` over a federation: moments, μ, the gene-wise search, the
 * trend, the prior and the MAP search, each round a record step every center runs on its own
 * samples (see src/algorithms/dispersions for the mathematics).
 */

import {
  dispersionMomentsAggregate,
  dispersionResidualsAggregate,
} from "../algorithms/dispersions/moments.js";
import { DESEQ2_DISPERSION_OPTIONS } from "../algorithms/dispersions/options.js";
import { dispersionPriorVariance, finalDispersions } from "../algorithms/dispersions/prior.js";
import {
  dispersionSearchAggregate,
  finishDispersionSearch,
  genewiseSearchStart,
  mapSearchAfter,
} from "../algorithms/dispersions/search.js";
import type {
  DispersionEvalShare,
  DispersionSearchResult,
  DispersionSearchState,
  InitialDispersions,
} from "../algorithms/dispersions/state.js";
import {
  type DispersionTrend,
  dispersionTrend,
  type FitType,
  TrendFitError,
} from "../algorithms/dispersions/trend.js";
import type { FitHyperparameters } from "../algorithms/hyperparameters.js";
import type { LfcSolver } from "../algorithms/lfc/computeLfc.js";
import { computeLfc } from "../algorithms/lfc/computeLfc.js";
import { type GeneMask, gatherRows, maskCount, maskIndices } from "../algorithms/masks.js";
import { sumOverCenters } from "../algorithms/shares.js";
import { checkFullRank, type DesignLevels, type References } from "../design/designMatrix.js";
import { factorCellRows } from "../design/factorCells.js";
import { parseStepFormula } from "../design/formula.js";
import type { DispersionGridRequest } from "../federation/registry.js";
import type { FederationRunner, IterativePhase } from "../federation/runner.js";
import { InputError } from "../io/errors.js";
import { fitGenes } from "./fitLfc.js";

/** What {@link federatedDispersions} needs from the run. */
export interface DispersionJob {
  /** Every gene of the federation. */
  readonly genes: readonly string[];
  /** Indices of the non-zero genes. */
  readonly fitted: Int32Array;
  readonly design: string;
  readonly levels: DesignLevels;
  readonly references: References;
  /** The design's column names (for the rank check's message). */
  readonly columns: readonly string[];
  readonly hp: FitHyperparameters;
  readonly solver: LfcSolver;
  /** DESeq2's `maxit` for the `deseq2` path (default 100). */
  readonly maxit?: number;
  /** DESeq2's `fitType` (default "parametric"). */
  readonly fitType?: FitType;
  /** Put before the phases' names (default none): the iterative size factors' own estimations. */
  readonly phasePrefix?: string;
}

/** A run's dispersion estimates for the fitted genes (row j is gene fitted[j]). */
export interface DispersionEstimates {
  /** Gene-wise maximum-likelihood estimates (Cox–Reid adjusted): DESeq2's dispGeneEst. */
  readonly genewise: Float64Array;
  /** The trend at each gene's mean: DESeq2's dispFit. */
  readonly trend: Float64Array;
  /** Maximum a posteriori estimates: DESeq2's dispMAP. */
  readonly map: Float64Array;
  /** The dispersions used for the fit: DESeq2's dispersion. */
  readonly final: Float64Array;
  /** Genes whose gene-wise estimate is kept (DESeq2's dispOutlier). */
  readonly outlier: Uint8Array;
  /** DESeq2's minDisp. */
  readonly minDispersion: number;
  /** Which trend was fitted (the one asked for, or DESeq2's fallback), with its coefficients. */
  readonly trendFit: Omit<DispersionTrend, "dispFit">;
  /** DESeq2's dispPriorVar and varLogDispEsts. */
  readonly priorVariance: number;
  readonly varLogDispEsts: number;
  /** The moments' results (baseMean, alpha_init, …) over every gene (G arrays). */
  readonly initial: InitialDispersions;
  /**
   * The μ the centers computed the gene-wise estimates at (DESeq2's `assays(dds)[["mu"]]` after
   * `estimateDispersionsGeneEst`, which `nbinomLRT`'s Cook's distances read): its link and its
   * coefficients for the returned genes, F×p. null for a refit (DESeq2 keeps the first Cook's
   * distances).
   */
  readonly genewiseMu: { readonly link: "identity" | "log"; readonly beta: Float64Array } | null;
}

/**
 * The refit after Cook's replacement (DESeq2's `refitWithoutOutliers`): the genes whose counts
 * were replaced get new gene-wise and MAP dispersions on the replaced counts, with the first
 * estimation's trend (at their new means) and prior.
 */
export interface DispersionRefit {
  /** The genes to refit, over the fitted genes. */
  readonly genes: GeneMask;
  /** The first estimation's trend (evaluated at the refitted genes' new means). */
  readonly trend: Omit<DispersionTrend, "dispFit">;
  readonly priorVariance: number;
  readonly varLogDispEsts: number;
}

/** A dispersion search as a phase of the runner: the centers get the state's request part. */
function searchPhase(
  name: string,
  designColumns: number,
): IterativePhase<"dispersionGrid", DispersionSearchResult, DispersionSearchState> {
  return {
    name,
    step: "dispersionGrid",
    request: (state): DispersionGridRequest => ({
      kind: "dispersion-grid-request",
      round: state.round,
      mask: state.mask,
      points: state.points,
      pointsPerGene: state.pointsPerGene,
      pointCounts: state.pointCounts,
      derivatives: state.derivatives,
      derivativeCounts: state.derivativeCounts,
      designColumns,
      designRows: state.designRows ?? new Float64Array(0),
    }),
    aggregate: (state, shares: DispersionEvalShare[]) => dispersionSearchAggregate(state, shares),
    isResult: (value): value is DispersionSearchResult => value.kind === "dispersion-search-result",
    activeGenes: (state) => maskCount(state.mask),
    finish: (state) => finishDispersionSearch(state),
  };
}

/** Estimate every non-zero gene's dispersion over the federation, as DESeq2's defaults. */
export async function federatedDispersions(
  runner: FederationRunner,
  job: DispersionJob,
  refit?: DispersionRefit,
): Promise<DispersionEstimates> {
  const options = DESEQ2_DISPERSION_OPTIONS;
  const prefix = `${job.phasePrefix ?? ""}${refit === undefined ? "" : "refit-"}`;
  // The design rows a sample can have, listed from the levels: the centers only count theirs.
  const candidateRows =
    factorCellRows(parseStepFormula(job.design), job.levels, job.references, job.columns) ??
    new Float64Array(0);
  const moments = await runner.round(`${prefix}dispersions`, "dispersionMoments", {
    kind: "dispersion-moments-request",
    formula: job.design,
    levels: JSON.stringify(job.levels),
    references: JSON.stringify(job.references),
    refitGenes: refit?.genes ?? new Uint8Array(0),
    candidateRows,
  });
  if (refit === undefined) {
    // A confounded design stops here, naming its columns, before any estimate.
    checkFullRank(sumOverCenters(moments, "gram"), job.columns.length, job.columns);
  }
  const residualsRequest = dispersionMomentsAggregate(
    moments,
    { kind: "dispersion-moments-request", candidateRows },
    options,
  );
  const residuals = await runner.round(
    `${prefix}dispersions`,
    "dispersionResiduals",
    residualsRequest,
  );
  const initial = dispersionResidualsAggregate(residualsRequest, residuals, options);
  const p = initial.p;

  // The μ model's coefficients on mask (A×p), as the centers were sent them.
  let muModel: { link: "identity" | "log"; beta: Float64Array } = {
    link: "identity",
    beta: residualsRequest.linearBeta,
  };
  if (!initial.linearMu && refit !== undefined) {
    // μ of the refit genes: an NB GLM fit of their replaced counts with alpha_init.
    await runner.round(`${prefix}dispersions`, "prepareRefit", {
      kind: "prepare-refit-request",
      refitGenes: refit.genes,
      dispersions: initial.alphaInit,
      originalCounts: false,
    });
    const fit = await computeLfc(runner, job.hp, "irls-pqn", {
      refit: true,
      solver: job.solver,
      maxIterations: job.maxit,
    });
    muModel = { link: "log", beta: gatherRows(fit.beta, p, maskIndices(initial.mask)) };
    await runner.round(`${prefix}dispersions`, "dispersionMu", {
      kind: "dispersion-mu-request",
      mask: initial.mask,
      beta: muModel.beta,
      link: "log",
      minMu: options.minMu,
    });
  } else if (!initial.linearMu) {
    // DESeq2 takes μ from an NB GLM fit with alpha_init when the design is not a group design.
    const fit = await fitGenes(runner, runner.transport, {
      genes: job.genes,
      fitted: job.fitted,
      allZero: job.genes.length - job.fitted.length,
      notSelected: 0,
      sizeFactors: null,
      levels: job.levels,
      dispersions: Float64Array.from(job.fitted, (g) => initial.alphaInit[g]),
      design: job.design,
      references: job.references,
      hp: job.hp,
      mode: "irls-pqn",
      solver: job.solver,
      maxit: job.maxit,
      fingerprint: "",
      history: [],
    });
    muModel = { link: "log", beta: fit.result.beta };
    await runner.round(`${prefix}dispersions`, "dispersionMu", {
      kind: "dispersion-mu-request",
      mask: initial.mask,
      beta: muModel.beta,
      link: "log",
      minMu: options.minMu,
    });
  }

  const genewise = await runner.runPhase(
    searchPhase(`${prefix}genewise-dispersions`, p),
    genewiseSearchStart(initial, options),
  );
  let trendFit: Omit<DispersionTrend, "dispFit">;
  let dispFit: Float64Array;
  let prior: { priorVariance: number; varLogDispEsts: number };
  if (refit === undefined) {
    try {
      ({ dispFit, ...trendFit } = dispersionTrend(
        initial.mask,
        initial.baseMean,
        genewise.dispersion,
        options,
        job.fitType,
      ));
    } catch (error) {
      if (error instanceof TrendFitError) throw new InputError(`dispersions: ${error.message}`);
      throw error;
    }
    prior = dispersionPriorVariance(
      initial.mask,
      genewise.dispersion,
      dispFit,
      initial.samples,
      p,
      options,
    );
  } else {
    // DESeq2's refit keeps the first trend (at the replaced counts' means) and prior.
    trendFit = refit.trend;
    dispFit = initial.baseMean.map((mean, g) => (initial.mask[g] ? trendFit.at(mean) : Number.NaN));
    prior = refit;
  }
  const map = await runner.runPhase(
    searchPhase(`${prefix}map-dispersions`, p),
    mapSearchAfter(
      initial,
      genewise.dispersion,
      dispFit,
      prior.priorVariance,
      options,
      refit !== undefined,
    ),
  );
  const final = finalDispersions(
    initial.mask,
    genewise.dispersion,
    dispFit,
    map.dispersion,
    prior.varLogDispEsts,
    options,
    refit !== undefined,
  );
  // The first estimation covers every gene of the federation; the refit only its genes.
  const rows = refit === undefined ? job.fitted : Int32Array.from(initial.baseMean, (_, g) => g);
  const pick = (values: Float64Array) => Float64Array.from(rows, (g) => values[g]);
  return {
    genewise: pick(genewise.dispersion),
    trend: pick(dispFit),
    map: pick(map.dispersion),
    final: pick(final.dispersion),
    outlier: Uint8Array.from(rows, (g) => final.outlier[g]),
    minDispersion: options.minDisp,
    trendFit,
    priorVariance: prior.priorVariance,
    varLogDispEsts: prior.varLogDispEsts,
    initial,
    genewiseMu:
      refit === undefined
        ? { link: muModel.link, beta: maskRowsOf(initial.mask, muModel.beta, p, rows) }
        : null,
  };
}

/** Rows `genes` (gene indices) of a G-gene matrix given by its rows on `mask` (A×p). */
function maskRowsOf(
  mask: GeneMask,
  onMask: Float64Array,
  p: number,
  genes: Int32Array,
): Float64Array {
  const rank = new Int32Array(mask.length).fill(-1);
  maskIndices(mask).forEach((g, a) => {
    rank[g] = a;
  });
  const rows = Int32Array.from(genes, (g) => {
    if (rank[g] < 0)
      throw new Error(`gene ${g} has no dispersion μ (not on the dispersions' mask)`);
    return rank[g];
  });
  return gatherRows(onMask, p, rows);
}
