/**
 * The registry of federated steps: the whitelist of computations a center runs on its data, each
 * declared once. A step maps a request (what the aggregator sends) to a reply (what the center
 * shares back); both are flat records (records.ts), so that every transport carries every step
 * without step-specific code, and the one validation below ({@link checkRequest},
 * {@link checkReply}) applies to all of them. No reply carries a per-sample value.
 *
 * Each step also declares how the aggregator combines each reply field over the centers (the
 * input of a secure-aggregation layer and of the privacy documentation), whether the step builds
 * the center's private state for the run (replayed to a restarted center), and in one line what
 * the center sends.
 */

import type { ApeglmRequest, ApeglmShare } from "../algorithms/apeglm/state.js";
import {
  type CooksScreenRequest,
  type CooksScreenShare,
  DEFAULT_PRIVATE_GRID,
  gridThresholdCount,
  type PrivateCooksRequest,
  type PrivateCooksRoundShare,
  type PrivateSumShare,
  type PrivateSumWire,
  type PrivateTrimShare,
  type PrivateTrimWire,
  SUM_SLOTS,
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
import type { InitLocalShare, InitRequest } from "../algorithms/init/state.js";
import type { IrlsReply, IrlsRequest } from "../algorithms/irls/state.js";
import { type GeneMask, maskCount } from "../algorithms/masks.js";
import {
  type NewtonReply,
  type NewtonRequest,
  newtonPointCount,
} from "../algorithms/newton/state.js";
import {
  PCA_BLOCK,
  PCA_TOP_GENES,
  type PcaCoordinatesRequest,
  type PcaCoordinatesShare,
  type PcaMomentsRequest,
  type PcaMomentsShare,
  type PcaProductRequest,
  type PcaProductShare,
} from "../algorithms/pca/state.js";
import type { PqnReply, PqnRequest } from "../algorithms/pqn/state.js";
import type {
  ContrastPresenceRequest,
  ContrastPresenceShare,
  LevelPresenceRequest,
  LevelPresenceShare,
} from "../algorithms/setup/contrastPresence.js";
import {
  type LevelsRequest,
  type LevelsShare,
  type PrepareRequest,
  type PrepareShare,
  type PresenceRequest,
  type PresenceShare,
  parseLevels,
} from "../algorithms/setup/state.js";
import { slopeFloor } from "../algorithms/sizeFactors/iterate.js";
import type {
  LogSumsRequest,
  LogSumsShare,
  SizeFactorCandidateRequest,
  SizeFactorCandidateShare,
  SizeFactorProblem,
  SizeFactorRootRequest,
  SizeFactorRootShare,
  SizeFactorScaleRequest,
  SizeFactorScaleShare,
  SizeFactorsRequest,
  SizeFactorsShare,
  UnitSizeFactorsRequest,
  UnitSizeFactorsShare,
} from "../algorithms/sizeFactors/state.js";
import type { NonZeroCellsRequest, NonZeroCellsShare } from "../algorithms/sparseGenes.js";
import {
  type VstMaximumRequest,
  type VstMaximumShare,
  type VstRequest,
  type VstShare,
  vstTrendOfRequest,
} from "../algorithms/vst.js";
import type { InformationRequest, InformationShare } from "../algorithms/wald/state.js";
import { MAX_FACTOR_CELLS } from "../design/factorCells.js";
import { triangleSize } from "../math/linalg.js";
import {
  checkRecord,
  type FlatRecord,
  type RecordSchema,
  RecordShapeError,
  recordSchema,
} from "./records.js";

/**
 * What the aggregator does with one reply field over the centers (as it does today):
 * - `sum`: adds the centers' values (elementwise for arrays), in federation order;
 * - `or`: combines the centers' masks bit by bit with OR;
 * - `max`: takes the elementwise maximum;
 * - `argmax`: takes the elementwise maximum and notes which center holds it;
 * - `union`: merges the centers' sets (factor levels, distinct design rows or cells); a value
 *   attached to an element (a cell's sample count) is summed per distinct element;
 * - `concat`: keeps each center's values, one after the other in federation order (e.g. its
 *   size factors, sent back to it later);
 * - `perCenter`: reads it from one center's reply only (the holder of an `argmax`);
 * - `same`: not combined: an echo of the request (round, points per gene) or a shape, which every
 *   center must send alike;
 * - `unused`: an acknowledgement the aggregator does not read.
 */
export type Reduction =
  | "sum"
  | "or"
  | "max"
  | "argmax"
  | "union"
  | "concat"
  | "perCenter"
  | "same"
  | "unused";

/** Names of a record's fields (its `kind` aside). */
type Fields<T extends FlatRecord> = Exclude<keyof T, "kind">;

/** One step's declaration. */
export interface StepSpec<In extends FlatRecord, Out extends FlatRecord> {
  /** What the aggregator sends. */
  readonly request: RecordSchema<In>;
  /** What a center answers. */
  readonly reply: RecordSchema<Out>;
  /** Lengths the reply's array fields must have, given the request (and the reply's scalars). */
  readonly replyLengths: (input: In, output: Out) => Partial<Record<Fields<Out>, number>>;
  /** How the aggregator combines each reply field over the centers. */
  readonly reductions: { readonly [F in Fields<Out>]-?: Reduction };
  /**
   * For every field reduced by "sum": the public bound on the magnitude of one center's value
   * (each element), from which secure aggregation derives the field's fixed-point scale
   * (`scaleExponentFor(bound, MAX_SECURE_CENTERS)`, secureAggregation/layer.ts). A protocol
   * constant, never computed from data; a center whose value exceeds it refuses the step
   * (naming the field) rather than wrap. See {@link BOUNDS} for the magnitudes assumed.
   */
  readonly bounds?: Partial<Record<Fields<Out>, number>>;
  /**
   * Request fields that legitimately differ between centers (e.g. each center's own size
   * factors): left out of the request digest that secure aggregation's masks are keyed by, so
   * that the masks of centers sent different values of these fields still cancel.
   */
  readonly perCenterRequest?: readonly Fields<In>[];
  /**
   * Summed fields that hold whole numbers (sample and row counts) besides those of kind
   * "counts": exact in one ring element, so secure aggregation sends them as one (and a center
   * refuses to send a fraction in one). Every other summed field travels as two ring elements,
   * so that its sum comes back exact (secureAggregation/layer.ts).
   */
  readonly wholeNumbers?: readonly Fields<Out>[];
  /**
   * The step builds or changes the center's private state for the run (its prepared fit, the
   * rows and counts of the run's genes, its size factors, its dispersion data and μ's
   * coefficients, its replaced counts, its refit dataset). Every other step only reads that
   * state. A center that restarts
   * loses it; replaying these steps' requests in their original order rebuilds it exactly (each
   * is a deterministic function of the center's data and the request).
   */
  readonly buildsState: boolean;
  /** What the center sends, in one line (for generated documentation). */
  readonly sends: string;
  /** Checks of a request beyond its fields' kinds (throw an Error saying what is wrong). */
  readonly checkRequest?: (input: In) => void;
  /** Checks of a reply beyond its fields' kinds and lengths (throw an Error saying why). */
  readonly checkReply?: (input: In, output: Out) => void;
}

function spec<In extends FlatRecord, Out extends FlatRecord>(
  s: StepSpec<In, Out>,
): StepSpec<In, Out> {
  return s;
}

/** Step "dispersionGrid" as sent: the request part of a dispersion search's state. */
export interface DispersionGridRequest extends DispersionEvalRequest {
  readonly kind: "dispersion-grid-request";
  /** Points per gene when genes differ in their number (pointsPerGene 0); empty otherwise. */
  readonly pointCounts: Float64Array;
  /** With derivatives, the points per gene that get them when not all do; empty otherwise. */
  readonly derivativeCounts: Float64Array;
  /** Design columns p (the shape of the reply's matrices). */
  readonly designColumns: number;
  /** The pooled design's distinct rows (D×p) when the centers sum by row; empty: upper triangles. */
  readonly designRows: Float64Array;
}

/**
 * Step "cooksCellCounts": the candidate design rows of the Cook's cells (every combination of the
 * factor levels, design/factorCells.ts), chosen by the aggregator: no center sends a row.
 */
export interface CooksCellCountsRequest {
  readonly kind: "cooks-cell-counts-request";
  /** Design columns. */
  readonly p: number;
  /** The candidate rows, D×p. */
  readonly rows: Float64Array;
}

/** How many of the center's samples have each candidate row (length D). */
export interface CooksCellCountsShare {
  readonly kind: "cooks-cell-counts-share";
  readonly counts: Float64Array;
}

/** Step "prepareRefit": set up the refit of the genes whose outliers were replaced. */
export interface PrepareRefitRequest {
  readonly kind: "prepare-refit-request";
  /** The genes to refit, over the fitted genes. */
  readonly refitGenes: GeneMask;
  /** Their dispersions, re-estimated on the replaced counts. */
  readonly dispersions: Float64Array;
  /**
   * Fit them on their original counts rather than the replaced ones: DESeq2's
   * lfcShrink(type = "normal") refits on counts(dds), which DESeq() restores to the original
   * counts, with the refit dispersions.
   */
  readonly originalCounts: boolean;
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
  /** The design rows the aggregator lists from the levels (D×p; empty: continuous covariate). */
  readonly candidateRows: Float64Array;
  /**
   * Empty for the first estimation; for the refit after Cook's replacement, the genes to refit
   * (over the fitted genes), whose replaced counts the center then uses.
   */
  readonly refitGenes: GeneMask;
}

/** Request and reply types of every step. */
export interface StepTypes {
  presence: { input: PresenceRequest; output: PresenceShare };
  nonZeroCells: { input: NonZeroCellsRequest; output: NonZeroCellsShare };
  contrastPresence: { input: ContrastPresenceRequest; output: ContrastPresenceShare };
  levelPresence: { input: LevelPresenceRequest; output: LevelPresenceShare };
  vst: { input: VstRequest; output: VstShare };
  vstMaximum: { input: VstMaximumRequest; output: VstMaximumShare };
  levels: { input: LevelsRequest; output: LevelsShare };
  prepare: { input: PrepareRequest; output: PrepareShare };
  init: { input: InitRequest; output: InitLocalShare };
  irls: { input: IrlsRequest; output: IrlsReply };
  pqn: { input: PqnRequest; output: PqnReply };
  newton: { input: NewtonRequest; output: NewtonReply };
  logSums: { input: LogSumsRequest; output: LogSumsShare };
  sizeFactors: { input: SizeFactorsRequest; output: SizeFactorsShare };
  sizeFactorScale: { input: SizeFactorScaleRequest; output: SizeFactorScaleShare };
  unitSizeFactors: { input: UnitSizeFactorsRequest; output: UnitSizeFactorsShare };
  sizeFactorRoot: { input: SizeFactorRootRequest; output: SizeFactorRootShare };
  sizeFactorCandidate: { input: SizeFactorCandidateRequest; output: SizeFactorCandidateShare };
  information: { input: InformationRequest; output: InformationShare };
  dispersionMoments: { input: DispersionSetupRequest; output: DispersionMomentsShare };
  dispersionResiduals: { input: DispersionResidualsRequest; output: DispersionResidualsShare };
  dispersionMu: { input: DispersionMuRequest; output: DispersionMuShare };
  dispersionGrid: { input: DispersionGridRequest; output: DispersionEvalShare };
  cooksCellCounts: { input: CooksCellCountsRequest; output: CooksCellCountsShare };
  cooksScreen: { input: CooksScreenRequest; output: CooksScreenShare };
  cooksPrivateTrim: { input: PrivateTrimWire; output: PrivateTrimShare };
  cooksPrivateSums: { input: PrivateSumWire; output: PrivateSumShare };
  cooksPrivate: { input: PrivateCooksRequest; output: PrivateCooksRoundShare };
  prepareRefit: { input: PrepareRefitRequest; output: PrepareRefitShare };
  deseq2Irls: { input: Deseq2IrlsRequest; output: Deseq2IrlsShare };
  nllAtPoints: { input: NllAtPointsRequest; output: NllAtPointsShare };
  apeglm: { input: ApeglmRequest; output: ApeglmShare };
  pcaMoments: { input: PcaMomentsRequest; output: PcaMomentsShare };
  pcaProduct: { input: PcaProductRequest; output: PcaProductShare };
  pcaCoordinates: { input: PcaCoordinatesRequest; output: PcaCoordinatesShare };
}

/** Name of a step. */
export type StepName = keyof StepTypes;
/** What the aggregator sends for step K. */
export type StepInput<K extends StepName> = StepTypes[K]["input"];
/** What a center answers for step K. */
export type StepOutput<K extends StepName> = StepTypes[K]["output"];

/** A p×p matrix's p from its p² entries (0 when the length is not a positive square). */
function squareSide(length: number): number {
  const p = Math.round(Math.sqrt(length));
  return p > 0 && p * p === length ? p : 0;
}

/** Genes set in the request's mask. */
function active(request: { readonly mask: GeneMask }): number {
  return maskCount(request.mask);
}

/** The request's round, echoed by the reply. */
function sameRound(input: { readonly round: number }, output: { readonly round: number }): void {
  if (output.round !== input.round)
    throw new Error(`reply for round ${output.round}, expected ${input.round}`);
}

/**
 * Public magnitude bounds of the summed reply fields (one center's value, per element), chosen
 * for real RNA-seq with room to spare: counts up to 1e7 per sample, size factors down to 1e-2
 * (normalised counts y/s up to 1e9), up to 1e4 samples per center, design values (covariates)
 * up to 1e2 in magnitude. Secure aggregation encodes each such field in fixed point with the
 * scale that its bound and at most {@link MAX_SECURE_CENTERS} centers allow (every value from
 * 2^(52−e) up is encoded exactly, smaller ones to within 2^−(e+1); see
 * secureAggregation/fixedPoint.ts); a center holding a larger value refuses the step, naming
 * the field.
 */
export const BOUNDS = {
  /** Numbers of samples, of replaced entries. */
  count: 1e9,
  /**
   * Values of one center in one bucket (at most its samples): small enough that secure
   * aggregation packs four to a ring element (32-bit lanes, 64 centers' sum below 2^32).
   */
  bucket: 1e7,
  /** Σ ln y, Σ 1/s, Xᵀ ln(y/s + 0.1): logarithms and reciprocals summed over samples. */
  logSum: 1e13,
  /**
   * Σ y/s, XᵀX, Xᵀ(y/s), trimmed-mean bracket sums: counts up to 1e9 over 1e4 samples, design
   * values up to 1e6 in magnitude (an age in days, a weight in grams, a sequencing depth in
   * millions of reads): Xᵀ(y/s) ≤ 1e6 · 1e9 · 1e4 = 1e19, XᵀX ≤ 1e12 · 1e4.
   */
  moment: 1e21,
  /** Negative log-likelihoods and their slopes over a center's samples (NLL sums ~1e11). */
  nll: 1e15,
  /**
   * XᵀWX, Fisher information, XᵀWz, gradients, the Cox–Reid sums and their slopes (W ≤ μ,
   * the slopes ∂W/∂α = −W²): with μ up to 1e8, design values up to 1e4 and 1e4 samples the
   * slopes reach 1e16 · 1e8 · 1e4 = 1e28; W·x² ≤ 1e9 · 1e12 · 1e4 = 1e25 for values up to 1e6.
   * 1e18 (covariates up to 1e2) made real designs fail: an age in days (7,000–30,000) with
   * genes of mean 1e5, or an age in years with one gene of mean 1.6e7, ended a default run
   * with exit 3 (`test/pipeline/run.covariate.test.ts`).
   */
  information: 1e30,
  /** Σ (y/s − mean)² and the rough moment residuals: squared normalised counts (≤ 1e22). */
  squares: 1e22,
} as const;

/** Most centers a securely aggregated federation may have (part of every field's scale). */
export const MAX_SECURE_CENTERS = 64;

/**
 * Why `centers` centers cannot run under secure aggregation (null when they can): the one
 * message the plan, the run's set-up and the aggregator give.
 */
export function secureCentersProblem(centers: number): string | null {
  if (centers < 2)
    return `${centers} center${centers === 1 ? "" : "s"}: secure aggregation needs at least 2 (it hides each center's sums among the others'); with one center's data run in clear (--no-secure-aggregation)`;
  return centers <= MAX_SECURE_CENTERS
    ? null
    : `${centers} centers: secure aggregation takes at most ${MAX_SECURE_CENTERS} (the fixed-point scales of its sums hold ${MAX_SECURE_CENTERS} centers' values); run in clear (--no-secure-aggregation: the aggregator then sees each center's sums) or split the federation`;
}

/**
 * A Cook's request's residual μ: the fit's (no coefficients), or the dispersion step's (a link
 * and p coefficients per gene).
 */
function checkResidualMu(
  step: string,
  input: {
    readonly residualLink: string;
    readonly residualBeta: Float64Array;
    readonly beta: Float64Array;
  },
): void {
  const link = input.residualLink;
  if (link !== "fit" && link !== "identity" && link !== "log")
    throw new Error(`${step}.residualLink: ${JSON.stringify(link)}, expected fit, identity or log`);
  const expected = link === "fit" ? 0 : input.beta.length;
  if (input.residualBeta.length !== expected)
    throw new Error(
      `${step}.residualBeta: ${input.residualBeta.length} coefficients, expected ${expected}`,
    );
}

/**
 * Checks of a private Cook's search request (counts or sums round): the protocol's public grid
 * (a center refuses a finer one, which would place single values more precisely), value kinds
 * and group masks sized for the cells.
 */
function checkPrivateSearch(input: PrivateTrimWire | PrivateSumWire): void {
  const grid = DEFAULT_PRIVATE_GRID;
  if (
    input.binsPerOctave !== grid.binsPerOctave ||
    input.minExponent !== grid.minExponent ||
    input.maxExponent !== grid.maxExponent
  ) {
    throw new Error(
      `grid of ${input.binsPerOctave} buckets per doubling from 2^${input.minExponent} to 2^${input.maxExponent} is not the protocol's`,
    );
  }
  const cells = input.cellRows.length / input.p;
  if (!Number.isInteger(cells) || !(Number.isInteger(input.groups) && input.groups >= 1))
    throw new Error("cell rows or groups malformed");
  if (input.groupCells.length !== input.groups * cells || input.groupValues.length !== input.groups)
    throw new Error("group masks not sized for the groups and cells");
  if (input.groupValues.some((v) => v > 2)) throw new Error("unknown value kind");
}

/**
 * A counts round's open targets (privateTrimmedMean.ts's `OpenTargets`): at most `targets` per
 * active gene and group, as many brackets as they add up to, each a range of two or more of the
 * grid's buckets.
 */
function checkOpenTargets(input: PrivateTrimWire): void {
  const pairs = maskCount(input.active) * input.groups;
  if (input.openTargets.length !== pairs)
    throw new Error(
      `cooksPrivateTrim.openTargets: ${input.openTargets.length} values, expected ${pairs}`,
    );
  let open = 0;
  for (const m of input.openTargets) {
    if (m > input.targets)
      throw new Error(`cooksPrivateTrim.openTargets: ${m} targets in a group of ${input.targets}`);
    open += m;
  }
  if (input.brackets.length !== open * 2)
    throw new Error(
      `cooksPrivateTrim.brackets: ${input.brackets.length} values, expected ${open * 2}`,
    );
  const top = gridThresholdCount(DEFAULT_PRIVATE_GRID) + 1;
  for (let t = 0; t < input.brackets.length; t += 2) {
    if (!(input.brackets[t] < input.brackets[t + 1] && input.brackets[t + 1] <= top))
      throw new Error(
        `cooksPrivateTrim.brackets: [${input.brackets[t]}, ${input.brackets[t + 1]}] is not a range of buckets 0 … ${top}`,
      );
  }
}

/**
 * The reply of a step whose center sends its sample count only (its work stays with it): not
 * read, but summed so that it travels masked like the rest.
 */
function sampleCountReply<Out extends FlatRecord & { readonly samples: number }>(
  kind: Out["kind"],
) {
  // Out's fields are its kind and samples only (each caller's type says so).
  return {
    reply: recordSchema<Out>(kind, { samples: "number" } as RecordSchema<Out>["fields"]),
    replyLengths: () => ({}),
    reductions: { samples: "sum" } as { readonly [F in Fields<Out>]-?: Reduction },
    bounds: { samples: BOUNDS.count } as Partial<Record<Fields<Out>, number>>,
    wholeNumbers: ["samples"] as Fields<Out>[],
  };
}

/** The fields of DESeq2's iterative size factors' problem (both of its steps send them). */
const SIZE_FACTOR_PROBLEM = {
  baseMean: "finite",
  dispersions: "f64",
  keep: "mask",
  minMu: "number",
  lambda: "number",
} as const;

/**
 * An iterative size-factor problem's shape: one baseMean, dispersion and bit per gene, positive
 * dispersions for the genes kept, and λ within the range where every sample's slope reaches it
 * (above −Σ_keep 1/α).
 */
function checkSizeFactorProblem(input: SizeFactorProblem): void {
  const genes = input.baseMean.length;
  if (input.dispersions.length !== genes || input.keep.length !== genes)
    throw new Error("size factor problem: baseMean, dispersions and keep differ in length");
  if (!(input.minMu > 0 && Number.isFinite(input.minMu)))
    throw new Error(`size factor problem: minMu ${input.minMu} is not positive`);
  for (let g = 0; g < genes; g++) {
    if (!input.keep[g]) continue;
    const alpha = input.dispersions[g];
    if (!(alpha > 0 && Number.isFinite(alpha) && input.baseMean[g] > 0))
      throw new Error(
        `size factor problem: gene ${g} is kept without a positive mean and dispersion`,
      );
  }
  const floor = slopeFloor(input);
  if (!(Number.isFinite(input.lambda) && input.lambda > floor))
    throw new Error(`size factor problem: λ ${input.lambda} is outside (${floor}, ∞)`);
}

/** Every step's declaration, in a fixed order (the order of {@link STEP_NAMES}). */
export const STEPS: {
  readonly [K in StepName]: StepSpec<StepTypes[K]["input"], StepTypes[K]["output"]>;
} = {
  presence: spec({
    request: recordSchema<PresenceRequest>("presence-request", { genes: "texts" }),
    reply: recordSchema<PresenceShare>("presence-share", { present: "mask" }),
    replyLengths: (input) => ({ present: input.genes.length }),
    reductions: { present: "or" },
    buildsState: false,
    sends: "one bit per requested gene: whether the center has a non-zero count for it",
  }),
  nonZeroCells: spec({
    request: recordSchema<NonZeroCellsRequest>("non-zero-cells-request", {
      genes: "texts",
      factors: "texts",
      cells: "texts",
    }),
    reply: recordSchema<NonZeroCellsShare>("non-zero-cells-share", { counts: "counts" }),
    replyLengths: (input) => ({ counts: input.genes.length * input.cells.length }),
    reductions: { counts: "sum" },
    bounds: { counts: BOUNDS.bucket },
    buildsState: false,
    sends:
      "per requested gene and design cell, how many of its samples have a non-zero count (asked only when the plan leaves sparse genes out)",
    checkRequest: (input) => {
      if (input.cells.length === 0 || input.cells.length > MAX_FACTOR_CELLS)
        throw new Error(
          `nonZeroCells: ${input.cells.length} cells, expected 1 to ${MAX_FACTOR_CELLS}`,
        );
    },
  }),
  contrastPresence: spec({
    request: recordSchema<ContrastPresenceRequest>("contrast-presence-request", {
      genes: "texts",
      factor: "text",
      levels: "texts",
      columns: "mask",
    }),
    reply: recordSchema<ContrastPresenceShare>("contrast-presence-share", { present: "mask" }),
    replyLengths: (input) => ({ present: input.genes.length }),
    reductions: { present: "or" },
    buildsState: false,
    sends:
      "one bit per requested gene: whether the center has a non-zero count among the samples the plan's contrast compares (its two levels', or for a numeric contrast those whose design row it weighs; DESeq2 reports a gene with none as a fold change of 0)",
    checkRequest: (input) => {
      const byLevels = input.factor !== "" && input.levels.length === 2;
      const byColumns = input.factor === "" && input.levels.length === 0;
      if (!(byLevels ? input.columns.length === 0 : byColumns && input.columns.length > 0))
        throw new Error(
          "contrastPresence: expected a factor and two levels, or design columns (a numeric contrast)",
        );
    },
  }),
  levelPresence: spec({
    request: recordSchema<LevelPresenceRequest>("level-presence-request", {
      genes: "texts",
      factor: "text",
      levels: "texts",
    }),
    reply: recordSchema<LevelPresenceShare>("level-presence-share", { present: "mask" }),
    replyLengths: (input) => ({ present: input.genes.length * input.levels.length }),
    reductions: { present: "or" },
    buildsState: false,
    sends:
      "per requested gene and level of one of the plan's factors, one bit: whether the center has a non-zero count among that level's samples (asked only when the plan keeps them for new contrasts, `level_presence`)",
    checkRequest: (input) => {
      if (input.factor === "" || input.levels.length < 2 || input.levels.length > MAX_FACTOR_CELLS)
        throw new Error(
          `levelPresence: expected a factor and its 2 to ${MAX_FACTOR_CELLS} levels, got ${input.levels.length}`,
        );
    },
  }),
  levels: spec({
    request: recordSchema<LevelsRequest>("levels-request", { formula: "text" }),
    reply: recordSchema<LevelsShare>("levels-share", { levels: "text" }),
    replyLengths: () => ({}),
    reductions: { levels: "union" },
    buildsState: false,
    sends: "the levels of the design's factors found in the center's samples",
    checkReply: (_, output) => {
      parseLevels(output.levels, "levels");
    },
  }),
  prepare: spec({
    request: recordSchema<PrepareRequest>("prepare-request", {
      formula: "text",
      levels: "text",
      references: "text",
      genes: "texts",
      dispersions: "finite",
      sizeFactors: "finite",
      minMu: "number",
      betaTol: "number",
      maxBeta: "number",
      irlsNumIter: "number",
      pqnC1: "number",
      pqnFtol: "number",
      pqnNumItersLs: "number",
      pqnNumIters: "number",
      pqnMinMu: "number",
    }),
    reply: recordSchema<PrepareShare>("prepare-share", {
      gram: "finite",
      samples: "number",
      normalizedSums: "finite",
    }),
    replyLengths: (input) => ({ normalizedSums: input.genes.length }),
    // The sample count is not read, but summed so that it travels masked like the rest.
    reductions: { gram: "sum", samples: "sum", normalizedSums: "sum" },
    bounds: { gram: BOUNDS.moment, samples: BOUNDS.count, normalizedSums: BOUNDS.moment },
    wholeNumbers: ["samples"],
    perCenterRequest: ["sizeFactors"],
    buildsState: true,
    sends:
      "its design's Gram matrix XᵀX (p×p), its sample count, and per fitted gene the sum of its normalised counts",
    checkRequest: (input) => {
      if (input.dispersions.some((d) => !(d > 0)))
        throw new Error("prepare.dispersions: not all positive");
      if (input.sizeFactors.some((s) => !(s > 0)))
        throw new Error("prepare.sizeFactors: not all positive");
      if (
        !(input.maxBeta > 0) ||
        !(input.pqnNumItersLs >= 1) ||
        !(input.minMu >= 0) ||
        !(input.pqnMinMu >= 0)
      ) {
        throw new Error("prepare: hyper-parameters out of range");
      }
    },
    checkReply: (_, output) => {
      if (squareSide(output.gram.length) === 0) throw new Error("gram: not a square matrix");
    },
  }),
  init: spec({
    request: recordSchema<InitRequest>("init-request", { refit: "boolean" }),
    reply: recordSchema<InitLocalShare>("init-share", { gram: "finite", logFeatures: "finite" }),
    replyLengths: () => ({}),
    reductions: { gram: "sum", logFeatures: "sum" },
    bounds: { gram: BOUNDS.moment, logFeatures: BOUNDS.logSum },
    buildsState: false,
    sends: "its Gram matrix XᵀX (p×p) and, per gene, Xᵀ ln(y/s + 0.1) (p values)",
    checkReply: (_, output) => {
      const p = squareSide(output.gram.length);
      if (p === 0) throw new Error("gram: not a square matrix");
      if (output.logFeatures.length % p !== 0)
        throw new Error("logFeatures: not genes × coefficients");
    },
  }),
  irls: spec({
    request: recordSchema<IrlsRequest>("irls-request", {
      round: "number",
      refit: "boolean",
      coefficients: "number",
      mask: "mask",
      beta: "f64",
    }),
    reply: recordSchema<IrlsReply>("irls-reply", {
      round: "number",
      nll: "f64",
      hatMatrix: "finite",
      features: "finite",
    }),
    replyLengths: (input) => {
      const a = active(input);
      const p = input.coefficients;
      return { nll: a, hatMatrix: a * triangleSize(p), features: a * p };
    },
    reductions: { round: "same", nll: "sum", hatMatrix: "sum", features: "sum" },
    bounds: { nll: BOUNDS.nll, hatMatrix: BOUNDS.information, features: BOUNDS.information },
    buildsState: false,
    sends:
      "per active gene its NLL, XᵀWX (packed upper triangle) and XᵀWz at the coefficients sent",
    checkReply: sameRound,
  }),
  pqn: spec({
    request: recordSchema<PqnRequest>("pqn-request", {
      round: "number",
      refit: "boolean",
      coefficients: "number",
      mask: "mask",
      beta: "finite",
      direction: "finite",
    }),
    reply: recordSchema<PqnReply>("pqn-reply", {
      round: "number",
      steps: "number",
      nll: "f64",
      gradient: "f64",
      fisher: "f64",
    }),
    replyLengths: (input, output) => {
      const sa = output.steps * active(input);
      const p = input.coefficients;
      return { nll: sa, gradient: sa * p, fisher: sa * triangleSize(p) };
    },
    reductions: { round: "same", steps: "same", nll: "sum", gradient: "sum", fisher: "sum" },
    bounds: { nll: BOUNDS.nll, gradient: BOUNDS.information, fisher: BOUNDS.information },
    buildsState: false,
    sends:
      "per active gene and line-search point its NLL, gradient and Fisher information (packed upper triangle)",
    checkReply: (input, output) => {
      sameRound(input, output);
      const ok = input.round === 0 ? output.steps === 1 : Number.isInteger(output.steps);
      if (!ok || !(output.steps >= 1))
        throw new Error(`reply with ${output.steps} steps at round ${input.round}`);
    },
  }),
  newton: spec({
    request: recordSchema<NewtonRequest>("newton-request", {
      round: "number",
      refit: "boolean",
      coefficients: "number",
      mask: "mask",
      beta: "finite",
      step: "finite",
      stepSizes: "finite",
    }),
    reply: recordSchema<NewtonReply>("newton-reply", {
      round: "number",
      points: "number",
      nll: "f64",
      residual: "f64",
      information: "f64",
    }),
    replyLengths: (input) => {
      const sa = newtonPointCount(input) * active(input);
      const p = input.coefficients;
      return { nll: sa, residual: sa * p, information: sa * triangleSize(p) };
    },
    reductions: { round: "same", points: "same", nll: "sum", residual: "sum", information: "sum" },
    bounds: { nll: BOUNDS.nll, residual: BOUNDS.information, information: BOUNDS.information },
    buildsState: false,
    sends:
      "per active gene and candidate point its NLL, IRLS residual and information (packed upper triangle)",
    checkRequest: (input) => {
      if (input.stepSizes.length === 0 || input.stepSizes.length > 64)
        throw new Error("newton.stepSizes: 1 to 64 values");
    },
    checkReply: (input, output) => {
      sameRound(input, output);
      if (output.points !== newtonPointCount(input))
        throw new Error(`reply with ${output.points} points, expected ${newtonPointCount(input)}`);
    },
  }),
  logSums: spec({
    request: recordSchema<LogSumsRequest>("log-sums-request", {
      genes: "texts",
      genesWithZeros: "boolean",
    }),
    reply: recordSchema<LogSumsShare>("log-sums-share", {
      logSums: "finite",
      hasZero: "mask",
      samples: "number",
    }),
    replyLengths: (input) => ({ logSums: input.genes.length, hasZero: input.genes.length }),
    reductions: { logSums: "sum", hasZero: "or", samples: "sum" },
    bounds: { logSums: BOUNDS.logSum, samples: BOUNDS.count },
    wholeNumbers: ["samples"],
    buildsState: true,
    sends:
      "per gene the sum of ln(count) over its samples with a count (0 for a gene it holds a zero of, unless poscounts needs it) and whether any count is zero; its sample count",
  }),
  sizeFactors: spec({
    request: recordSchema<SizeFactorsRequest>("size-factors-request", {
      logGeoMeans: "f64",
      stabilize: "boolean",
    }),
    reply: recordSchema<SizeFactorsShare>("size-factors-share", {
      samples: "number",
      logSizeFactorSum: "number",
    }),
    replyLengths: () => ({}),
    reductions: { samples: "sum", logSizeFactorSum: "sum" },
    // Σ ln s over ≤ 1e9 samples, each |ln s| ≤ 745.
    bounds: { samples: BOUNDS.count, logSizeFactorSum: BOUNDS.logSum },
    wholeNumbers: ["samples"],
    buildsState: true,
    sends:
      "its sample count, and with poscounts Σ ln s over its samples: its size factors (median of ratios to the pooled reference) stay at the center, which uses them in every later step",
  }),
  vst: spec({
    request: recordSchema<VstRequest>("vst-request", {
      fit: "text",
      asymptDisp: "number",
      extraPois: "number",
      meanDispersion: "number",
      knots: "finite",
      integral: "finite",
      eta: "number",
      xi: "number",
    }),
    ...sampleCountReply<VstShare>("vst-share"),
    buildsState: true,
    sends:
      "its sample count only: it transforms its own samples' counts with the trend sent (DESeq2's vst) and keeps them (`fedseq center --vst-out`); asked only when the plan asks for vst",
    checkRequest: (input) => {
      vstTrendOfRequest(input);
    },
  }),
  vstMaximum: spec({
    request: recordSchema<VstMaximumRequest>("vst-maximum-request", { threshold: "number" }),
    reply: recordSchema<VstMaximumShare>("vst-maximum-share", { above: "counts" }),
    replyLengths: () => ({ above: 1 }),
    reductions: { above: "sum" },
    bounds: { above: BOUNDS.count },
    buildsState: false,
    sends:
      "how many of its normalised counts are above the threshold sent (the bisection that finds the federation's largest normalised count, DESeq2's vst of a local trend); asked only under a plan with vst_max_count and verified requests",
    checkRequest: (input) => {
      if (!(input.threshold >= 0 && Number.isFinite(input.threshold)))
        throw new Error(`vstMaximum.threshold: ${input.threshold} is not a count`);
    },
  }),
  sizeFactorScale: spec({
    request: recordSchema<SizeFactorScaleRequest>("size-factor-scale-request", {
      logMean: "number",
    }),
    ...sampleCountReply<SizeFactorScaleShare>("size-factor-scale-share"),
    buildsState: true,
    sends:
      "its sample count only: it divides its own size factors by exp(the mean of ln s over all samples), DESeq2's poscounts stabilisation",
    checkRequest: (input) => {
      if (!Number.isFinite(input.logMean) || Math.abs(input.logMean) > 745)
        throw new Error(
          `sizeFactorScale.logMean: ${input.logMean} is not a mean of log size factors`,
        );
    },
  }),
  unitSizeFactors: spec({
    request: recordSchema<UnitSizeFactorsRequest>("unit-size-factors-request", { genes: "texts" }),
    ...sampleCountReply<UnitSizeFactorsShare>("unit-size-factors-share"),
    buildsState: true,
    sends:
      "its sample count only: it takes the run's genes and sets its size factors to 1, where DESeq2's iterative size factors start (asked only under a plan with size_factors_type iterate)",
  }),
  sizeFactorRoot: spec({
    request: recordSchema<SizeFactorRootRequest>("size-factor-root-request", {
      ...SIZE_FACTOR_PROBLEM,
    }),
    reply: recordSchema<SizeFactorRootShare>("size-factor-root-share", {
      logSum: "number",
      slope: "number",
      beyond: "counts",
    }),
    replyLengths: () => ({ beyond: 1 }),
    reductions: { logSum: "sum", slope: "sum", beyond: "sum" },
    // Σ ln s and Σ 1/h″ over its samples (|ln s| ≤ 200 per sample); a count of samples.
    bounds: { logSum: BOUNDS.logSum, slope: BOUNDS.logSum, beyond: BOUNDS.count },
    buildsState: false,
    sends:
      "Σ over its samples of the ln size factor at which the sample's log-likelihood slope is the λ sent and of that root's derivative in λ, and how many of its samples have no such root (DESeq2's iterative size factors, the aggregator's search of the common slope; under a plan with size_factors_type iterate and verified requests)",
    checkRequest: checkSizeFactorProblem,
  }),
  sizeFactorCandidate: spec({
    request: recordSchema<SizeFactorCandidateRequest>("size-factor-candidate-request", {
      ...SIZE_FACTOR_PROBLEM,
      shift: "number",
      atStart: "boolean",
      commit: "boolean",
    }),
    reply: recordSchema<SizeFactorCandidateShare>("size-factor-candidate-share", {
      geneLogLik: "finite",
      moved: "number",
    }),
    replyLengths: (input) => ({ geneLogLik: input.commit ? 0 : input.baseMean.length }),
    reductions: { geneLogLik: "sum", moved: "sum" },
    bounds: { geneLogLik: BOUNDS.nll, moved: BOUNDS.logSum },
    // A commit sets the center's size factors.
    buildsState: true,
    sends:
      "per gene Σ over its samples of the NB log-likelihood at the candidate size factors, and Σ (Δ ln s)² from the iteration's start; on commit nothing (it takes the candidate as its size factors); under a plan with size_factors_type iterate and verified requests",
    checkRequest: (input) => {
      checkSizeFactorProblem(input);
      if (input.atStart && input.commit)
        throw new Error("sizeFactorCandidate: the iteration's start is not a candidate to commit");
      if (!Number.isFinite(input.shift) || Math.abs(input.shift) > 200)
        throw new Error(`sizeFactorCandidate.shift: ${input.shift} is not a mean ln size factor`);
    },
  }),
  information: spec({
    request: recordSchema<InformationRequest>("information-request", {
      beta: "finite",
      coefficients: "number",
      refit: "boolean",
    }),
    reply: recordSchema<InformationShare>("information-share", { xtwx: "finite" }),
    replyLengths: (input) => {
      const p = input.coefficients;
      return { xtwx: ((input.beta.length / p) * (p * (p + 1))) / 2 };
    },
    reductions: { xtwx: "sum" },
    bounds: { xtwx: BOUNDS.information },
    buildsState: false,
    sends: "per gene XᵀWX at the final coefficients (packed upper triangle)",
  }),
  dispersionMoments: spec({
    request: recordSchema<DispersionSetupRequest>("dispersion-moments-request", {
      formula: "text",
      levels: "text",
      references: "text",
      refitGenes: "mask",
      candidateRows: "finite",
    }),
    reply: recordSchema<DispersionMomentsShare>("dispersion-moments-share", {
      samples: "number",
      inverseSizeFactorSum: "number",
      gram: "finite",
      rowCounts: "finite",
      normalizedSum: "finite",
      designTimesNormalized: "finite",
    }),
    replyLengths: () => ({}),
    reductions: {
      samples: "sum",
      inverseSizeFactorSum: "sum",
      gram: "sum",
      rowCounts: "sum",
      normalizedSum: "sum",
      designTimesNormalized: "sum",
    },
    bounds: {
      samples: BOUNDS.count,
      inverseSizeFactorSum: BOUNDS.logSum,
      gram: BOUNDS.moment,
      rowCounts: BOUNDS.count,
      normalizedSum: BOUNDS.moment,
      designTimesNormalized: BOUNDS.moment,
    },
    wholeNumbers: ["samples", "rowCounts"],
    buildsState: true,
    sends:
      "its sample count, Σ 1/s, XᵀX, per candidate design row (the level combinations the aggregator lists) its number of samples, and per gene Σ y/s and Xᵀ(y/s)",
  }),
  dispersionResiduals: spec({
    request: recordSchema<DispersionResidualsRequest>("dispersion-residuals-request", {
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
    reply: recordSchema<DispersionResidualsShare>("dispersion-residuals-share", {
      squaredDeviations: "finite",
      roughResiduals: "finite",
    }),
    replyLengths: (input) => ({
      squaredDeviations: input.baseMean.length,
      roughResiduals: input.baseMean.length,
    }),
    reductions: { squaredDeviations: "sum", roughResiduals: "sum" },
    bounds: { squaredDeviations: BOUNDS.squares, roughResiduals: BOUNDS.squares },
    // Sets the linear model's μ for group designs (`setLinearMu`).
    buildsState: true,
    sends: "per gene the sums of squared deviations and of rough moment residuals",
  }),
  dispersionMu: spec({
    request: recordSchema<DispersionMuRequest>("dispersion-mu-request", {
      mask: "mask",
      beta: "finite",
      link: "text",
      minMu: "number",
    }),
    reply: recordSchema<DispersionMuShare>("dispersion-mu-share", { genes: "number" }),
    replyLengths: () => ({}),
    reductions: { genes: "unused" },
    buildsState: true,
    sends: "how many genes' μ it set (μ stays at the center)",
  }),
  dispersionGrid: spec({
    request: recordSchema<DispersionGridRequest>("dispersion-grid-request", {
      round: "number",
      mask: "mask",
      points: "finite",
      pointsPerGene: "number",
      pointCounts: "counts",
      derivatives: "boolean",
      derivativeCounts: "counts",
      designColumns: "number",
      designRows: "finite",
    }),
    reply: recordSchema<DispersionEvalShare>("dispersion-eval-share", {
      round: "number",
      pointsPerGene: "number",
      // The log-likelihood and its slope are −∞ or NaN where μ overflows (a GLM's μ with a
      // coefficient at its bound times a large covariate); the weights are not: w = 1/(1/μ + α)
      // and its slope −w² stay finite for every μ in [minMu, +∞] and α = e^point > 0, so they
      // travel without a count of non-finite values beside them (7 % of a run's masked bytes),
      // and a center holding a non-finite weight refuses the step.
      logLikelihood: "f64",
      logLikelihoodSlope: "f64",
      gram: "finite",
      gramSlope: "finite",
    }),
    replyLengths: (input) => {
      const points = input.points.length;
      const p = input.designColumns;
      const q = input.designRows.length > 0 ? input.designRows.length / p : triangleSize(p);
      // Points with derivatives: every point, or each gene's first derivativeCounts.
      let slopes = points;
      if (input.derivativeCounts.length > 0) {
        slopes = 0;
        for (const d of input.derivativeCounts) slopes += d;
      }
      return {
        logLikelihood: points,
        logLikelihoodSlope: input.derivatives ? slopes : 0,
        gram: points * q,
        gramSlope: input.derivatives ? slopes * q : 0,
      };
    },
    reductions: {
      round: "same",
      pointsPerGene: "same",
      logLikelihood: "sum",
      logLikelihoodSlope: "sum",
      gram: "sum",
      gramSlope: "sum",
    },
    bounds: {
      logLikelihood: BOUNDS.nll,
      logLikelihoodSlope: BOUNDS.nll,
      gram: BOUNDS.information,
      gramSlope: BOUNDS.information,
    },
    buildsState: false,
    sends:
      "per gene and dispersion point (the line search's proposal, after rejected ones also up to 7 of the halvings DESeq2 would try next; the 20 points of DESeq2's coarse or fine grid) its log-likelihood and Xᵀ W X terms, and at the line search's points their slopes",
  }),
  cooksCellCounts: spec({
    request: recordSchema<CooksCellCountsRequest>("cooks-cell-counts-request", {
      p: "number",
      rows: "finite",
    }),
    reply: recordSchema<CooksCellCountsShare>("cooks-cell-counts-share", { counts: "counts" }),
    replyLengths: (input) => ({ counts: input.rows.length / input.p }),
    reductions: { counts: "sum" },
    bounds: { counts: BOUNDS.bucket },
    buildsState: false,
    sends:
      "per candidate design row (every combination of the factor levels, listed by the aggregator) how many of its samples have it",
    checkRequest: (input) => {
      if (!(Number.isInteger(input.p) && input.p >= 1) || input.rows.length % input.p !== 0)
        throw new Error(`cooksCellCounts: ${input.rows.length} values are not rows of ${input.p}`);
      if (input.rows.length / input.p > MAX_FACTOR_CELLS)
        throw new Error(`cooksCellCounts: more than ${MAX_FACTOR_CELLS} candidate rows`);
    },
  }),
  cooksScreen: spec({
    request: recordSchema<CooksScreenRequest>("cooks-screen-request", {
      p: "number",
      beta: "finite",
      dispersions: "finite",
      hatInverse: "finite",
      residualLink: "text",
      residualBeta: "finite",
      cutoff: "number",
    }),
    reply: recordSchema<CooksScreenShare>("cooks-screen-share", { aboveAtFloor: "counts" }),
    replyLengths: (input) => ({ aboveAtFloor: input.dispersions.length }),
    reductions: { aboveAtFloor: "sum" },
    bounds: { aboveAtFloor: BOUNDS.bucket },
    buildsState: false,
    sends:
      "per gene how many of its samples have a Cook's distance above the cutoff (or NaN) at the robust dispersion's floor 0.04, where the distances are largest: the genes with none at any center have no outlier and are left out of the trimmed-mean searches",
    checkRequest: (input) => {
      const { p } = input;
      const genes = input.dispersions.length;
      if (!(Number.isInteger(p) && p >= 1))
        throw new Error(`cooksScreen.p: ${p}, expected a column count`);
      if (input.beta.length !== genes * p || input.hatInverse.length !== genes * p * p)
        throw new Error(`cooksScreen: β or (XᵀWX + Λ)⁻¹ not sized for ${genes} genes × ${p}`);
      checkResidualMu("cooksScreen", input);
      if (!(input.cutoff >= 0))
        throw new Error(`cooksScreen.cutoff: ${input.cutoff}, expected ≥ 0`);
    },
  }),
  cooksPrivateTrim: spec({
    request: recordSchema<PrivateTrimWire>("cooks-private-trim-request", {
      p: "number",
      cellRows: "finite",
      groups: "number",
      groupCells: "u8",
      groupValues: "u8",
      cuts: "number",
      binsPerOctave: "number",
      minExponent: "number",
      maxExponent: "number",
      targets: "number",
      active: "mask",
      centres: "f64",
      openTargets: "counts",
      brackets: "counts",
    }),
    reply: recordSchema<PrivateTrimShare>("cooks-private-trim-share", { counts: "counts" }),
    replyLengths: (input) => ({ counts: (input.brackets.length / 2) * (input.cuts + 1) }),
    reductions: { counts: "sum" },
    bounds: { counts: BOUNDS.bucket },
    buildsState: false,
    sends:
      "per active gene, trimmed-mean group and bracket of public grid buckets still searched (once, however many of the group's target ranks it holds), how many of its values fall in each of the bracket's sub-ranges (counts only)",
    checkRequest: (input) => {
      checkPrivateSearch(input);
      if (!(Number.isInteger(input.cuts) && input.cuts >= 1 && input.cuts <= 64))
        throw new Error(`cooksPrivateTrim.cuts: ${input.cuts}, expected 1 to 64`);
      if (!(Number.isInteger(input.targets) && input.targets >= 2 && input.targets <= 64))
        throw new Error(`cooksPrivateTrim.targets: ${input.targets}, expected 2 to 64`);
      checkOpenTargets(input);
    },
  }),
  cooksPrivateSums: spec({
    request: recordSchema<PrivateSumWire>("cooks-private-sum-request", {
      p: "number",
      cellRows: "finite",
      groups: "number",
      groupCells: "u8",
      groupValues: "u8",
      binsPerOctave: "number",
      minExponent: "number",
      maxExponent: "number",
      active: "mask",
      boundaries: "counts",
      atomSlots: "u8",
      centres: "f64",
    }),
    reply: recordSchema<PrivateSumShare>("cooks-private-sum-share", { sums: "finite" }),
    replyLengths: (input) => ({ sums: maskCount(input.active) * input.groups * SUM_SLOTS }),
    reductions: { sums: "sum" },
    // Σ y/s (≤ 1e9 · 1e4) or Σ (y/s − c)² (≤ 1e18 · 1e4) over a center's samples.
    bounds: { sums: BOUNDS.squares },
    buildsState: false,
    sends:
      "per active gene, trimmed-mean group and slot, the sum of its values in a range of grid buckets the aggregator found to hold ≥ 3 pooled non-zero values",
    checkRequest: (input) => {
      checkPrivateSearch(input);
      const genes = maskCount(input.active);
      if (input.boundaries.length !== genes * input.groups * 4)
        throw new Error(`cooksPrivateSums.boundaries: ${input.boundaries.length} values`);
      if (input.atomSlots.length !== genes * input.groups * 5)
        throw new Error(`cooksPrivateSums.atomSlots: ${input.atomSlots.length} values`);
      if (input.atomSlots.some((slot) => slot > SUM_SLOTS))
        throw new Error(`cooksPrivateSums.atomSlots: a slot beyond ${SUM_SLOTS}`);
    },
  }),
  cooksPrivate: spec({
    request: recordSchema<PrivateCooksRequest>("cooks-private-request", {
      p: "number",
      cellRows: "finite",
      forMaxCooks: "u8",
      replaceable: "u8",
      sets: "u8",
      beta: "finite",
      dispersions: "finite",
      robustDispersions: "f64",
      hatInverse: "finite",
      residualLink: "text",
      residualBeta: "finite",
      cutoff: "number",
      filterCutoff: "number",
      trimmedBaseMean: "f64",
      thirdBucket: "f64",
    }),
    reply: recordSchema<PrivateCooksRoundShare>("cooks-private-round-share", {
      aboveEligible: "counts",
      nanEligible: "counts",
      aboveKept: "counts",
      nanKept: "counts",
      aboveAll: "counts",
      aboveAllFilter: "counts",
      aboveLowCount: "counts",
      aboveHighCount: "counts",
      replacedEntries: "counts",
      replacedNormalizedSum: "finite",
    }),
    replyLengths: (input) => {
      const genes = input.dispersions.length;
      return {
        aboveEligible: genes,
        nanEligible: genes,
        aboveKept: genes,
        nanKept: genes,
        aboveAll: genes,
        aboveAllFilter: genes,
        aboveLowCount: genes,
        aboveHighCount: genes,
        replacedEntries: genes,
        replacedNormalizedSum: genes,
      };
    },
    reductions: {
      aboveEligible: "sum",
      nanEligible: "sum",
      aboveKept: "sum",
      nanKept: "sum",
      aboveAll: "sum",
      aboveAllFilter: "sum",
      aboveLowCount: "sum",
      aboveHighCount: "sum",
      replacedEntries: "sum",
      replacedNormalizedSum: "sum",
    },
    bounds: {
      aboveEligible: BOUNDS.bucket,
      nanEligible: BOUNDS.bucket,
      aboveKept: BOUNDS.bucket,
      nanKept: BOUNDS.bucket,
      aboveAll: BOUNDS.bucket,
      aboveAllFilter: BOUNDS.bucket,
      aboveLowCount: BOUNDS.bucket,
      aboveHighCount: BOUNDS.bucket,
      replacedEntries: BOUNDS.bucket,
      replacedNormalizedSum: BOUNDS.moment,
    },
    // The replaced counts (the refit's data) stay at the center.
    buildsState: true,
    sends:
      "per gene how many of its samples have a Cook's distance above the cutoff (or NaN) in each sample set DESeq2 takes a maximum over (and, for results()' two-level rule, by their count against a grid bucket), how many counts it replaced and its Σ y/s after replacement",
    checkRequest: (input) => {
      const cells = input.cellRows.length / input.p;
      if (!Number.isInteger(cells) || input.forMaxCooks.length !== cells)
        throw new Error("cooksPrivate: cell masks not sized for the cells");
      if (input.replaceable.length !== cells || input.sets.length !== 3)
        throw new Error("cooksPrivate: cell masks or sample sets mis-sized");
      if (input.thirdBucket.length !== 2 * input.dispersions.length)
        throw new Error("cooksPrivate.thirdBucket: not two bounds per gene");
      checkResidualMu("cooksPrivate", input);
    },
  }),
  prepareRefit: spec({
    request: recordSchema<PrepareRefitRequest>("prepare-refit-request", {
      refitGenes: "mask",
      dispersions: "finite",
      originalCounts: "boolean",
    }),
    reply: recordSchema<PrepareRefitShare>("prepare-refit-share", { genes: "number" }),
    replyLengths: () => ({}),
    reductions: { genes: "unused" },
    buildsState: true,
    sends: "how many genes it prepared for the refit (the replaced counts stay at the center)",
  }),
  deseq2Irls: spec({
    request: recordSchema<Deseq2IrlsRequest>("deseq2-irls-request", {
      refit: "boolean",
      coefficients: "number",
      mask: "mask",
      beta: "finite",
    }),
    reply: recordSchema<Deseq2IrlsShare>("deseq2-irls-share", {
      nll: "f64",
      xtwx: "finite",
      xtwz: "finite",
    }),
    replyLengths: (input) => {
      const p = input.coefficients;
      const genes = input.beta.length / p;
      return { nll: genes, xtwx: genes * triangleSize(p), xtwz: genes * p };
    },
    reductions: { nll: "sum", xtwx: "sum", xtwz: "sum" },
    bounds: { nll: BOUNDS.nll, xtwx: BOUNDS.information, xtwz: BOUNDS.information },
    buildsState: false,
    sends: "per active gene its NLL, XᵀWX (packed upper triangle) and XᵀWz (DESeq2's IRLS)",
  }),
  nllAtPoints: spec({
    request: recordSchema<NllAtPointsRequest>("nll-at-points-request", {
      refit: "boolean",
      coefficients: "number",
      mask: "mask",
      pointsPerGene: "number",
      points: "finite",
    }),
    reply: recordSchema<NllAtPointsShare>("nll-at-points-share", { nll: "f64" }),
    replyLengths: (input) => ({ nll: input.points.length / input.coefficients }),
    reductions: { nll: "sum" },
    bounds: { nll: BOUNDS.nll },
    buildsState: false,
    sends: "per gene and point its NLL (L-BFGS-B's objective)",
  }),
  apeglm: spec({
    request: recordSchema<ApeglmRequest>("apeglm-request", {
      coefficients: "number",
      mask: "mask",
      beta: "finite",
      curvature: "boolean",
    }),
    reply: recordSchema<ApeglmShare>("apeglm-share", {
      nll: "f64",
      score: "finite",
      information: "finite",
    }),
    replyLengths: (input) => {
      const p = input.coefficients;
      const genes = input.beta.length / p;
      return {
        nll: genes,
        score: genes * p,
        information: input.curvature ? genes * triangleSize(p) : 0,
      };
    },
    reductions: { nll: "sum", score: "sum", information: "sum" },
    bounds: { nll: BOUNDS.nll, score: BOUNDS.information, information: BOUNDS.information },
    buildsState: false,
    sends:
      "per gene apeglm's NLL and its gradient at the requested coefficients (original counts, final dispersions); once, at the MAP estimates, the observed information (packed upper triangle)",
  }),
  pcaMoments: spec({
    request: recordSchema<PcaMomentsRequest>("pca-moments-request", { genes: "number" }),
    reply: recordSchema<PcaMomentsShare>("pca-moments-share", {
      samples: "number",
      sum: "finite",
      sumSquares: "finite",
      nonZero: "counts",
    }),
    replyLengths: (input) => ({
      sum: input.genes,
      sumSquares: input.genes,
      nonZero: input.genes,
    }),
    reductions: { samples: "sum", sum: "sum", sumSquares: "sum", nonZero: "sum" },
    // Variance-stabilised counts are logarithms (|v| < 100): Σ v, Σ v² and the PCA's products
    // over 1e4 samples stay far below the moments' bound.
    bounds: {
      samples: BOUNDS.count,
      sum: BOUNDS.moment,
      sumSquares: BOUNDS.moment,
      nonZero: BOUNDS.count,
    },
    wholeNumbers: ["samples"],
    buildsState: false,
    sends:
      "its sample count, and per gene Σ v and Σ v² of its samples' variance-stabilised counts v (the PCA's gene variances) and how many of its samples have a count; asked only under a plan with vst and verified requests",
  }),
  pcaProduct: spec({
    request: recordSchema<PcaProductRequest>("pca-product-request", {
      genes: "mask",
      mean: "finite",
      columns: "number",
      basis: "finite",
    }),
    reply: recordSchema<PcaProductShare>("pca-product-share", { product: "finite" }),
    replyLengths: (input) => ({ product: input.basis.length }),
    reductions: { product: "sum" },
    checkRequest: (input) => {
      const genes = maskCount(input.genes);
      if (genes > PCA_TOP_GENES || input.columns > PCA_BLOCK)
        throw new Error(
          `pcaProduct: ${genes} genes × ${input.columns} columns, more than the PCA's ${PCA_TOP_GENES} × ${PCA_BLOCK}`,
        );
    },
    bounds: { product: BOUNDS.moment },
    buildsState: false,
    sends:
      "Σ (v − m)(v − m)ᵀW over its samples on the PCA's genes (at most 500), for the basis W sent (at most 32 columns): the subspace iteration's product; asked only under a plan with vst and verified requests",
  }),
  pcaCoordinates: spec({
    request: recordSchema<PcaCoordinatesRequest>("pca-coordinates-request", {
      genes: "mask",
      mean: "finite",
      axes: "finite",
      send: "boolean",
    }),
    reply: recordSchema<PcaCoordinatesShare>("pca-coordinates-share", { coordinates: "finite" }),
    replyLengths: (input) => (input.send ? {} : { coordinates: 0 }),
    reductions: { coordinates: "concat" },
    buildsState: true,
    sends:
      "nothing by default: it keeps its samples' PC1 and PC2 coordinates (`fedseq center --pca-out`); under a plan with pca_coordinates, those coordinates (two numbers per sample)",
  }),
};

/** The steps, in a fixed order. */
export const STEP_NAMES: readonly StepName[] = Object.keys(STEPS) as StepName[];

/** The steps that build or change a center's private state ({@link StepSpec.buildsState}). */
export const STATE_STEPS: ReadonlySet<StepName> = new Set<StepName>(
  STEP_NAMES.filter((step) => STEPS[step].buildsState),
);

/** True for the names of registered steps. */
export function isStep(step: string): step is StepName {
  return Object.hasOwn(STEPS, step);
}

// biome-ignore lint/suspicious/noExplicitAny: one step's spec, its types erased
type AnySpec = StepSpec<any, any>;

function specOf(step: string): AnySpec {
  if (!isStep(step)) throw new RecordShapeError(`unknown step ${step}`);
  return STEPS[step] as AnySpec;
}

/**
 * Validate a request as a center receives it: its fields against the step's schema, then the
 * step's own checks. The one validation of requests, whatever the transport.
 * @throws RecordShapeError saying what is wrong
 */
export function checkRequest<K extends StepName>(step: K, input: unknown): StepInput<K> {
  const s = specOf(step);
  checkRecord(s.request, input, step);
  try {
    s.checkRequest?.(input);
  } catch (error) {
    throw new RecordShapeError((error as Error).message);
  }
  return input as StepInput<K>;
}

/**
 * Validate a center's reply to `input` as the aggregator receives it: its fields against the
 * step's schema, the lengths the request implies, then the step's own checks. The one validation
 * of replies, whatever the transport.
 * @throws RecordShapeError saying what is wrong
 */
export function checkReply<K extends StepName>(
  step: K,
  input: StepInput<K>,
  output: unknown,
): StepOutput<K> {
  const s = specOf(step);
  checkRecord(s.reply, output, step);
  const lengths: Record<string, number | undefined> = s.replyLengths(input, output);
  for (const [field, length] of Object.entries(lengths)) {
    const value = (output as Record<string, { length: number }>)[field];
    if (length !== undefined && value.length !== length)
      throw new RecordShapeError(`${step}.${field}: ${value.length} values, expected ${length}`);
  }
  try {
    s.checkReply?.(input, output);
  } catch (error) {
    throw new RecordShapeError(`${step}: ${(error as Error).message}`);
  }
  return output as StepOutput<K>;
}
