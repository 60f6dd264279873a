/**
 * What a center that accepted an analysis plan (plan.ts) answers: only requests made under that
 * plan, for the plan's design, in the protocol's order. A request outside the plan is refused
 * with its reason (and the center logs it) before anything is computed:
 *
 * - a request must carry the plan's hash (the aggregator cannot run another analysis, or none);
 * - the design a request names (`levels`, `prepare`, `dispersionMoments`) must be the plan's:
 *   formula, levels, reference levels, and the fit's options in `prepare` (no metadata column
 *   outside the design is ever read, and the fit runs with the options the centers approved);
 * - a step that sets the run up answers one request per run (two for the steps that run again
 *   for the refit after Cook's replacement): the aggregator cannot repeat it with new inputs,
 *   e.g. new size factors or a narrower gene set, and difference the answers;
 * - the same tag always carries the same request (a repeat is answered from cache, a changed
 *   one refused);
 * - gene sets only narrow: the genes of `prepare` are among those of the run's first gene list;
 * - the fit's steps are the plan's solver's (no `irls`/`pqn` but under `upstream`, no `newton`
 *   but under `fast`).
 *
 * Iterative steps (IRLS, line searches, grids) take new inputs every round by design; what they
 * reveal is bounded by the k-sample rule on what is summed, not by this policy.
 */
import type { CenterData } from "../algorithms/centerData.js";
import type { FitHyperparameters } from "../algorithms/hyperparameters.js";
import { ITERATE_MAX_ITERATIONS } from "../algorithms/sizeFactors/iterate.js";
import { InputError, listForMessage, PrivateDataError, quote } from "../core/errors.js";
import { designColumns, localLevels } from "../design/designMatrix.js";
import { allCellKeys, factorCellRows } from "../design/factorCells.js";
import { INTERCEPT_ONLY, parseFormula, parseStepFormula } from "../design/formula.js";
import { defaultLevelsContrast } from "../results/contrast.js";
import { planFactors } from "./cellRule.js";
import { type AnalysisPlan, canonicalJson, planHash } from "./plan.js";
import type { FlatRecord } from "./records.js";
import type { StepInput, StepName } from "./registry.js";
import { requestDigest } from "./requestDigest.js";
import { FixedPointError } from "./secureAggregation/errors.js";
import type { RequestTag } from "./steps.js";

/** A request the center's plan does not allow. */
export class PlanRefusal extends Error {
  readonly center: string;
  readonly step: StepName;
  readonly reason: string;
  constructor(center: string, step: StepName, reason: string) {
    super(`center ${center}: refusing ${step}: ${reason}`);
    this.name = "PlanRefusal";
    this.center = center;
    this.step = step;
    this.reason = reason;
  }
}

/**
 * How many different requests of each step one run may make (null: one per round, the
 * iterative steps; "per factor": one per factor of the plan). Declared for every step: a new
 * step cannot be added without a rule.
 */
export const REQUESTS_PER_RUN: { readonly [K in StepName]: number | null | "per factor" } = {
  presence: 1,
  // Only under a plan that leaves sparse genes out, right after presence.
  nonZeroCells: 1,
  // Only under a plan whose contrast is factor,level,reference: DESeq2's contrastAllZero.
  contrastPresence: 1,
  // Only under a plan that asks for DESeq2's vst, once the trend is fitted.
  vst: 1,
  // Only under a plan that keeps them (level_presence): one request per factor of the plan, for
  // exactly its levels.
  levelPresence: "per factor",
  // Under a plan the levels are the plan's: no run asks which levels a center holds.
  levels: 0,
  logSums: 1,
  sizeFactors: 1,
  // DESeq2's poscounts: the stabilisation to a geometric mean of 1.
  sizeFactorScale: 1,
  // Only under a plan with size_factors_type iterate and verified requests: the start (s = 1),
  // then per iteration the common slope's search and the candidates' evaluations and commit.
  unitSizeFactors: 1,
  sizeFactorRoot: null,
  sizeFactorCandidate: null,
  // For a design that is not a group design, DESeq2's dispersion estimation takes μ from a
  // GLM fit with rough dispersions: a first fit (prepare, init …) before the final one.
  prepare: 2,
  // Those two fits, then both again for the refit of the genes whose outliers were replaced.
  init: 4,
  information: 2,
  dispersionMoments: 2,
  dispersionResiduals: 2,
  dispersionMu: 2,
  cooksCellCounts: 1,
  // Which genes the trimmed-mean searches need (the final fit's; never again for the refit).
  cooksScreen: 1,
  // The robust dispersion's two trimmed-mean passes each end with one sums round.
  cooksPrivateSums: 2,
  // Cook's distances, then (a single two-level factor with flagged genes) results()' rule.
  cooksPrivate: 2,
  // The refit's GLM fit for μ (designs that are not group designs), then its final fit (and,
  // under a plan with the normal lfcShrink, SHRINK_REQUESTS').
  prepareRefit: 2,
  irls: null,
  pqn: null,
  newton: null,
  deseq2Irls: null,
  nllAtPoints: null,
  // Only under a plan that asks for apeglm's shrinkage: one evaluation per optimiser round.
  apeglm: null,
  // Only under a plan with vst_max_count: the bisection for the largest normalised count (a
  // local trend's vst), one threshold per round, at most 63 (under verified requests).
  vstMaximum: 63,
  // Only under a plan that asks for vst, with verified requests: the gene variances, the subspace
  // iteration's products (one basis per round), the samples' coordinates (sent only under
  // pca_coordinates).
  pcaMoments: 1,
  pcaProduct: null,
  pcaCoordinates: 1,
  dispersionGrid: null,
  cooksPrivateTrim: null,
};

/**
 * The counted steps DESeq2's iterative size factors ask again in each of their (at most
 * {@link ITERATE_MAX_ITERATIONS}) iterations: the intercept-only dispersions' set-up at the
 * iteration's size factors.
 */
const ITERATE_STEPS: ReadonlySet<StepName> = new Set<StepName>([
  "dispersionMoments",
  "dispersionResiduals",
]);

/** Steps of the iterative size factors only. */
const ITERATE_ONLY: ReadonlySet<StepName> = new Set<StepName>([
  "unitSizeFactors",
  "sizeFactorRoot",
  "sizeFactorCandidate",
]);

/** Steps of the median-of-ratios size factors only (ratio, poscounts). */
const RATIO_ONLY: ReadonlySet<StepName> = new Set<StepName>([
  "logSums",
  "sizeFactors",
  "sizeFactorScale",
]);

/**
 * The counted steps the normal lfcShrink asks with new inputs (the plan's `lfc_shrink`), and how
 * many more times: its MAP fit's covariance at the MAP estimates, on the centers' main and refit
 * datasets (two), and the refit dataset made again of the refitted genes' original counts (one).
 * (Its start repeats the MLE fit's `init` requests, which are counted once.)
 */
const SHRINK_REQUESTS: ReadonlyMap<StepName, number> = new Map<StepName, number>([
  ["information", 2],
  ["prepareRefit", 1],
]);

function sameJson(text: string, expected: unknown): boolean {
  try {
    return canonicalJson(JSON.parse(text)) === canonicalJson(expected);
  } catch {
    return false;
  }
}

/** The design fields a request carries, if any. */
function designOf(
  step: StepName,
  input: FlatRecord,
): { formula: string; levels?: string; references?: string } | null {
  if (step === "levels") return { formula: (input as StepInput<"levels">).formula };
  if (step === "prepare" || step === "dispersionMoments") {
    const r = input as StepInput<"prepare"> | StepInput<"dispersionMoments">;
    return { formula: r.formula, levels: r.levels, references: r.references };
  }
  return null;
}

/**
 * The design rows a request carries for a center to group its samples by (per-row sums, counts
 * or cells): the field's name, the rows and their length p; null for other steps.
 */
function designRowsOf(
  step: StepName,
  input: FlatRecord,
): { readonly field: string; readonly rows: Float64Array; readonly p: number } | null {
  switch (step) {
    case "dispersionResiduals":
    case "dispersionGrid": {
      const r = input as unknown as StepInput<"dispersionResiduals" | "dispersionGrid">;
      return { field: "designRows", rows: r.designRows, p: r.designColumns };
    }
    case "cooksCellCounts": {
      const r = input as unknown as StepInput<"cooksCellCounts">;
      return { field: "rows", rows: r.rows, p: r.p };
    }
    case "cooksPrivateTrim":
    case "cooksPrivateSums":
    case "cooksPrivate": {
      const r = input as unknown as StepInput<
        "cooksPrivateTrim" | "cooksPrivateSums" | "cooksPrivate"
      >;
      return { field: "cellRows", rows: r.cellRows, p: r.p };
    }
    default:
      return null;
  }
}

/** A design row as a key (String of a double reads back as the same double; −0 as 0). */
function rowKey(rows: Float64Array, at: number, p: number): string {
  let key = "";
  for (let k = 0; k < p; k++) key += `${k === 0 ? "" : ","}${rows[at + k]}`;
  return key;
}

/** A center's enforcement of its plan over one run. */
export class RequestPolicy {
  readonly plan: AnalysisPlan;
  /** The plan's hash, as requests must carry it. */
  readonly hash: string;
  readonly #center: string;
  #runId: string | null = null;
  /** Digest of the request answered under each tag. */
  readonly #byTag = new Map<string, string>();
  /** Digests of the different requests of each step in this run. */
  readonly #byStep = new Map<StepName, Set<string>>();
  #firstGenes: ReadonlySet<string> | null = null;
  /** Digest of the levelPresence request answered for each factor in this run. */
  readonly #levelPresence = new Map<string, string>();
  /** The plan's design rows by row length ({@link #planRows}). */
  readonly #rowsByLength = new Map<number, ReadonlySet<string>>();

  constructor(plan: AnalysisPlan, center: string) {
    this.plan = plan;
    this.hash = planHash(plan);
    this.#center = center;
  }

  /**
   * Refuse a request not made under this plan: the first rule {@link admit} checks, and the
   * first a center verifying requests checks, before its replay (whose refusal would otherwise
   * speak of inputs other than its replay's when the aggregator runs another plan).
   * @throws PlanRefusal naming both plans
   */
  checkPlan(tag: RequestTag, step: StepName): void {
    if (tag.plan === this.hash) return;
    throw new PlanRefusal(
      this.#center,
      step,
      tag.plan === undefined
        ? "the request carries no analysis plan; this center runs only its approved plan"
        : `the request is made under plan ${tag.plan.slice(0, 12)}…, this center approved ${this.hash.slice(0, 12)}…`,
    );
  }

  /**
   * Admit a request, or refuse it.
   * @returns the request's digest (requestDigest.ts, per-center fields included)
   * @throws PlanRefusal saying which rule the request breaks
   */
  admit<K extends StepName>(tag: RequestTag, step: K, input: StepInput<K>): string {
    const refuse = (reason: string): never => {
      throw new PlanRefusal(this.#center, step, reason);
    };
    this.checkPlan(tag, step);
    if (this.#runId !== tag.runId) {
      // A new run under the same plan starts afresh (a resumed run keeps its id).
      this.#runId = tag.runId;
      this.#byTag.clear();
      this.#byStep.clear();
      this.#levelPresence.clear();
      this.#firstGenes = null;
    }
    const record = input as unknown as FlatRecord;
    this.#checkDesign(step, record, refuse);
    const digest = requestDigest(tag, step, input, { perCenterFields: true });
    if (step === "levelPresence") {
      // Once per factor: a factor asked again must be asked the same.
      const { factor } = input as unknown as StepInput<"levelPresence">;
      const before = this.#levelPresence.get(factor);
      if (before !== undefined && before !== digest)
        refuse(`${factor}: its levels' presence was already asked with other inputs`);
      this.#levelPresence.set(factor, digest);
    }
    const tagKey = `${tag.phase}\u0000${tag.round}\u0000${step}`;
    const before = this.#byTag.get(tagKey);
    if (before !== undefined && before !== digest)
      refuse(`${tag.phase} round ${tag.round} was already answered for another request`);
    const seen = this.#byStep.get(step) ?? new Set<string>();
    const rule: number | null | "per factor" = REQUESTS_PER_RUN[step];
    const limit =
      rule === "per factor"
        ? Object.keys(this.plan.levels).length
        : rule === null
          ? null
          : rule +
            (this.plan.lfcShrink === "normal" ? (SHRINK_REQUESTS.get(step) ?? 0) : 0) +
            (this.plan.sizeFactorsType === "iterate" && ITERATE_STEPS.has(step)
              ? ITERATE_MAX_ITERATIONS
              : 0);
    if (limit !== null && !seen.has(digest) && seen.size >= limit) {
      refuse(
        limit === 0
          ? "under a plan the protocol never asks it (the plan gives it)"
          : `the protocol asks it ${limit === 1 ? "once" : `${limit} times`} per run; this would be a new request with other inputs`,
      );
    }
    this.#checkGenes(step, record, refuse);
    seen.add(digest);
    this.#byStep.set(step, seen);
    this.#byTag.set(tagKey, digest);
    return digest;
  }

  /**
   * The design rows a request may group this center's samples by: the plan's cells (one row per
   * combination of its factors' levels; none when the design has a continuous covariate, whose
   * values are not enumerable and never leave the center), and the intercept-only design's one
   * row (the whole center), by row length.
   */
  #planRows(p: number): ReadonlySet<string> {
    const rows = this.#rowsByLength.get(p);
    if (rows !== undefined) return rows;
    const formula = parseFormula(this.plan.design);
    const { levels, references } = this.plan;
    const columns = designColumns(formula, levels, references);
    const made = new Set<string>();
    const cells =
      p === columns.length ? factorCellRows(formula, levels, references, columns) : null;
    if (cells !== null) for (let at = 0; at < cells.length; at += p) made.add(rowKey(cells, at, p));
    if (p === 1) made.add("1");
    this.#rowsByLength.set(p, made);
    return made;
  }

  /**
   * Refuse design rows that are not the plan's cells: grouped by finer rows (e.g. one per value of
   * a continuous covariate), a center's per-row sums would be over fewer samples than its cells
   * hold, below the k-sample rule the plan's cell sizes were checked against.
   */
  #checkRows(step: StepName, input: FlatRecord, refuse: (reason: string) => never): void {
    if (step === "dispersionMoments") {
      // Exactly the level combinations of the request's design (already checked to be the
      // plan's, or the intercept-only design's): none with a continuous covariate.
      const r = input as unknown as StepInput<"dispersionMoments">;
      const formula = parseStepFormula(r.formula);
      let expected: Float64Array | null = null;
      try {
        const levels = JSON.parse(r.levels);
        const references = JSON.parse(r.references);
        expected = factorCellRows(
          formula,
          levels,
          references,
          designColumns(formula, levels, references),
        );
      } catch {
        refuse("its design's levels cannot be read");
      }
      const wanted = expected ?? new Float64Array(0);
      if (
        r.candidateRows.length !== wanted.length ||
        r.candidateRows.some((x, k) => x !== wanted[k])
      )
        refuse(
          "candidateRows: not the combinations of the design's factor levels (the only rows this center counts its samples by)",
        );
      return;
    }
    const carried = designRowsOf(step, input);
    if (carried === null || carried.rows.length === 0) return;
    const { field, rows, p } = carried;
    if (!(Number.isInteger(p) && p >= 1) || rows.length % p !== 0)
      refuse(`${field}: ${rows.length} values are not rows of ${p}`);
    const allowed = this.#planRows(p);
    for (let at = 0; at < rows.length; at += p) {
      if (allowed.has(rowKey(rows, at, p))) continue;
      refuse(
        `${field}: row ${at / p + 1} (${rowKey(rows, at, p)}) is not one of the plan's design cells (the combinations of its factors' levels; none with a continuous covariate): sums over finer rows would be over fewer samples than its cells`,
      );
    }
  }

  #checkDesign(step: StepName, input: FlatRecord, refuse: (reason: string) => never): void {
    this.#checkRows(step, input, refuse);
    if (step === "nonZeroCells") {
      const request = input as unknown as StepInput<"nonZeroCells">;
      if (!this.plan.omitSparseGenes) refuse("the plan does not leave sparse genes out");
      const factors = planFactors(this.plan);
      if (canonicalJson(request.factors) !== canonicalJson(factors))
        refuse(
          `factors ${JSON.stringify(request.factors)} are not the plan's ${JSON.stringify(factors)}`,
        );
      if (canonicalJson(request.cells) !== canonicalJson(allCellKeys(factors, this.plan.levels)))
        refuse("the cells are not the plan's level combinations");
    }
    const iterate = this.plan.sizeFactorsType === "iterate";
    if (ITERATE_ONLY.has(step)) {
      if (!iterate) refuse("the plan's size factors are not DESeq2's iterative ones");
      // Without the replay, the slopes and gene sets would be the aggregator's to choose.
      if (!this.plan.verifyRequests)
        refuse(
          "the iterative size factors are answered only under verified requests (the plan's verify_requests)",
        );
    }
    if (RATIO_ONLY.has(step) && iterate)
      refuse("the plan's size factors are DESeq2's iterative ones, not the median of ratios");
    // The fit runs with the plan's solver: upstream's IRLS and PQN steps, or the fast solver's
    // Newton steps, only under a plan that names that solver (`deseq2Irls` and `nllAtPoints` are
    // every solver's: the fast solver's hand-over, lfcShrink's MAP fit and the LRT use them).
    if ((step === "irls" || step === "pqn") && this.plan.solver !== "upstream")
      refuse(`the plan's solver is ${this.plan.solver}, not upstream (its IRLS and PQN steps)`);
    if (step === "newton" && this.plan.solver !== "fast")
      refuse(`the plan's solver is ${this.plan.solver}, not fast (its Newton steps)`);
    if (step === "apeglm" && this.plan.lfcShrink !== "apeglm")
      refuse("the plan does not ask for apeglm's shrunk fold changes (lfc_shrink)");
    if (step === "vst" && !this.plan.vst)
      refuse("the plan does not ask for the variance-stabilising transformation");
    if (step === "vstMaximum" && !(this.plan.vst && this.plan.vstMaxCount))
      refuse(
        "the plan does not let the federation's largest normalised count be found (vst_max_count)",
      );
    // Without the replay, the thresholds would be the aggregator's to choose (any order statistic).
    if (step === "vstMaximum" && !this.plan.verifyRequests)
      refuse("the bisection is answered only under verified requests (the plan's verify_requests)");
    if (step === "pcaMoments" || step === "pcaProduct" || step === "pcaCoordinates") {
      if (!this.plan.vst)
        refuse(
          "the plan does not ask for the variance-stabilising transformation (the PCA's data)",
        );
      // Without the replay, the genes, bases and axes would be the aggregator's to choose.
      if (!this.plan.verifyRequests)
        refuse("the PCA is answered only under verified requests (the plan's verify_requests)");
    }
    if (
      step === "pcaCoordinates" &&
      (input as unknown as StepInput<"pcaCoordinates">).send &&
      !this.plan.pcaCoordinates
    )
      refuse(
        "the plan does not let the samples' PCA coordinates leave the center (pca_coordinates)",
      );
    if (step === "levelPresence") {
      const request = input as unknown as StepInput<"levelPresence">;
      if (!this.plan.levelPresence)
        refuse("the plan does not keep per-level presence for new contrasts (level_presence)");
      const levels = this.plan.levels[request.factor];
      if (levels === undefined || canonicalJson(request.levels) !== canonicalJson(levels))
        refuse(`${request.factor}: not one of the plan's factors with its levels`);
    }
    if (step === "contrastPresence") {
      const request = input as unknown as StepInput<"contrastPresence">;
      const contrast = this.plan.contrast;
      // The default contrast of a design without an intercept compares two levels too.
      const formula = parseFormula(this.plan.design);
      const { levels, references } = this.plan;
      const implicit =
        contrast === null
          ? defaultLevelsContrast(formula, levels, designColumns(formula, levels, references))
          : undefined;
      const parts =
        typeof contrast === "string"
          ? contrast.split(",")
          : implicit?.kind === "levels"
            ? [implicit.factor, implicit.level, implicit.reference]
            : [];
      const weights = contrast !== null && typeof contrast === "object" && "vector" in contrast;
      const planned =
        parts.length === 3
          ? request.factor === parts[0] &&
            canonicalJson(request.levels) === canonicalJson([parts[1], parts[2]]) &&
            request.columns.length === 0
          : weights &&
            contrast.vector.some((w) => w > 0) &&
            contrast.vector.some((w) => w < 0) &&
            request.factor === "" &&
            canonicalJson(Array.from(request.columns)) ===
              canonicalJson(contrast.vector.map((w) => (w === 0 ? 0 : 1)));
      if (!planned)
        refuse(
          `the plan's contrast is ${this.plan.contrast === null ? "the default" : JSON.stringify(this.plan.contrast)}, not ${request.factor === "" ? `columns ${Array.from(request.columns).join(",")}` : `${request.factor},${request.levels.join(",")}`}`,
        );
    }
    if (step === "logSums") {
      // Only poscounts needs the log sums of genes a center holds zeros of (a sparse gene's
      // is its one or two positive counts' logs).
      const wanted = this.plan.sizeFactorsType === "poscounts";
      if ((input as unknown as StepInput<"logSums">).genesWithZeros !== wanted)
        refuse(
          `log sums of genes with zero counts are ${wanted ? "needed" : "not needed"} for the plan's ${this.plan.sizeFactorsType} size factors`,
        );
    }
    const design = designOf(step, input);
    if (design === null) return;
    const plan = this.plan;
    // The iterative size factors estimate intercept-only dispersions (and nothing else with it).
    if (
      iterate &&
      step === "dispersionMoments" &&
      design.formula === INTERCEPT_ONLY.text &&
      sameJson(design.levels ?? "", {}) &&
      sameJson(design.references ?? "", {}) &&
      (input as unknown as StepInput<"dispersionMoments">).refitGenes.length === 0
    )
      return;
    if (design.formula !== plan.design)
      refuse(
        `design ${JSON.stringify(design.formula)} is not the plan's ${JSON.stringify(plan.design)}`,
      );
    if (design.levels !== undefined && !sameJson(design.levels, plan.levels))
      refuse("the factor levels are not the plan's");
    if (design.references !== undefined && !sameJson(design.references, plan.references))
      refuse("the reference levels are not the plan's");
    if (step === "prepare") {
      const request = input as StepInput<"prepare">;
      for (const [key, value] of Object.entries(plan.hyperparameters) as [
        keyof FitHyperparameters,
        number,
      ][]) {
        if (!Object.is(request[key], value))
          refuse(`fit option ${key} = ${request[key]} is not the plan's ${value}`);
      }
    }
  }

  #checkGenes(step: StepName, input: FlatRecord, refuse: (reason: string) => never): void {
    if (
      step !== "presence" &&
      step !== "nonZeroCells" &&
      step !== "contrastPresence" &&
      step !== "levelPresence" &&
      step !== "logSums" &&
      step !== "unitSizeFactors" &&
      step !== "prepare"
    )
      return;
    const genes = (
      input as StepInput<
        | "presence"
        | "nonZeroCells"
        | "contrastPresence"
        | "levelPresence"
        | "logSums"
        | "unitSizeFactors"
        | "prepare"
      >
    ).genes;
    if (this.#firstGenes === null) {
      this.#firstGenes = new Set(genes);
      return;
    }
    const first = this.#firstGenes;
    const outside = genes.find((g) => !first.has(g));
    if (outside !== undefined)
      refuse(
        `gene ${JSON.stringify(outside)} is not among the run's genes (gene sets only narrow)`,
      );
  }
}

/**
 * The steps a center without a plan serves: an aggregate fit (`fedseq aggregate`), whose size
 * factors and dispersions the aggregator supplies. The whole analysis (`run`) needs a plan.
 */
export const UNPLANNED_STEPS: ReadonlySet<StepName> = new Set<StepName>([
  "presence",
  "levels",
  "prepare",
  "init",
  "irls",
  "pqn",
  "newton",
  "deseq2Irls",
  "nllAtPoints",
]);

/**
 * What a center refusing, or failing a step, over `error` tells the aggregator: the message, or
 * its shared form where the message holds the center's data (a sample's name or value, a cell's
 * own size: {@link PrivateDataError}; one element of its own sum: `FixedPointError`).
 */
export function sharedRefusal(error: unknown): string {
  if (error instanceof PrivateDataError || error instanceof FixedPointError) return error.shared;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Check a center's own data against the plan before it takes part: the center is one of the
 * plan's, every design variable is a column, each factor's values are among the plan's levels,
 * and each continuous covariate holds numbers (its cells' k-sample rule: cellRule.ts).
 * @throws InputError naming the center, the variable and the value
 */
export function checkDataAgainstPlan(plan: AnalysisPlan, data: CenterData): void {
  const where = `center ${data.name}`;
  if (!plan.centers.includes(data.name)) {
    throw new InputError(
      `${where}: not one of the analysis plan's centers (${plan.centers.join(", ")})`,
    );
  }
  const formula = parseFormula(plan.design);
  const own = localLevels(data.metadata, formula);
  for (const term of formula.terms) {
    const planned = plan.levels[term];
    const held = own[term];
    if (planned === undefined) {
      if (held !== undefined && held.length > 0) {
        // The aggregator reads the refusal: not the center's value itself.
        const why = `design variable ${quote(term)} is a continuous covariate in the analysis plan, but this center's values are not all numbers`;
        throw new PrivateDataError(`${where}: ${why} (e.g. ${quote(held[0])})`, `${where}: ${why}`);
      }
      continue;
    }
    const outside = (held ?? []).filter((level) => !planned.includes(level));
    if (held === undefined && data.samples.length > 0) {
      throw new InputError(
        `${where}: design variable ${quote(term)} holds only numbers here, but it is a factor in the analysis plan (levels ${planned.join(", ")})`,
      );
    }
    if (outside.length > 0) {
      // Its operator reads where: the samples holding the value, and the file.
      const values = data.metadata.values.get(term) ?? [];
      const holding = data.samples.filter((_, i) => values[i] === outside[0]);
      const samples =
        holding.length === 0
          ? ""
          : `sample${holding.length > 1 ? "s" : ""} ${listForMessage(holding, 3)}`;
      const at = [samples, data.metadata.source ?? ""].filter((x) => x !== "").join(", ");
      throw new PrivateDataError(
        `${where}: ${term} = ${quote(outside[0])}${at === "" ? "" : ` (${at})`} is not one of the analysis plan's levels (${planned.join(", ")})`,
        `${where}: a value of ${term} here is not one of the analysis plan's levels (${planned.join(", ")})`,
      );
    }
  }
  // A sample without a single count has no size factor in DESeq2 whatever the type (ratio:
  // every gene then has a zero; poscounts: its median is NA; iterate: the fit fails): refuse
  // before round 1, naming it, rather than after the size factors' first round.
  const n = data.samples.length;
  if (n > 0 && data.genes.length > 0) {
    const hasCount = new Uint8Array(n);
    for (let i = 0; i < data.counts.length; i++) if (data.counts[i] > 0) hasCount[i % n] = 1;
    const empty = hasCount.indexOf(0);
    if (empty >= 0) {
      throw new PrivateDataError(
        `${where}: sample ${data.samples[empty]} has no count above 0 in any gene: DESeq2 cannot compute its size factor (remove the sample)`,
        `${where}: a sample has no count above 0 in any gene (its operator has the sample's name)`,
      );
    }
  }
}
