/**
 * The kernels a center's heavy local steps call (the NB fits' IRLS, PQN and `fast` solver, the
 * `deseq2` solver's likelihoods for L-BFGS-B, the dispersion searches' evaluations, the Wald
 * step's XᵀWX, the Cook's screening and the counts and sums of Cook's private trimmed means),
 * behind one interface: run directly on this thread ({@link directKernels}), or split by genes over a
 * pool of worker threads (`src/compute/genePool.ts`). Every kernel computes each gene
 * independently of the others, so any split gives the same doubles.
 */
import {
  type Box,
  type FisherGradientNll,
  type IrlsSummands,
  nbFisherGradientNllAtSteps,
  nbIrlsSummandsAndNll,
  nbNllAtPoints,
  nbScoreAndInformation,
  type ScoreAndInformation,
} from "../math/negativeBinomial.js";
import type { CenterFitData, FitCenter } from "./center.js";
import {
  type CooksScreenRequest,
  type CooksScreenShare,
  cooksScreenLocalStep,
} from "./cooks/privateCooks.js";
import {
  type OpenTargets,
  type PrivateGrid,
  type PrivateSumRequest,
  type PrivateSumShare,
  type PrivateTrimShare,
  privateSumLocalStep,
  type TrimCountsFields,
  trimCountsLocal,
} from "./cooks/privateTrimmedMean.js";
import type { DispersionCenter } from "./dispersions/center.js";
import { dispersionEvalLocalStep } from "./dispersions/logPosterior.js";
import type { DispersionEvalRequest, DispersionEvalShare } from "./dispersions/state.js";
import { datasetInformation } from "./wald/local.js";

/** The kernels of the local steps, on one dataset of a center (arguments as the math kernels'). */
export interface LocalKernels {
  /** {@link nbIrlsSummandsAndNll} on `dataset`. */
  irlsSummandsAndNll(
    dataset: CenterFitData,
    genes: Int32Array,
    beta: Float64Array,
    minMu: number,
  ): IrlsSummands;
  /** {@link nbFisherGradientNllAtSteps} on `dataset`. */
  fisherGradientNllAtSteps(
    dataset: CenterFitData,
    genes: Int32Array,
    beta: Float64Array,
    direction: Float64Array | null,
    steps: Float64Array | null,
    box: Box,
    minMu: number,
  ): FisherGradientNll;
  /** {@link nbScoreAndInformation} on `dataset`. */
  scoreAndInformation(
    dataset: CenterFitData,
    genes: Int32Array,
    points: Float64Array,
    count: number,
    minMu: number,
  ): ScoreAndInformation;
  /**
   * {@link nbNllAtPoints} on `dataset`: the unfloored NB NLL of each of `genes` at its `count`
   * points (gene-major, log2-scale coefficients), as R's `optim` objective.
   */
  nllAtPoints(
    dataset: CenterFitData,
    genes: Int32Array,
    points: Float64Array,
    count: number,
  ): Float64Array;
  /** {@link datasetInformation}: XᵀWX (upper triangles) of every gene of `dataset` at `beta`. */
  information(dataset: CenterFitData, beta: Float64Array): Float64Array;
  /** {@link cooksScreenLocalStep} on `dataset`'s genes. */
  cooksScreen(dataset: CenterFitData, request: CooksScreenRequest): CooksScreenShare;
  /** {@link dispersionEvalLocalStep} on a center's dispersion data (its μ set). */
  dispersionEval(center: DispersionCenter, request: DispersionEvalRequest): DispersionEvalShare;
  /**
   * {@link trimCountsLocal} on a prepared fit's samples: a counts round of Cook's private
   * trimmed means.
   */
  privateTrimCounts(
    dataset: CenterFitData,
    request: TrimCountsFields,
    grid: PrivateGrid,
    open: OpenTargets,
  ): PrivateTrimShare;
  /**
   * {@link privateSumLocalStep} on a prepared fit's samples: the sums round of Cook's private
   * trimmed means.
   */
  privateSums(dataset: CenterFitData, request: PrivateSumRequest): PrivateSumShare;
  /**
   * Hand a freshly prepared center to the kernels (e.g. move its arrays to memory the pool's
   * threads share); the center to keep using instead. Optional: the identity when absent.
   */
  adopt?(center: FitCenter): FitCenter;
  /**
   * A center of `genes` × `samples` counts will ask for steps: start now what they need (a
   * pool's workers, when its steps on such a center are split), so that it is ready by the
   * first of them. Optional: nothing to start when absent.
   */
  expectCenter?(genes: number, samples: number): void;
}

/** The kernels run on the calling thread. */
export const directKernels: LocalKernels = {
  irlsSummandsAndNll: (dataset, genes, beta, minMu) =>
    nbIrlsSummandsAndNll(dataset.data, dataset.constants, genes, beta, minMu),
  fisherGradientNllAtSteps: (dataset, genes, beta, direction, steps, box, minMu) =>
    nbFisherGradientNllAtSteps(
      dataset.data,
      dataset.constants,
      genes,
      beta,
      direction,
      steps,
      box,
      minMu,
    ),
  scoreAndInformation: (dataset, genes, points, count, minMu) =>
    nbScoreAndInformation(dataset.data, dataset.constants, genes, points, count, minMu),
  nllAtPoints: (dataset, genes, points, count) =>
    nbNllAtPoints(dataset.data, dataset.constants, genes, points, count),
  information: datasetInformation,
  cooksScreen: (dataset, request) => cooksScreenLocalStep(dataset.data, request),
  dispersionEval: dispersionEvalLocalStep,
  privateTrimCounts: (dataset, request, grid, open) =>
    trimCountsLocal(dataset.data, request, grid, open),
  privateSums: (dataset, request) => privateSumLocalStep(dataset.data, request),
};
