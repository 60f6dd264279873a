/**
 * The saved fit of a run (`OUTDIR/saved_fit.json`): what DESeq2's `results()` reads from a
 * fitted `dds`, so that `fedseq results --from OUTDIR` tests another contrast without contacting
 * any center: the design, the fitted genes' coefficients and covariances, base means, which
 * p-values Cook's filter withholds, the genes left without counts by outlier replacement, a
 * likelihood-ratio test's statistics, and (the plan's `level_presence`) per gene and factor
 * level whether any sample of the level has a count (DESeq2's `contrastAllZero` for any two
 * levels). A JSON document; the per-gene numbers (base means, coefficients, the upper triangles
 * of the covariances, LRT statistics) are each one string, the base64 of their little-endian
 * float64 bytes: read back bit for bit, NaN included. (Version 1 wrote every number as JSON
 * text, gzipped: on bodymap `~ center + tissue`, 1.4 s to write, against 0.16 s now.)
 */
import { readFileSync } from "node:fs";
import { packSymmetric, unpackSymmetric } from "../algorithms/lfc/symmetric.js";
import { InputError, quote } from "../core/errors.js";
import {
  codedLevels,
  type DesignLevels,
  designColumns,
  levelColumnName,
  type References,
} from "../design/designMatrix.js";
import { type Formula, hasIntercept, parseFormula } from "../design/formula.js";
import { writeFileAtomic } from "../io/atomic.js";
import { triangleSize } from "../math/linalg.js";
import {
  type Contrast,
  type ContrastSpec,
  defaultLevelsContrast,
  resolveContrast,
} from "../results/contrast.js";
import { type ResultsTable, resultsOverAllGenes, resultsTable } from "../results/resultsTable.js";
import type { WaldOptions } from "../stats/wald.js";

/** File name of the saved fit in a run's output folder. */
export const SAVED_FIT_FILE = "saved_fit.json";

/** The file name version 1 used (its folders are refused with a hint). */
export const SAVED_FIT_FILE_V1 = "saved_fit.json.gz";

const FORMAT = "fedseq saved fit v2";

/** Per factor: its levels and, per fitted gene, one presence bit per level (gene-major). */
export type LevelPresence = Readonly<
  Record<string, { readonly levels: readonly string[]; readonly present: Uint8Array }>
>;

/** A run's fit as `results()` needs it (rows of the per-fitted-gene arrays: `fitted` order). */
export interface SavedFit {
  readonly design: string;
  readonly levels: DesignLevels;
  readonly references: References;
  readonly columns: readonly string[];
  /** Every gene of the input, in input order. */
  readonly genes: readonly string[];
  /** Genes the run analysed (indices into `genes`); null: all of them (no sparse gene left out). */
  readonly kept: Int32Array | null;
  /** Indices (into the analysed genes) of the fitted genes. */
  readonly fitted: Int32Array;
  /** Mean of normalised counts of every analysed gene. */
  readonly baseMean: Float64Array;
  /** F×p coefficients (natural log). */
  readonly beta: Float64Array;
  /** F×p×p covariances (natural log). */
  readonly sigma: Float64Array;
  /** Fitted genes whose p-value is withheld (Cook's filter; unconverged upstream fits). */
  readonly withheld: Uint8Array;
  /** Fitted genes left with no count after outlier replacement. */
  readonly nowZero: Uint8Array;
  /** A likelihood-ratio test's statistic per fitted gene (null: the Wald test). */
  readonly lrt: {
    readonly reduced: string;
    readonly df: number;
    readonly stat: Float64Array;
  } | null;
  /** Per-level presence bits (null: the plan did not keep them). */
  readonly levelPresence: LevelPresence | null;
}

/** Base64 of the values' little-endian float64 bytes (whatever the machine's byte order). */
function float64Text(values: ArrayLike<number>): string {
  const bytes = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) bytes.writeDoubleLE(values[i], i * 8);
  return bytes.toString("base64");
}

/**
 * The numbers of a {@link float64Text} string.
 * @throws InputError when it is not one
 */
function float64Values(text: unknown, key: string): Float64Array {
  const bytes = typeof text === "string" ? Buffer.from(text, "base64") : null;
  if (bytes === null || bytes.length % 8 !== 0)
    throw new InputError(`not a well-formed saved fit: ${key} is not base64 float64 bytes`);
  const values = new Float64Array(bytes.length / 8);
  for (let i = 0; i < values.length; i++) values[i] = bytes.readDoubleLE(i * 8);
  return values;
}

/** Write the saved fit into `file`, atomically. */
export function writeSavedFit(file: string, fit: SavedFit): void {
  const p = fit.columns.length;
  const json = {
    format: FORMAT,
    design: fit.design,
    levels: fit.levels,
    references: fit.references,
    columns: fit.columns,
    genes: fit.genes,
    kept: fit.kept === null ? null : Array.from(fit.kept),
    fitted: Array.from(fit.fitted),
    base_mean: float64Text(fit.baseMean),
    beta: float64Text(fit.beta),
    sigma_upper: float64Text(packSymmetric(fit.sigma, p)),
    withheld: Array.from(fit.withheld),
    now_zero: Array.from(fit.nowZero),
    lrt:
      fit.lrt === null
        ? null
        : { reduced: fit.lrt.reduced, df: fit.lrt.df, stat: float64Text(fit.lrt.stat) },
    level_presence:
      fit.levelPresence === null
        ? null
        : Object.fromEntries(
            Object.entries(fit.levelPresence).map(([factor, { levels, present }]) => [
              factor,
              { levels, present: Array.from(present) },
            ]),
          ),
  };
  writeFileAtomic(file, JSON.stringify(json));
}

/**
 * Read a saved fit.
 * @throws InputError naming the file when it is missing or not a saved fit of this version
 */
export function readSavedFit(file: string): SavedFit {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new InputError(
      `${file}: not a saved fit (${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file: was the folder written by fedseq run?" : (error as Error).message})`,
    );
  }
  if (json.format !== FORMAT)
    throw new InputError(
      `${file}: not a saved fit of this version (format ${quote(String(json.format))})`,
    );
  try {
    return checkedSavedFit(json);
  } catch (error) {
    if (error instanceof InputError) throw new InputError(`${file}: ${error.message}`);
    throw new InputError(`${file}: not a well-formed saved fit (${(error as Error).message})`);
  }
}

/** A saved fit from its JSON, every field's type and every array's length checked. */
function checkedSavedFit(json: Record<string, unknown>): SavedFit {
  const fail = (what: string): never => {
    throw new InputError(`not a well-formed saved fit: ${what}`);
  };
  for (const key of ["design", "levels", "references", "columns", "genes", "fitted"])
    if (json[key] === undefined) fail(`no ${key}`);
  const lrt = json.lrt as { reduced: string; df: number; stat: string } | null;
  const presence = json.level_presence as Record<
    string,
    { levels: string[]; present: number[] }
  > | null;
  const triangles = float64Values(json.sigma_upper, "sigma_upper");
  const fit: Omit<SavedFit, "sigma"> = {
    design: json.design as string,
    levels: json.levels as DesignLevels,
    references: json.references as References,
    columns: json.columns as string[],
    genes: json.genes as string[],
    kept: json.kept === null ? null : Int32Array.from(json.kept as number[]),
    fitted: Int32Array.from(json.fitted as number[]),
    baseMean: float64Values(json.base_mean, "base_mean"),
    beta: float64Values(json.beta, "beta"),
    withheld: Uint8Array.from(json.withheld as number[]),
    nowZero: Uint8Array.from(json.now_zero as number[]),
    lrt:
      lrt === null
        ? null
        : { reduced: lrt.reduced, df: lrt.df, stat: float64Values(lrt.stat, "lrt.stat") },
    levelPresence:
      presence === null
        ? null
        : Object.fromEntries(
            Object.entries(presence).map(([factor, { levels, present }]) => [
              factor,
              { levels, present: Uint8Array.from(present) },
            ]),
          ),
  };
  // The design as the run built it, and every array as long as the fit says.
  const formula = parseFormula(fit.design);
  const columns = designColumns(formula, fit.levels, fit.references);
  if (canonical(columns) !== canonical(fit.columns)) fail("columns are not the design's");
  const p = columns.length;
  const F = fit.fitted.length;
  const analysed = fit.kept === null ? fit.genes.length : fit.kept.length;
  const lengths: [string, number, number][] = [
    ["base_mean", fit.baseMean.length, analysed],
    ["beta", fit.beta.length, F * p],
    ["sigma_upper", triangles.length, F * triangleSize(p)],
    ["withheld", fit.withheld.length, F],
    ["now_zero", fit.nowZero.length, F],
    ...(fit.lrt === null ? [] : [["lrt.stat", fit.lrt.stat.length, F] as [string, number, number]]),
    ...Object.entries(fit.levelPresence ?? {}).map(
      ([factor, { levels, present }]) =>
        [`level_presence.${factor}`, present.length, F * levels.length] as [string, number, number],
    ),
  ];
  for (const [key, length, expected] of lengths)
    if (length !== expected) fail(`${key} has ${length} values, expected ${expected}`);
  if (fit.fitted.some((g) => !(g >= 0 && g < analysed))) fail("a fitted gene is out of range");
  if (fit.kept?.some((g) => !(g >= 0 && g < fit.genes.length))) fail("a kept gene is out of range");
  return { ...fit, sigma: unpackSymmetric(triangles, p) };
}

const canonical = (values: readonly string[]) => JSON.stringify(values);

/** `results()` options: DESeq2's, as `run` takes them. */
export interface ResultsOptions {
  readonly contrast?: ContrastSpec;
  /**
   * DESeq2's `test`: "Wald" after a likelihood-ratio test tests the contrast with the full
   * model's coefficients and standard errors, as `results(dds, test = "Wald")` does (its
   * `makeWaldTest`); by default the run's test.
   */
  readonly test?: "Wald" | "LRT";
  readonly wald: WaldOptions;
  readonly alpha: number;
  readonly independentFiltering: boolean;
}

/**
 * DESeq2's `contrastAllZero` for `spec` from the saved per-level bits: for two levels, no count
 * at either; for a numeric contrast with weights of both signs, none among the samples whose
 * design row it weighs (the intercept: every sample; a factor level's column: that level's).
 * Null when DESeq2 checks nothing (a coefficient, a continuous variable, the default of a design
 * with an intercept, weights of one sign).
 * @throws InputError when the bits needed were not kept, or the contrast weighs a column that is
 *   no intercept or factor level (an interaction, a continuous variable)
 */
export function savedContrastAllZero(
  fit: SavedFit,
  formula: Formula,
  spec: ContrastSpec | undefined,
): Uint8Array | null {
  const F = fit.fitted.length;
  const bits = (factor: string, level: string): Uint8Array => {
    const kept = fit.levelPresence?.[factor];
    if (kept === undefined)
      throw new InputError(
        `the saved fit keeps no per-level presence for ${quote(factor)} (the run's plan had no level_presence): DESeq2's contrastAllZero cannot be told without the centers; run this contrast as a run of its own`,
      );
    const l = kept.levels.indexOf(level);
    const L = kept.levels.length;
    return Uint8Array.from({ length: F }, (_, j) => kept.present[j * L + l]);
  };
  const effective = spec ?? defaultLevelsContrast(formula, fit.levels, fit.columns);
  if (effective?.kind === "levels") {
    const a = bits(effective.factor, effective.level);
    const b = bits(effective.factor, effective.reference);
    return Uint8Array.from(a, (x, j) => (x || b[j] ? 0 : 1));
  }
  if (
    effective?.kind !== "vector" ||
    !effective.weights.some((w) => w > 0) ||
    !effective.weights.some((w) => w < 0)
  )
    return null;
  const present = new Uint8Array(F);
  effective.weights.forEach((w, k) => {
    if (w === 0) return;
    const column = fit.columns[k];
    let touched: Uint8Array | null = null;
    if (k === 0 && hasIntercept(formula)) {
      // Every sample: a count at any level of the first factor.
      const factor = formula.terms.find((t) => Object.hasOwn(fit.levels, t));
      if (factor !== undefined) {
        touched = new Uint8Array(F);
        for (const level of fit.levels[factor]) {
          const b = bits(factor, level);
          for (let j = 0; j < F; j++) touched[j] |= b[j];
        }
      }
    } else {
      for (const factor of formula.terms.filter((t) => Object.hasOwn(fit.levels, t)))
        for (const level of fit.levels[factor])
          if (levelColumn(fit, formula, factor, level) === column) touched = bits(factor, level);
    }
    if (touched === null)
      throw new InputError(
        `--contrast-vector weighs ${column}, which is neither the intercept nor a factor level's column: DESeq2's contrastAllZero for it needs the centers; run this contrast as a run of its own`,
      );
    for (let j = 0; j < F; j++) present[j] |= touched[j];
  });
  return Uint8Array.from(present, (x) => 1 - x);
}

/** The name of a level's main-effect column (null: the reference of a treatment-coded factor). */
function levelColumn(
  fit: SavedFit,
  formula: Formula,
  factor: string,
  level: string,
): string | null {
  return codedLevels(formula, fit.levels, fit.references, factor).includes(level)
    ? levelColumnName(formula, fit.levels, fit.references, factor, level)
    : null;
}

/**
 * DESeq2's `results()` on the saved fit: the contrast resolved on the saved design, the Wald
 * test (or the saved likelihood-ratio statistics), Cook's filter and outlier replacement as the
 * run had them, independent filtering: the table `run` would write with these options.
 */
export function resultsFromSavedFit(
  fit: SavedFit,
  options: ResultsOptions,
): { readonly table: ResultsTable; readonly contrast: Contrast } {
  if (options.test === "LRT" && fit.lrt === null)
    throw new InputError(
      '--test LRT: the run tested with Wald tests (DESeq2: the LRT requires DESeq(dds, test = "LRT"); run with --test LRT --reduced …)',
    );
  const lrt = options.test === "Wald" ? null : fit.lrt;
  const formula = parseFormula(fit.design);
  const contrast = resolveContrast(options.contrast, formula, fit.levels, fit.columns);
  const contrastAllZero = savedContrastAllZero(fit, formula, options.contrast);
  const analysed = fit.kept === null ? fit.genes.length : fit.kept.length;
  const table = resultsTable({
    genes: analysed,
    fitted: fit.fitted,
    baseMean: fit.baseMean,
    beta: fit.beta,
    sigma: fit.sigma,
    contrast,
    wald: options.wald,
    alpha: options.alpha,
    independentFiltering: options.independentFiltering,
    cooksOutlier: fit.withheld,
    nowZero: fit.nowZero,
    ...(contrastAllZero === null ? {} : { contrastAllZero }),
    ...(lrt === null ? {} : { lrt: { stat: lrt.stat, df: lrt.df } }),
  });
  return {
    table: fit.kept === null ? table : resultsOverAllGenes(table, fit.genes.length, fit.kept),
    contrast,
  };
}
