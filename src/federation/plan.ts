/**
 * The analysis plan: the one file every center's data protection officer approves before the
 * center computes anything. It fixes the study (the centers, the design formula, each factor's
 * levels and reference, the contrast and test, the fit's options and the minimum cell size k),
 * and its SHA-256 hash travels with every request: a center answers only requests made under the
 * plan it accepted, and only what that plan needs (see `requestPolicy.ts`).
 *
 * The file is JSON with snake_case keys ({@link planToJson}); its hash is taken over a canonical
 * serialisation (keys sorted at every level, no white space), so re-indenting the file or
 * reordering its keys keeps the hash, and any change of a value changes it.
 */

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { MIN_OUTLIER_REPLICATES } from "../algorithms/cooks/cells.js";
import { FIT_TYPES, type FitType } from "../algorithms/dispersions/trend.js";
import type { FitHyperparameters } from "../algorithms/hyperparameters.js";
import { SIZE_FACTORS_TYPES, type SizeFactorsType } from "../algorithms/sizeFactors/state.js";
import { InputError, listForMessage, quote } from "../core/errors.js";
import { type DesignLevels, type References, sortLevels } from "../design/designMatrix.js";
import { allCellKeys } from "../design/factorCells.js";
import { type Formula, parseFormula, parseReducedFormula } from "../design/formula.js";
import { LFC_SHRINK_TYPES, type LfcShrinkType } from "../results/lfcShrink.js";
import { secureCentersProblem } from "./registry.js";

/** Version of the plan format this code reads and writes. */
export const PLAN_VERSION = 2;

/** Default minimum cell size k: nothing a center sends is computed from fewer samples. */
export const DEFAULT_MIN_CELL = 3;

/** The solvers and modes a plan may name (kept in step with `algorithms/lfc`). */
export const PLAN_SOLVERS = ["deseq2", "fast", "upstream"] as const;
export const PLAN_MODES = ["irls-pqn", "pqn"] as const;
export const PLAN_ALT_HYPOTHESES = ["greaterAbs", "lessAbs", "greater", "less"] as const;

/**
 * Per center, how many of its samples each design cell holds (cell keys as
 * `cellRule.ts`'s `sampleCellKeys` writes them; cells a center has no sample of are absent).
 */
export type CellSizes = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * A plan's contrast: as `--contrast` takes it (`"condition,treated,control"`, or a continuous
 * variable), a coefficient's name (`{"name": …}`, `--name`), a numeric contrast (`{"vector":
 * [0, 1, -1]}`, `--contrast-vector`), or null (DESeq2's default, the last coefficient).
 */
export type PlanContrast =
  | string
  | { readonly name: string }
  | { readonly vector: readonly number[] }
  | null;

/** An analysis plan, as agreed by every center. */
export interface AnalysisPlan {
  /** The centers taking part (their certificates' names), sorted. */
  readonly centers: readonly string[];
  /** The design formula, e.g. "~ batch + condition". */
  readonly design: string;
  /**
   * Each factor of the design and its levels, sorted (as `mergeLevels` orders them). A design
   * variable without an entry is a continuous covariate.
   */
  readonly levels: DesignLevels;
  /** Reference level per factor (factors not listed: their first level). */
  readonly references: References;
  /** The contrast tested (null: DESeq2's default, the last coefficient). */
  readonly contrast: PlanContrast;
  readonly lfcNull: number;
  readonly altHypothesis: (typeof PLAN_ALT_HYPOTHESES)[number];
  readonly alpha: number;
  readonly independentFiltering: boolean;
  readonly solver: (typeof PLAN_SOLVERS)[number];
  readonly mode: (typeof PLAN_MODES)[number];
  readonly maxit: number;
  /** DESeq2's `fitType`: the dispersion trend (a plan file without `fit_type`: "parametric"). */
  readonly fitType: FitType;
  /** DESeq2's size-factor type (a plan file without `size_factors_type`: "ratio"). */
  readonly sizeFactorsType: SizeFactorsType;
  readonly hyperparameters: FitHyperparameters;
  /** k: the fewest samples any value a center sends may be computed from. */
  readonly minCell: number;
  /**
   * Whether every summed reply travels under secure aggregation: the centers refuse a run in
   * clear, and (with three or more centers and `cellSizes`) the k-sample rule counts pooled cells.
   */
  readonly secureAggregation: boolean;
  /** Each center's cell sizes (null: not in the plan; each center's own cells then count). */
  readonly cellSizes: CellSizes | null;
  /**
   * Whether each center answers only the requests its own replay of the plan makes
   * (verifiedRequests.ts): the aggregator relays every center's authenticated reply with its next
   * request, each center pools them itself and runs the aggregator's pipeline, so a malicious
   * aggregator cannot choose the points the iterative steps are evaluated at. Each center then
   * learns the pooled sums, so the k-sample rule also counts the other centers' samples of each
   * cell. Needs secure aggregation (its pair secrets authenticate the replies) and the cell
   * sizes (each center's sample count is part of the replay). A plan file without
   * `verify_requests` (made before it existed): true when both are there.
   */
  readonly verifyRequests: boolean;
  /**
   * Leave out the genes with 1 to k − 1 non-zero counts in some cell (pooled cells under the
   * pooled rule; algorithms/sparseGenes.ts): their sums over that cell, and DESeq2's results
   * for them, are those one or two samples' values. A plan file without it: false.
   */
  readonly omitSparseGenes: boolean;
  /**
   * The reduced design of a likelihood-ratio test (DESeq2's `test = "LRT"`, `reduced`), nested
   * in `design`; null: the Wald test. The file holds it as `"test": "LRT", "reduced": …`
   * (a plan file without `test`: the Wald test).
   */
  readonly reduced: string | null;
  /**
   * DESeq's `minReplicatesForReplace` (null: never replace, `--no-refit-cooks`). A plan file
   * without `min_replicates_for_replace`: 7.
   */
  readonly minReplicatesForReplace: number | null;
  /** `results()`' Cook's filter (a plan file without `cooks_filter`: true). */
  readonly cooksFilter: boolean;
  /** `results()`' `cooksCutoff` (null: DESeq2's qf(0.99, p, m − p); a file without it: null). */
  readonly cooksCutoff: number | null;
  /**
   * DESeq2's variance-stabilising transformation (`vst`, blind = FALSE): each center transforms
   * its own samples with the fitted trend and keeps them. A plan file without `vst`: false.
   */
  readonly vst: boolean;
  /**
   * With `vst`: each center sends its samples' coordinates on the PCA's two axes (two numbers per
   * sample, for the report's plot); otherwise it keeps them. A plan file without
   * `pca_coordinates`: false.
   */
  readonly pcaCoordinates: boolean;
  /**
   * With `vst`: when the dispersion trend is DESeq2's local fit, the federation's largest
   * normalised count (one sample's value, which DESeq2's vst of a local trend integrates up to) may
   * be found, by a bisection that reveals nothing else. A plan file without `vst_max_count`: false.
   */
  readonly vstMaxCount: boolean;
  /**
   * Whether each center also sends, per gene and level of each factor, whether it holds a
   * non-zero count at that level (OR-ed over the centers), so that `fedseq results --from` can
   * test other contrasts of two levels as DESeq2 (its contrastAllZero) without another run. A
   * plan file without `level_presence`: false.
   */
  readonly levelPresence: boolean;
  /**
   * DESeq2's `lfcShrink(coef = <the results' coefficient>, type)` after the results (null: none).
   * "normal" adds no step (its MAP fit uses the MLE fit's steps); "apeglm" adds the step
   * `apeglm`, answered only under such a plan. A plan file without `lfc_shrink`: null.
   */
  readonly lfcShrink: LfcShrinkType | null;
}

/** The plan as its file holds it (snake_case keys). */
export function planToJson(plan: AnalysisPlan): Record<string, unknown> {
  return {
    fedseq_plan: PLAN_VERSION,
    centers: [...plan.centers],
    design: plan.design,
    levels: plan.levels,
    references: plan.references,
    contrast: plan.contrast,
    lfc_null: plan.lfcNull,
    alt_hypothesis: plan.altHypothesis,
    alpha: plan.alpha,
    independent_filtering: plan.independentFiltering,
    solver: plan.solver,
    mode: plan.mode,
    maxit: plan.maxit,
    fit_type: plan.fitType,
    size_factors_type: plan.sizeFactorsType,
    hyperparameters: Object.fromEntries(
      (Object.keys(HYPERPARAMETER_KEYS) as (keyof FitHyperparameters)[]).map((key) => [
        HYPERPARAMETER_KEYS[key],
        plan.hyperparameters[key],
      ]),
    ),
    min_cell: plan.minCell,
    secure_aggregation: plan.secureAggregation,
    cell_sizes: plan.cellSizes,
    verify_requests: plan.verifyRequests,
    // Written only when set: plans without it keep their text and hash.
    ...(plan.omitSparseGenes ? { omit_sparse_genes: true } : {}),
    ...(plan.reduced === null ? {} : { test: "LRT", reduced: plan.reduced }),
    ...(plan.minReplicatesForReplace === 7
      ? {}
      : { min_replicates_for_replace: plan.minReplicatesForReplace }),
    ...(plan.cooksFilter ? {} : { cooks_filter: false }),
    ...(plan.cooksCutoff === null ? {} : { cooks_cutoff: plan.cooksCutoff }),
    ...(plan.vst ? { vst: true } : {}),
    ...(plan.pcaCoordinates ? { pca_coordinates: true } : {}),
    ...(plan.vstMaxCount ? { vst_max_count: true } : {}),
    ...(plan.levelPresence ? { level_presence: true } : {}),
    ...(plan.lfcShrink === null ? {} : { lfc_shrink: plan.lfcShrink }),
  };
}

/** The plan file's text: indented JSON, one trailing newline. */
export function planText(plan: AnalysisPlan): string {
  return `${JSON.stringify(planToJson(plan), null, 2)}\n`;
}

/** JSON with keys sorted at every level and no white space: what the hash is taken over. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The plan's hash (SHA-256 of its canonical JSON, hex): what every request carries. */
export function planHash(plan: AnalysisPlan): string {
  return createHash("sha256")
    .update(canonicalJson(planToJson(plan)))
    .digest("hex");
}

const CENTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Reads one field of a plan file, failing with one line that names the file and the field. */
class PlanReader {
  readonly #where: string;
  readonly #object: Record<string, unknown>;
  constructor(where: string, object: Record<string, unknown>) {
    this.#where = where;
    this.#object = object;
  }

  fail(field: string, problem: string): never {
    throw new InputError(`${this.#where}: ${field}: ${problem}`);
  }

  has(field: string): boolean {
    return Object.hasOwn(this.#object, field);
  }

  raw(field: string): unknown {
    if (!this.has(field)) this.fail(field, "missing");
    return this.#object[field];
  }

  string(field: string): string {
    const v = this.raw(field);
    if (typeof v !== "string" || v.trim() === "") this.fail(field, "expected a non-empty text");
    return v;
  }

  number(field: string, check: (x: number) => boolean, expected: string): number {
    const v = this.raw(field);
    if (typeof v !== "number" || !Number.isFinite(v) || !check(v))
      this.fail(field, `expected ${expected}, found ${JSON.stringify(v)}`);
    return v;
  }

  boolean(field: string): boolean {
    const v = this.raw(field);
    if (typeof v !== "boolean")
      this.fail(field, `expected true or false, found ${JSON.stringify(v)}`);
    return v;
  }

  choice<T extends string>(field: string, choices: readonly T[]): T {
    const v = this.raw(field);
    if (typeof v !== "string" || !(choices as readonly string[]).includes(v))
      this.fail(field, `expected one of ${choices.join(", ")}, found ${JSON.stringify(v)}`);
    return v as T;
  }

  stringList(field: string, value: unknown = this.raw(field)): string[] {
    if (!Array.isArray(value) || value.some((s) => typeof s !== "string" || s === ""))
      this.fail(field, "expected a list of non-empty texts");
    return value as string[];
  }

  object(field: string, value: unknown = this.raw(field)): Record<string, unknown> {
    if (value === null || typeof value !== "object" || Array.isArray(value))
      this.fail(field, "expected an object");
    return value as Record<string, unknown>;
  }

  /** No key outside `known` (a misspelt option must not be silently ignored). */
  onlyKnown(known: readonly string[], object = this.#object, prefix = ""): void {
    for (const key of Object.keys(object)) {
      if (!known.includes(key)) this.fail(`${prefix}${key}`, "not a plan field");
    }
  }
}

const FIELDS = [
  "fedseq_plan",
  "centers",
  "design",
  "levels",
  "references",
  "contrast",
  "lfc_null",
  "alt_hypothesis",
  "alpha",
  "independent_filtering",
  "solver",
  "mode",
  "maxit",
  "fit_type",
  "size_factors_type",
  "hyperparameters",
  "min_cell",
  "secure_aggregation",
  "cell_sizes",
  "verify_requests",
  "omit_sparse_genes",
  "test",
  "reduced",
  "min_replicates_for_replace",
  "cooks_filter",
  "cooks_cutoff",
  "vst",
  "pca_coordinates",
  "vst_max_count",
  "level_presence",
  "lfc_shrink",
] as const;

/** The plan file's name of each hyper-parameter (the `run` flag's, in snake_case). */
const HYPERPARAMETER_KEYS: Readonly<Record<keyof FitHyperparameters, string>> = {
  maxBeta: "max_beta",
  irlsNumIter: "irls_iters",
  pqnNumIters: "pqn_iters",
  pqnNumItersLs: "pqn_ls_iters",
  pqnC1: "pqn_c1",
  pqnFtol: "pqn_ftol",
  pqnMinMu: "pqn_min_mu",
  minMu: "min_mu",
  betaTol: "beta_tol",
};

const isPositiveInteger = (x: number) => Number.isInteger(x) && x >= 1;

/**
 * Check a plan (as parsed from its file) field by field, and the relations between fields: the
 * levels and references against the design, the contrast against the levels.
 * @param where - the file, for messages
 * @throws InputError naming the file and the field at fault
 */
export function planFromJson(value: unknown, where: string): AnalysisPlan {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new InputError(`${where}: not an analysis plan (expected a JSON object)`);
  const r = new PlanReader(where, value as Record<string, unknown>);
  r.onlyKnown(FIELDS);
  const version = r.raw("fedseq_plan");
  if (version !== PLAN_VERSION)
    r.fail("fedseq_plan", `version ${JSON.stringify(version)}, this fedseq reads ${PLAN_VERSION}`);

  const centers = r.stringList("centers");
  if (centers.length < 2) r.fail("centers", "a federation needs at least two centers");
  for (const name of centers) {
    if (!CENTER_NAME.test(name)) r.fail("centers", `${quote(name)} is not a center name`);
  }
  if (new Set(centers).size !== centers.length) r.fail("centers", "a center is listed twice");

  const design = r.string("design");
  const formula = ((): Formula => {
    try {
      return parseFormula(design);
    } catch (error) {
      return r.fail("design", (error as Error).message);
    }
  })();
  const { terms } = formula;

  const levelsObject = r.object("levels");
  const levels: Record<string, string[]> = {};
  for (const [factor, list] of Object.entries(levelsObject)) {
    if (!terms.includes(factor))
      r.fail(`levels.${factor}`, `not a variable of the design ${quote(design)}`);
    const values = r.stringList(`levels.${factor}`, list);
    if (values.length < 2) r.fail(`levels.${factor}`, "a factor needs at least two levels");
    if (new Set(values).size !== values.length)
      r.fail(`levels.${factor}`, "a level is listed twice");
    const sorted = sortLevels([...values]);
    if (sorted.some((v, i) => v !== values[i]))
      r.fail(`levels.${factor}`, "levels must be sorted (the order fedseq builds the design in)");
    levels[factor] = values;
  }
  // A variable without levels is a continuous covariate: factor(x) says it is not one.
  for (const variable of formula.factors ?? [])
    if (!Object.hasOwn(levels, variable))
      r.fail(
        "levels",
        `the design's factor(${variable}) needs its levels (fedseq plan --levels ${variable}=…)`,
      );

  const referencesObject = r.object("references");
  const references: Record<string, string> = {};
  for (const [factor, level] of Object.entries(referencesObject)) {
    if (!Object.hasOwn(levels, factor)) r.fail(`references.${factor}`, "not a factor of the plan");
    if (typeof level !== "string" || !levels[factor].includes(level))
      return r.fail(`references.${factor}`, `${JSON.stringify(level)} is not one of its levels`);
    references[factor] = level;
  }

  const contrastValue = r.raw("contrast");
  const contrast = readContrastObject(r, contrastValue);
  if (typeof contrast === "string") {
    const parts = contrast.split(",");
    if (parts.length === 3) {
      const [factor, level, reference] = parts;
      if (!Object.hasOwn(levels, factor)) r.fail("contrast", `${quote(factor)} is not a factor`);
      for (const l of [level, reference]) {
        if (!levels[factor].includes(l))
          r.fail("contrast", `${quote(l)} is not a level of ${factor}`);
      }
    } else if (parts.length !== 1 || !terms.includes(contrast) || Object.hasOwn(levels, contrast)) {
      r.fail(
        "contrast",
        `${quote(contrast)} is neither factor,level,reference nor a continuous variable of the design`,
      );
    }
  }

  const hpObject = r.object("hyperparameters");
  const keys = Object.entries(HYPERPARAMETER_KEYS) as [keyof FitHyperparameters, string][];
  r.onlyKnown(
    keys.map(([, name]) => name),
    hpObject,
    "hyperparameters.",
  );
  const hyperparameters = Object.fromEntries(
    keys.map(([key, name]) => {
      const v = hpObject[name];
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
        r.fail(
          `hyperparameters.${name}`,
          `expected a non-negative number, found ${JSON.stringify(v)}`,
        );
      return [key, v];
    }),
  ) as unknown as FitHyperparameters;
  const cellSizes = readCellSizes(r, centers, design, levels);
  const secureAggregation = r.boolean("secure_aggregation");
  const minCell = r.number("min_cell", isPositiveInteger, "a whole number ≥ 1");
  const verifyRequests = readVerifyRequests(r, cellSizes !== null);
  if (minCell > 1 && !verifyRequests) r.fail("min_cell", UNVERIFIED_MIN_CELL);
  const tooMany = secureAggregation ? secureCentersProblem(centers.length) : null;
  if (tooMany !== null) r.fail("centers", tooMany);

  return {
    centers: [...centers].sort(),
    design,
    levels,
    references,
    contrast,
    lfcNull: r.number("lfc_null", (x) => x >= 0, "a non-negative number"),
    altHypothesis: r.choice("alt_hypothesis", PLAN_ALT_HYPOTHESES),
    alpha: r.number("alpha", (x) => x > 0 && x < 1, "a number in (0, 1)"),
    independentFiltering: r.boolean("independent_filtering"),
    solver: r.choice("solver", PLAN_SOLVERS),
    mode: r.choice("mode", PLAN_MODES),
    maxit: r.number("maxit", isPositiveInteger, "a whole number ≥ 1"),
    fitType: r.has("fit_type") ? r.choice("fit_type", FIT_TYPES) : "parametric",
    sizeFactorsType: readSizeFactorsType(r, cellSizes !== null),
    hyperparameters,
    minCell,
    secureAggregation,
    cellSizes,
    verifyRequests,
    omitSparseGenes: r.has("omit_sparse_genes") ? r.boolean("omit_sparse_genes") : false,
    reduced: readReduced(r, design),
    minReplicatesForReplace: !r.has("min_replicates_for_replace")
      ? 7
      : r.raw("min_replicates_for_replace") === null
        ? null
        : r.number(
            "min_replicates_for_replace",
            (x) => isPositiveInteger(x) && x >= MIN_OUTLIER_REPLICATES,
            `a whole number ≥ ${MIN_OUTLIER_REPLICATES} (DESeq2 calls no count of a smaller cell an outlier) or null`,
          ),
    cooksFilter: r.has("cooks_filter") ? r.boolean("cooks_filter") : true,
    cooksCutoff: r.has("cooks_cutoff")
      ? r.number("cooks_cutoff", (x) => x > 0, "a positive number")
      : null,
    vst: r.has("vst") ? r.boolean("vst") : false,
    pcaCoordinates: readNeedsVst(r, "pca_coordinates", cellSizes !== null),
    vstMaxCount: readNeedsVst(r, "vst_max_count", cellSizes !== null),
    levelPresence: r.has("level_presence") ? r.boolean("level_presence") : false,
    lfcShrink: r.has("lfc_shrink") ? r.choice("lfc_shrink", LFC_SHRINK_TYPES) : null,
  };
}

/**
 * `size_factors_type` (absent: "ratio"); "iterate" needs verified requests (its steps are
 * answered only under them).
 */
function readSizeFactorsType(r: PlanReader, cellSizes: boolean): SizeFactorsType {
  if (!r.has("size_factors_type")) return "ratio";
  const type = r.choice("size_factors_type", SIZE_FACTORS_TYPES);
  if (type === "iterate" && !readVerifyRequests(r, cellSizes))
    r.fail(
      "size_factors_type",
      "iterate needs verified requests (verify_requests), under which its steps run",
    );
  return type;
}

/**
 * `pca_coordinates`, `vst_max_count`: true needs `vst` (they are about the transformed counts)
 * and verified requests (the steps they allow are answered only under them).
 */
function readNeedsVst(
  r: PlanReader,
  field: "pca_coordinates" | "vst_max_count",
  cellSizes: boolean,
): boolean {
  if (!r.has(field)) return false;
  const value = r.boolean(field);
  if (value && !(r.has("vst") && r.boolean("vst")))
    r.fail(field, "true needs vst (it is about the transformed counts)");
  if (value && !readVerifyRequests(r, cellSizes))
    r.fail(field, "true needs verified requests (verify_requests), under which its steps run");
  return value;
}

/**
 * Why a plan with min_cell k > 1 needs verified requests: without each center's replay the
 * aggregator chooses what the centers sum (value ranges, windows, coefficients), and a red team's
 * requests read single samples' counts (docs/privacy.md, "Without verified requests"): k would
 * be a promise only an honest aggregator keeps.
 */
export const UNVERIFIED_MIN_CELL =
  "a k above 1 holds only under verified requests (verify_requests: secure aggregation and the plan's cell sizes): without each center's replay the aggregator chooses what the centers sum, and requests of its choosing read single samples' counts (one Cook's sums request gave back 74% of outliers_sim's non-zero counts; docs/privacy.md, \"Without verified requests\"); plan verified requests, or k = 1 (the centers' consent to disclose)";

/**
 * `verify_requests`: true needs secure aggregation and cell sizes; absent (a plan made before it
 * existed), true when both are there.
 */
function readVerifyRequests(r: PlanReader, cellSizes: boolean): boolean {
  const secure = r.boolean("secure_aggregation");
  if (!r.has("verify_requests")) return secure && cellSizes;
  const verify = r.boolean("verify_requests");
  if (verify && !secure) {
    r.fail(
      "verify_requests",
      "false when secure_aggregation is false (the centers authenticate their replies with secure aggregation's pair secrets)",
    );
  }
  if (verify && !cellSizes) {
    r.fail(
      "verify_requests",
      "false when the plan lists no cell_sizes (each center's sample count is part of the replay)",
    );
  }
  return verify;
}

/** A plan's `contrast` when it is null or an object (`{"name": …}`, `{"vector": […]}`). */
function readContrastObject(r: PlanReader, value: unknown): PlanContrast {
  const expected =
    'expected null, a contrast such as "condition,treated,control", {"name": COEFFICIENT} or {"vector": [WEIGHTS]}';
  if (value === null) return null;
  if (typeof value === "string") {
    if (value === "") r.fail("contrast", expected);
    return value;
  }
  const object = r.object("contrast", value);
  const keys = Object.keys(object);
  if (keys.length !== 1) r.fail("contrast", expected);
  if (keys[0] === "name") {
    if (typeof object.name !== "string" || object.name === "")
      r.fail("contrast.name", "expected a coefficient's name");
    return { name: object.name as string };
  }
  if (keys[0] === "vector") {
    const v = object.vector;
    if (
      !Array.isArray(v) ||
      v.length === 0 ||
      v.some((x) => typeof x !== "number" || !Number.isFinite(x))
    )
      r.fail("contrast.vector", "expected a list of numbers, one weight per coefficient");
    return { vector: [...(v as number[])] };
  }
  return r.fail("contrast", expected);
}

/** The plan's test: `"test": "LRT"` with its `reduced` design, or the Wald test (null). */
function readReduced(r: PlanReader, design: string): string | null {
  const test = r.has("test") ? r.choice("test", ["Wald", "LRT"] as const) : "Wald";
  if (test === "Wald") {
    if (r.has("reduced")) r.fail("reduced", 'only with "test": "LRT"');
    return null;
  }
  const reduced = r.string("reduced");
  try {
    parseReducedFormula(reduced, parseFormula(design));
  } catch (error) {
    r.fail("reduced", (error as Error).message);
  }
  return reduced;
}

/** The plan's `cell_sizes`: null, or {@link checkCellSizes}'s. */
function readCellSizes(
  r: PlanReader,
  centers: readonly string[],
  design: string,
  levels: DesignLevels,
): CellSizes | null {
  const value = r.raw("cell_sizes");
  if (value === null) return null;
  return checkCellSizes(value, centers, design, levels, (path, problem) =>
    r.fail(["cell_sizes", ...path].join("."), problem),
  );
}

/**
 * Cell sizes checked (a plan's `cell_sizes`, `fedseq plan --cell-sizes`): an object of center →
 * {cell: samples}, each of `centers` listed and no other, each cell one of the design's (a
 * combination of the levels of its factors, the variables `levels` gives, as a center names its
 * cells), each count a whole number ≥ 1.
 * @param fail - reports a problem: where (the center, then the cell) and what is wrong
 */
export function checkCellSizes(
  value: unknown,
  centers: readonly string[],
  design: string,
  levels: DesignLevels,
  fail: (path: readonly string[], problem: string) => never,
): CellSizes {
  if (!isJsonObject(value))
    fail(
      [],
      `expected an object of center → {cell: samples}, e.g. {"hospital_a": {"tissue=heart": 4}}, found ${jsonKind(value)}`,
    );
  const { terms } = parseFormula(design);
  const cells = new Set(
    allCellKeys(
      terms.filter((t) => Object.hasOwn(levels, t)),
      levels,
    ),
  );
  const out: Record<string, Record<string, number>> = {};
  for (const [center, sizes] of Object.entries(value)) {
    if (!centers.includes(center))
      fail([center], `not one of the plan's centers (${centers.join(", ")})`);
    if (!isJsonObject(sizes))
      fail(
        [center],
        `expected an object of cell → samples, e.g. {"tissue=heart": 4}, found ${jsonKind(sizes)}`,
      );
    for (const [cell, n] of Object.entries(sizes)) {
      if (!cells.has(cell)) {
        const named = cell.split(",").map((part) => part.slice(0, part.indexOf("=")));
        const unlevelled = terms.find((t) => !Object.hasOwn(levels, t) && named.includes(t));
        fail(
          [center, cell],
          unlevelled !== undefined
            ? `${quote(unlevelled)} has no levels in the plan, so it is a continuous covariate and no cell of it: give its levels (fedseq plan --levels ${unlevelled}=…)`
            : `not a cell of the design ${design} (its cells: ${listForMessage([...cells])})`,
        );
      }
      if (typeof n !== "number" || !isPositiveInteger(n))
        fail([center, cell], `expected a whole number of samples ≥ 1, found ${JSON.stringify(n)}`);
    }
    out[center] = sizes as Record<string, number>;
  }
  for (const center of centers)
    if (!Object.hasOwn(out, center)) fail([center], "missing (every center has its cell sizes)");
  return out;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A JSON value's kind, in a message. */
function jsonKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return JSON.stringify(value);
}

/**
 * Read and check a plan file.
 * @throws InputError naming the file (and the field) at fault
 */
export function readPlanFile(file: string): AnalysisPlan {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: cannot read the analysis plan (${code ?? String(error)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${file}: not JSON (${(error as Error).message})`);
  }
  return planFromJson(value, file);
}
