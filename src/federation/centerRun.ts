/**
 * What a center keeps between the steps of one run (never sent anywhere), and the record steps
 * that read and extend it: size factors, and the dispersion and Cook's steps that build on them.
 */
import { apeglmLocalStep } from "../algorithms/apeglm/local.js";
import {
  type CenterFitData,
  type FitCenter,
  prepareCenterData,
  type RefitData,
  refitData,
} from "../algorithms/center.js";
import {
  type CooksCenter,
  cellCountsLocalStep,
  countsWithReplacements,
  gridOf,
  privateCooksRoundLocal,
  privateSumFromWire,
  type ReplacedRows,
} from "../algorithms/cooks/index.js";
import { deseq2IrlsLocalStep, nllAtPointsLocalStep } from "../algorithms/deseq2/local.js";
import type { DispersionCenter } from "../algorithms/dispersions/center.js";
import {
  dispersionMomentsLocalStep,
  dispersionResidualsLocalStep,
} from "../algorithms/dispersions/moments.js";
import { dispersionMuLocalStep } from "../algorithms/dispersions/mu.js";
import type { LocalKernels } from "../algorithms/kernels.js";
import { maskCount, maskIndices } from "../algorithms/masks.js";
import {
  type PcaCenter,
  pcaCoordinatesLocal,
  pcaMomentsLocal,
  pcaProductLocal,
} from "../algorithms/pca/local.js";
import { countsOfRows, geneRows } from "../algorithms/setup/local.js";
import { parseLevels, parseReferences } from "../algorithms/setup/state.js";
import {
  candidateLogSizeFactors,
  type IterateCenterData,
  sizeFactorCandidateLocal,
  sizeFactorRootLocal,
} from "../algorithms/sizeFactors/iterate.js";
import { localLogSums, localSizeFactors } from "../algorithms/sizeFactors/local.js";
import type { SizeFactorProblem } from "../algorithms/sizeFactors/state.js";
import { countAbove, varianceStabilized, vstTrendOfRequest } from "../algorithms/vst.js";
import { informationLocalStep } from "../algorithms/wald/local.js";
import { PrivateDataError } from "../core/errors.js";
import { type DesignLevels, designMatrix, type References } from "../design/designMatrix.js";
import { parseStepFormula } from "../design/formula.js";
import type { CenterData } from "./centerData.js";
import type { StepName, StepTypes } from "./registry.js";

/** No row replaced: a refit dataset of the original counts (see the step "prepareRefit"). */
const NOTHING_REPLACED: ReplacedRows = { genes: new Int32Array(0), values: new Float64Array(0) };

/** A center's private state for one run. */
export interface CenterRunState {
  readonly runId: string;
  /** Rows (in the center's data) of the run's genes, in the federation's gene order. */
  rows?: Int32Array;
  /** Counts of those genes, gene-major. */
  counts?: Float64Array;
  /** The center's own size factors, once computed. */
  sizeFactors?: Float64Array;
  /**
   * Its size factors before poscounts' scaling (set by `sizeFactorScale`), so that a repeated
   * scaling request scales them once, never twice.
   */
  unscaledSizeFactors?: Float64Array;
  /** Its data for the dispersion steps (design, size factors, counts, then μ's coefficients). */
  dispersion?: DispersionCenter;
  /** The rows of the fitted genes whose Cook's outliers were replaced (never sent: the refit's data). */
  replacedCounts?: ReplacedRows;
  /** Its samples' variance-stabilised counts, every gene of its data, gene-major (never sent). */
  vst?: Float64Array;
  /** Those of the run's genes, in the run's order (the PCA's data, never sent). */
  pca?: PcaCenter;
  /** Its samples' (PC1, PC2), sample-major n×2 (sent only under the plan's pca_coordinates). */
  pcaCoordinates?: Float64Array;
}

/** Access to the center's prepared fit, for the steps that follow `prepare`. */
export interface PreparedFitAccess {
  /** The prepared fit (throws when the run has not prepared one). */
  get(): FitCenter;
  /** Attach the refit dataset (outliers replaced) to the prepared fit. */
  setRefit(refit: RefitData): void;
  /** Where the heavy kernels run (this thread, or the center's worker pool). */
  readonly kernels: LocalKernels;
}

/**
 * The prepared fit's samples as the Cook's steps read them (design, size factors, counts of the
 * fitted genes), checked against the request's design columns.
 */
function cooksCenter(center: string, prepared: PreparedFitAccess, p: number): CooksCenter {
  return cooksDataset(center, prepared, p).data;
}

/** The prepared fit's dataset a Cook's step of `p` design columns reads (checked). */
function cooksDataset(center: string, prepared: PreparedFitAccess, p: number): CenterFitData {
  const dataset = prepared.get().main;
  if (dataset.data.p !== p) {
    throw new Error(
      `center ${center}: Cook's request for ${p} design columns, the fit has ${dataset.data.p}`,
    );
  }
  return dataset;
}

/** The center's data for an iterative size-factor step, checked against the request's genes. */
function iterateCenter(
  data: CenterData,
  state: CenterRunState,
  step: string,
  request: SizeFactorProblem,
): IterateCenterData {
  const counts = need(state.counts, data.name, step, "the run's genes");
  const n = data.samples.length;
  if (request.baseMean.length * n !== counts.length)
    throw new Error(
      `center ${data.name}: ${step} of ${request.baseMean.length} genes, the run has ${counts.length / n}`,
    );
  return { n, counts, sizeFactors: need(state.sizeFactors, data.name, step, "size factors") };
}

/** The steps {@link runRecordStep} runs: all but the fit's set-up and solver steps (centerSession.ts). */
export type CenterRunStep = Exclude<
  StepName,
  | "presence"
  | "nonZeroCells"
  | "contrastPresence"
  | "levelPresence"
  | "levels"
  | "prepare"
  | "init"
  | "irls"
  | "pqn"
  | "newton"
>;

type In<K extends CenterRunStep> = StepTypes[K]["input"];
type Out<K extends CenterRunStep> = StepTypes[K]["output"];

function need<T>(value: T | undefined, center: string, step: string, what: string): T {
  if (value === undefined)
    throw new Error(`center ${center}: step ${step} before the step that computes ${what}`);
  return value;
}

/**
 * Run a record step at a center on its data and run state.
 * @param prepared - the center's prepared fit
 */
export function runRecordStep<K extends CenterRunStep>(
  data: CenterData,
  state: CenterRunState,
  step: K,
  input: In<K>,
  prepared: PreparedFitAccess,
): Out<K> {
  const n = data.samples.length;
  switch (step) {
    case "logSums": {
      const request = input as In<"logSums">;
      state.rows = geneRows(data, request.genes);
      state.counts = countsOfRows(data, state.rows);
      return localLogSums(state.counts, n, request.genesWithZeros) as Out<K>;
    }
    case "sizeFactors": {
      const request = input as In<"sizeFactors">;
      const counts = need(state.counts, data.name, step, "log sums");
      if (request.logGeoMeans.length * n !== counts.length) {
        throw new Error(
          `center ${data.name}: ${request.logGeoMeans.length} log geometric means for ${counts.length / n} genes`,
        );
      }
      const sizeFactors = localSizeFactors(counts, n, request.logGeoMeans);
      sizeFactors.forEach((sf, i) => {
        if (!(sf > 0 && Number.isFinite(sf))) {
          // Its operator reads which sample; the aggregator (whose reference genes these are)
          // only that one has none: named, the sample's id and its zeros would leave the center.
          throw new PrivateDataError(
            `center ${data.name}: sample ${data.samples[i]} has no positive count among the genes of the size factors' reference`,
            `center ${data.name}: a sample has no positive count among the genes of the size factors' reference`,
          );
        }
      });
      // They stay here: every later step of the run uses them, and none sends them.
      state.sizeFactors = sizeFactors;
      state.unscaledSizeFactors = undefined;
      let logSizeFactorSum = 0;
      if (request.stabilize) for (const sf of sizeFactors) logSizeFactorSum += Math.log(sf);
      return { kind: "size-factors-share", samples: n, logSizeFactorSum } as Out<K>;
    }
    case "sizeFactorScale": {
      const request = input as In<"sizeFactorScale">;
      const own =
        state.unscaledSizeFactors ?? need(state.sizeFactors, data.name, step, "size factors");
      // DESeq2: sf / exp(mean(log(sf))), over every sample of the federation.
      const scale = Math.exp(request.logMean);
      state.unscaledSizeFactors = own;
      state.sizeFactors = own.map((sf) => sf / scale);
      return { kind: "size-factor-scale-share", samples: n } as Out<K>;
    }
    case "unitSizeFactors": {
      const request = input as In<"unitSizeFactors">;
      state.rows = geneRows(data, request.genes);
      state.counts = countsOfRows(data, state.rows);
      // DESeq2's iterative size factors start from 1; they stay here like any others.
      state.sizeFactors = new Float64Array(n).fill(1);
      state.unscaledSizeFactors = undefined;
      return { kind: "unit-size-factors-share", samples: n } as Out<K>;
    }
    case "sizeFactorRoot":
      return sizeFactorRootLocal(
        iterateCenter(data, state, step, input as In<"sizeFactorRoot">),
        input as In<"sizeFactorRoot">,
      ) as Out<K>;
    case "sizeFactorCandidate": {
      const request = input as In<"sizeFactorCandidate">;
      const center = iterateCenter(data, state, step, request);
      const t = candidateLogSizeFactors(center, request);
      if (request.commit) {
        state.sizeFactors = Float64Array.from(t, Math.exp);
        return {
          kind: "size-factor-candidate-share",
          geneLogLik: new Float64Array(0),
          moved: 0,
        } as Out<K>;
      }
      return sizeFactorCandidateLocal(center, request, t) as Out<K>;
    }
    case "vst": {
      const sizeFactors = need(state.sizeFactors, data.name, step, "size factors");
      state.vst = varianceStabilized(
        data.counts,
        sizeFactors,
        vstTrendOfRequest(input as In<"vst">),
      );
      return { kind: "vst-share", samples: n } as Out<K>;
    }
    case "vstMaximum": {
      const request = input as In<"vstMaximum">;
      const above = countAbove(
        need(state.counts, data.name, step, "log sums"),
        need(state.sizeFactors, data.name, step, "size factors"),
        request.threshold,
      );
      return { kind: "vst-maximum-share", above: Float64Array.of(above) } as Out<K>;
    }
    case "pcaMoments": {
      const request = input as In<"pcaMoments">;
      const vst = need(state.vst, data.name, step, "the variance-stabilised counts");
      const rows = need(state.rows, data.name, step, "log sums");
      if (request.genes !== rows.length)
        throw new Error(
          `center ${data.name}: PCA moments of ${request.genes} genes, the run has ${rows.length}`,
        );
      const counts = need(state.counts, data.name, step, "log sums");
      const nonZero = new Float64Array(rows.length);
      for (let g = 0; g < rows.length; g++)
        for (let i = 0; i < n; i++) if (counts[g * n + i] > 0) nonZero[g]++;
      state.pca = { n, genes: rows.length, values: vst, rows, nonZero };
      return pcaMomentsLocal(state.pca) as Out<K>;
    }
    case "pcaProduct":
      return pcaProductLocal(
        need(state.pca, data.name, step, "the PCA's moments"),
        input as In<"pcaProduct">,
      ) as Out<K>;
    case "pcaCoordinates": {
      const request = input as In<"pcaCoordinates">;
      state.pcaCoordinates = pcaCoordinatesLocal(
        need(state.pca, data.name, step, "the PCA's moments"),
        request,
      );
      return {
        kind: "pca-coordinates-share",
        coordinates: request.send ? state.pcaCoordinates.slice() : new Float64Array(0),
      } as Out<K>;
    }
    case "dispersionMoments": {
      const request = input as In<"dispersionMoments">;
      const sizeFactors = need(state.sizeFactors, data.name, step, "size factors");
      const counts =
        request.refitGenes.length === 0
          ? need(state.counts, data.name, step, "log sums")
          : countsWithReplacements(
              prepared.get().main.data.counts,
              n,
              need(state.replacedCounts, data.name, step, "Cook's replacement"),
              request.refitGenes,
            );
      const levels: DesignLevels = parseLevels(request.levels, "dispersionMoments.levels");
      const references: References = parseReferences(
        request.references,
        "dispersionMoments.references",
      );
      const design = designMatrix(
        data.metadata,
        parseStepFormula(request.formula),
        levels,
        references,
      );
      state.dispersion = {
        n,
        p: design.columns.length,
        genes: counts.length / n,
        design: design.matrix,
        sizeFactors,
        counts,
      };
      return dispersionMomentsLocalStep(state.dispersion, {
        kind: "dispersion-moments-request",
        candidateRows: request.candidateRows,
      }) as Out<K>;
    }
    case "dispersionResiduals": {
      const center = need(state.dispersion, data.name, step, "dispersion moments");
      return dispersionResidualsLocalStep(center, input as In<"dispersionResiduals">) as Out<K>;
    }
    case "dispersionMu": {
      const center = need(state.dispersion, data.name, step, "dispersion moments");
      const { link } = input as In<"dispersionMu">;
      if (link !== "log" && link !== "identity")
        throw new Error(`center ${data.name}: dispersionMu with unknown link ${link}`);
      return dispersionMuLocalStep(center, input as In<"dispersionMu">) as Out<K>;
    }
    case "dispersionGrid": {
      const center = need(state.dispersion, data.name, step, "dispersion moments");
      const request = input as In<"dispersionGrid">;
      if (request.designColumns !== center.p) {
        throw new Error(
          `center ${data.name}: dispersion request for ${request.designColumns} design columns, the center has ${center.p}`,
        );
      }
      const designRows = request.designRows.length > 0 ? request.designRows : null;
      return prepared.kernels.dispersionEval(center, { ...request, designRows }) as Out<K>;
    }
    case "cooksCellCounts": {
      const request = input as In<"cooksCellCounts">;
      const center = cooksCenter(data.name, prepared, request.p);
      return {
        kind: "cooks-cell-counts-share",
        counts: cellCountsLocalStep(center, request.rows),
      } as Out<K>;
    }
    case "cooksScreen": {
      const request = input as In<"cooksScreen">;
      const dataset = cooksDataset(data.name, prepared, request.p);
      if (request.dispersions.length !== dataset.data.genes) {
        throw new Error(
          `center ${data.name}: Cook's screen for ${request.dispersions.length} genes, the fit has ${dataset.data.genes}`,
        );
      }
      // cooksScreenLocalStep, on the kernels (the pool's threads when worth it).
      return prepared.kernels.cooksScreen(dataset, request) as Out<K>;
    }
    case "cooksPrivateTrim": {
      const request = input as In<"cooksPrivateTrim">;
      // privateTrimWireLocalStep, on the kernels (the pool's threads when worth it).
      return prepared.kernels.privateTrimCounts(
        cooksDataset(data.name, prepared, request.p),
        request,
        gridOf(request),
        request,
      ) as Out<K>;
    }
    case "cooksPrivateSums": {
      const request = privateSumFromWire(input as In<"cooksPrivateSums">);
      const dataset = cooksDataset(data.name, prepared, request.p);
      if (request.active.length !== dataset.data.genes) {
        throw new Error(
          `center ${data.name}: Cook's sums request for ${request.active.length} genes, the fit has ${dataset.data.genes}`,
        );
      }
      // privateSumLocalStep, on the kernels (the pool's threads when worth it).
      return prepared.kernels.privateSums(dataset, request) as Out<K>;
    }
    case "cooksPrivate": {
      const request = input as In<"cooksPrivate">;
      const center = cooksCenter(data.name, prepared, request.p);
      if (request.dispersions.length !== center.genes) {
        throw new Error(
          `center ${data.name}: Cook's request for ${request.dispersions.length} genes × ${request.p}, the fit has ${center.genes} × ${center.p}`,
        );
      }
      const { replaced, share } = privateCooksRoundLocal(center, request);
      // The replaced counts never leave: they are the refit's data (prepareRefit).
      state.replacedCounts = replaced;
      return share as Out<K>;
    }
    case "prepareRefit": {
      const request = input as In<"prepareRefit">;
      const main = prepared.get().main.data;
      // Whether or not it fits them on their original counts, a refit follows a replacement.
      const replaced = need(state.replacedCounts, data.name, step, "Cook's replacement");
      const genes = maskCount(request.refitGenes);
      if (request.refitGenes.length !== main.genes || request.dispersions.length !== genes) {
        throw new Error(
          `center ${data.name}: refit of ${genes} genes with ${request.dispersions.length} dispersions over ${request.refitGenes.length} fitted genes (the fit has ${main.genes})`,
        );
      }
      prepared.setRefit(
        refitData(
          prepared.get().main,
          prepareCenterData({
            n,
            p: main.p,
            genes,
            design: main.design,
            sizeFactors: main.sizeFactors,
            counts: countsWithReplacements(
              main.counts,
              n,
              request.originalCounts ? NOTHING_REPLACED : replaced,
              request.refitGenes,
            ),
            dispersions: request.dispersions,
          }),
          maskIndices(request.refitGenes),
        ),
      );
      return { kind: "prepare-refit-share", genes } as Out<K>;
    }
    case "deseq2Irls":
      return deseq2IrlsLocalStep(
        prepared.get(),
        input as In<"deseq2Irls">,
        prepared.kernels,
      ) as Out<K>;
    case "nllAtPoints":
      return nllAtPointsLocalStep(
        prepared.get(),
        input as In<"nllAtPoints">,
        prepared.kernels,
      ) as Out<K>;
    case "apeglm":
      return apeglmLocalStep(prepared.get(), input as In<"apeglm">) as Out<K>;
    case "information":
      // On the kernels: the pool's threads when worth it.
      return informationLocalStep(
        prepared.get(),
        input as In<"information">,
        prepared.kernels,
      ) as Out<K>;
    default:
      throw new Error(`center ${data.name}: unknown step ${String(step)}`);
  }
}
