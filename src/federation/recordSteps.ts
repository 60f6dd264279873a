/**
 * The steps whose input and output are flat records, with their declarations: what the
 * aggregator sends, what a center answers, and the lengths a reply must have.
 */

import type {
  CellsShare,
  CooksRequest,
  CooksShare,
  ReplaceShare,
  TrimRequest,
  TrimShare,
} from "../algorithms/cooks/index.js";
import type {
  Deseq2IrlsRequest,
  Deseq2IrlsShare,
  NllAtPointsRequest,
  NllAtPointsShare,
} from "../algorithms/deseq2/state.js";
import type {
  DispersionEvalRequest,
  DispersionEvalShare,
  DispersionMomentsShare,
  DispersionMuRequest,
  DispersionMuShare,
  DispersionResidualsRequest,
  DispersionResidualsShare,
} from "../algorithms/dispersions/state.js";
import type { GeneMask } from "../algorithms/masks.js";
import type {
  LogSumsRequest,
  LogSumsShare,
  SizeFactorsRequest,
  SizeFactorsShare,
} from "../algorithms/sizeFactors/state.js";
import type { InformationRequest, InformationShare } from "../algorithms/wald/state.js";
import { type FlatRecord, type RecordSchema, recordSchema } from "./records.js";

/** A record step's declaration. */
export interface RecordStepSpec<In extends FlatRecord, Out extends FlatRecord> {
  readonly input: RecordSchema<In>;
  readonly output: RecordSchema<Out>;
  /** Lengths the reply's array fields must have, given the request. */
  readonly replyLengths: (input: In) => Partial<Record<Exclude<keyof Out, "kind">, number>>;
}

function spec<In extends FlatRecord, Out extends FlatRecord>(
  s: RecordStepSpec<In, Out>,
): RecordStepSpec<In, Out> {
  return s;
}

/** Input and output types of the record steps. */
export interface RecordStepTypes {
  logSums: { input: LogSumsRequest; output: LogSumsShare };
  sizeFactors: { input: SizeFactorsRequest; output: SizeFactorsShare };
  information: { input: InformationRequest; output: InformationShare };
  dispersionMoments: { input: DispersionSetupRequest; output: DispersionMomentsShare };
  dispersionResiduals: { input: DispersionResidualsRequest; output: DispersionResidualsShare };
  dispersionMu: { input: DispersionMuRequest; output: DispersionMuShare };
  dispersionGrid: { input: DispersionGridRequest; output: DispersionEvalShare };
  cooksCells: { input: CooksCellsRequest; output: CellsShare };
  cooksTrim: { input: TrimRequest; output: TrimShare };
  cooks: { input: CooksRequest; output: CooksRoundShare };
  prepareRefit: { input: PrepareRefitRequest; output: PrepareRefitShare };
  deseq2Irls: { input: Deseq2IrlsRequest; output: Deseq2IrlsShare };
  nllAtPoints: { input: NllAtPointsRequest; output: NllAtPointsShare };
}

/** Step "dispersionGrid" as sent: the request part of a dispersion search's state. */
export interface DispersionGridRequest extends DispersionEvalRequest {
  readonly kind: "dispersion-grid-request";
  /** Design columns p (the shape of the reply's matrices). */
  readonly designColumns: number;
  /** The pooled design's distinct rows (D×p) when the centers sum by row; empty: upper triangles. */
  readonly designRows: Float64Array;
}

/** Step "cooksCells": the center's distinct design rows (the cells) and their sizes. */
export interface CooksCellsRequest {
  readonly kind: "cooks-cells-request";
}

/**
 * What a center shares from the Cook's round: its per-gene maxima and flags, and how many of its
 * counts it replaced (the replaced counts stay with it for the refit).
 */
export interface CooksRoundShare extends Omit<CooksShare, "kind">, Omit<ReplaceShare, "kind"> {
  readonly kind: "cooks-round-share";
}

/** Step "prepareRefit": set up the refit of the genes whose outliers were replaced. */
export interface PrepareRefitRequest {
  readonly kind: "prepare-refit-request";
  /** The genes to refit, over the fitted genes. */
  readonly refitGenes: GeneMask;
  /** Their dispersions, re-estimated on the replaced counts. */
  readonly dispersions: Float64Array;
}

/** Acknowledgement of "prepareRefit" (nothing leaves the center). */
export interface PrepareRefitShare {
  readonly kind: "prepare-refit-share";
  readonly genes: number;
}

/**
 * Step "dispersionMoments" as sent: the design (formula, levels merged over the centers, reference
 * levels as JSON objects) from which the center builds its design matrix for the dispersion steps.
 */
export interface DispersionSetupRequest {
  readonly kind: "dispersion-moments-request";
  readonly formula: string;
  /** `DesignLevels` (design/designMatrix.ts) as JSON. */
  readonly levels: string;
  /** `References` (design/designMatrix.ts) as JSON. */
  readonly references: string;
  /**
   * Empty for the first estimation; for the refit after Cook's replacement, the genes to refit
   * (over the fitted genes), whose replaced counts the center then uses.
   */
  readonly refitGenes: GeneMask;
}

/** Name of a record step. */
export type RecordStepName = keyof RecordStepTypes;

/** Every record step's declaration. */
export const RECORD_STEPS: {
  readonly [K in RecordStepName]: RecordStepSpec<
    RecordStepTypes[K]["input"],
    RecordStepTypes[K]["output"]
  >;
} = {
  logSums: spec({
    input: recordSchema<LogSumsRequest>("log-sums-request", { genes: "texts" }),
    output: recordSchema<LogSumsShare>("log-sums-share", {
      logSums: "finite",
      hasZero: "mask",
      samples: "number",
    }),
    replyLengths: (input) => ({ logSums: input.genes.length, hasZero: input.genes.length }),
  }),
  sizeFactors: spec({
    input: recordSchema<SizeFactorsRequest>("size-factors-request", { logGeoMeans: "f64" }),
    output: recordSchema<SizeFactorsShare>("size-factors-share", { sizeFactors: "finite" }),
    replyLengths: () => ({}),
  }),
  information: spec({
    input: recordSchema<InformationRequest>("information-request", {
      beta: "finite",
      coefficients: "number",
      refit: "boolean",
    }),
    output: recordSchema<InformationShare>("information-share", { xtwx: "finite" }),
    replyLengths: (input) => {
      const p = input.coefficients;
      return { xtwx: ((input.beta.length / p) * (p * (p + 1))) / 2 };
    },
  }),
  dispersionMoments: spec({
    input: recordSchema<DispersionSetupRequest>("dispersion-moments-request", {
      formula: "text",
      levels: "text",
      references: "text",
      refitGenes: "mask",
    }),
    output: recordSchema<DispersionMomentsShare>("dispersion-moments-share", {
      samples: "number",
      inverseSizeFactorSum: "number",
      gram: "finite",
      designRows: "finite",
      normalizedSum: "finite",
      designTimesNormalized: "finite",
    }),
    replyLengths: () => ({}),
  }),
  dispersionResiduals: spec({
    input: recordSchema<DispersionResidualsRequest>("dispersion-residuals-request", {
      mask: "mask",
      baseMean: "finite",
      linearBeta: "finite",
      setLinearMu: "boolean",
      minMu: "number",
      samples: "number",
      meanInverseSizeFactor: "number",
      linearMu: "boolean",
      designColumns: "number",
      designRows: "finite",
    }),
    output: recordSchema<DispersionResidualsShare>("dispersion-residuals-share", {
      squaredDeviations: "finite",
      roughResiduals: "finite",
    }),
    replyLengths: (input) => ({
      squaredDeviations: input.baseMean.length,
      roughResiduals: input.baseMean.length,
    }),
  }),
  dispersionMu: spec({
    input: recordSchema<DispersionMuRequest>("dispersion-mu-request", {
      mask: "mask",
      beta: "finite",
      link: "text",
      minMu: "number",
    }),
    output: recordSchema<DispersionMuShare>("dispersion-mu-share", { genes: "number" }),
    replyLengths: () => ({}),
  }),
  dispersionGrid: spec({
    input: recordSchema<DispersionGridRequest>("dispersion-grid-request", {
      round: "number",
      mask: "mask",
      points: "finite",
      pointsPerGene: "number",
      derivatives: "boolean",
      designColumns: "number",
      designRows: "finite",
    }),
    output: recordSchema<DispersionEvalShare>("dispersion-eval-share", {
      round: "number",
      pointsPerGene: "number",
      logLikelihood: "f64",
      logLikelihoodSlope: "f64",
      gram: "f64",
      gramSlope: "f64",
    }),
    replyLengths: (input) => {
      const points = input.points.length;
      const p = input.designColumns;
      const q = input.designRows.length > 0 ? input.designRows.length / p : (p * (p + 1)) / 2;
      return {
        logLikelihood: points,
        logLikelihoodSlope: input.derivatives ? points : 0,
        gram: points * q,
        gramSlope: input.derivatives ? points * q : 0,
      };
    },
  }),
  cooksCells: spec({
    input: recordSchema<CooksCellsRequest>("cooks-cells-request", {}),
    output: recordSchema<CellsShare>("cooks-cells-share", {
      p: "number",
      rows: "finite",
      sizes: "finite",
    }),
    replyLengths: () => ({}),
  }),
  cooksTrim: spec({
    input: recordSchema<TrimRequest>("cooks-trim-request", {
      p: "number",
      cellRows: "finite",
      groups: "number",
      groupCells: "u8",
      groupValues: "u8",
      thresholds: "number",
      active: "mask",
      brackets: "f64",
      centres: "f64",
    }),
    output: recordSchema<TrimShare>("cooks-trim-share", {
      bucketCounts: "counts",
      bracketSums: "f64",
      middleSums: "f64",
    }),
    replyLengths: (input) => {
      const genes = input.brackets.length / (input.groups * 6); // the active genes
      return {
        bucketCounts: genes * input.groups * 2 * (input.thresholds + 1),
        bracketSums: genes * input.groups * 2,
        middleSums: genes * input.groups,
      };
    },
  }),
  cooks: spec({
    input: recordSchema<CooksRequest>("cooks-request", {
      p: "number",
      cellRows: "finite",
      forMaxCooks: "u8",
      replaceable: "u8",
      beta: "finite",
      dispersions: "finite",
      robustDispersions: "f64",
      hatInverse: "finite",
      cutoff: "number",
      trimmedBaseMean: "f64",
      thirdLargestCount: "f64",
    }),
    output: recordSchema<CooksRoundShare>("cooks-round-share", {
      maxCooks: "f64",
      maxCooksKept: "f64",
      maxCooksAll: "f64",
      outlier: "mask",
      argmaxBelowThird: "mask",
      replacedEntries: "finite",
      replacedNormalizedSum: "finite",
    }),
    replyLengths: (input) => {
      const genes = input.dispersions.length;
      return {
        maxCooks: genes,
        maxCooksKept: genes,
        maxCooksAll: genes,
        outlier: genes,
        argmaxBelowThird: genes,
        replacedEntries: genes,
        replacedNormalizedSum: genes,
      };
    },
  }),
  prepareRefit: spec({
    input: recordSchema<PrepareRefitRequest>("prepare-refit-request", {
      refitGenes: "mask",
      dispersions: "finite",
    }),
    output: recordSchema<PrepareRefitShare>("prepare-refit-share", { genes: "number" }),
    replyLengths: () => ({}),
  }),
  deseq2Irls: spec({
    input: recordSchema<Deseq2IrlsRequest>("deseq2-irls-request", {
      refit: "boolean",
      coefficients: "number",
      mask: "mask",
      beta: "finite",
    }),
    output: recordSchema<Deseq2IrlsShare>("deseq2-irls-share", {
      nll: "f64",
      xtwx: "finite",
      xtwz: "finite",
    }),
    replyLengths: (input) => {
      const p = input.coefficients;
      const genes = input.beta.length / p;
      return { nll: genes, xtwx: (genes * p * (p + 1)) / 2, xtwz: genes * p };
    },
  }),
  nllAtPoints: spec({
    input: recordSchema<NllAtPointsRequest>("nll-at-points-request", {
      refit: "boolean",
      coefficients: "number",
      mask: "mask",
      pointsPerGene: "number",
      points: "finite",
    }),
    output: recordSchema<NllAtPointsShare>("nll-at-points-share", { nll: "f64" }),
    replyLengths: (input) => ({ nll: input.points.length / input.coefficients }),
  }),
};

/** True for the names of record steps. */
export function isRecordStep(step: string): step is RecordStepName {
  return Object.hasOwn(RECORD_STEPS, step);
}
