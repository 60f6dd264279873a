/**
 * The design matrix, built as DESeq2 builds it with R's `model.matrix`: an intercept,
 * then for each formula term either one column (a continuous variable: all its values are
 * numbers) or treatment-coded indicator columns (a factor: one column per non-reference
 * level), with DESeq2's `resultsNames`-style column names.
 *
 * The factor levels are the union over centers, found the federated way: each center
 * computes {@link localLevels} from its own metadata and shares only that; the aggregator
 * merges the shares with {@link mergeLevels}; each center then builds its rows with
 * {@link designMatrix}. The global Gram matrix (sum of the centers' {@link localGram}) is
 * checked with {@link checkFullRank}.
 */

import { InputError, listForMessage, quote } from "../core/errors.js";
import { isDecimal } from "../core/numbers.js";
import { type Formula, hasIntercept, isFactorCall } from "./formula.js";
import type { Metadata } from "./metadata.js";

/**
 * Levels of the factors of a design: factor name → its distinct levels, sorted. A formula
 * term with no entry is continuous (all its values are numbers).
 */
export type DesignLevels = Record<string, string[]>;

/** Reference level chosen per factor (factor name → level); others default. */
export type References = Readonly<Record<string, string>>;

/** A design matrix: named columns, rows in sample order. */
export interface DesignMatrix {
  /** Column names: `Intercept`, then e.g. `age`, `tissue_blood_vs_adipose`. */
  columns: string[];
  /** Row-major n×p values, p = `columns.length`. */
  matrix: Float64Array;
}

/** Name of the intercept column (DESeq2 renames R's `(Intercept)` this way). */
export const INTERCEPT = "Intercept";

const R_RESERVED = new Set([
  "if",
  "else",
  "repeat",
  "while",
  "function",
  "for",
  "next",
  "break",
  "TRUE",
  "FALSE",
  "NULL",
  "Inf",
  "NaN",
  "NA",
  "NA_integer_",
  "NA_real_",
  "NA_character_",
  "in",
]);

/**
 * R's `make.names` for one name (as DESeq2 applies it to coefficient names) in a UTF-8 locale,
 * where letters are any script's (é, ü, 日本): every character other than a letter, a decimal
 * digit, `.` or `_` becomes `.` (a space, `-`, `²`, a combining accent); `X` is prepended when the
 * name does not start with a letter or with a dot not followed by a digit; `.` is appended to a
 * reserved word.
 */
export function makeRName(name: string): string {
  let result = name.replace(/[^\p{L}\p{Nd}._]/gu, ".");
  if (!/^(?:\p{L}|\.(?!\p{Nd}))/u.test(result)) result = `X${result}`;
  if (R_RESERVED.has(result)) result = `${result}.`;
  return result;
}

/** The values of one formula variable, or an InputError naming the available columns. */
function termValues(metadata: Metadata, term: string): string[] {
  const values = metadata.values.get(term);
  if (values === undefined || !metadata.columns.includes(term)) {
    throw new InputError(
      `design variable ${quote(term)} is not a column of ${metadata.source ?? "the metadata"} (columns: ${listForMessage(metadata.columns, 12)})`,
    );
  }
  values.forEach((value, i) => {
    if (value === "" || value === "NA") {
      const sample = metadata.samples?.[i] ?? `row ${i + 1}`;
      throw new InputError(
        `${metadata.source ?? "metadata"}: sample ${sample}, column ${term}: missing value ${quote(value)} in a design variable`,
      );
    }
  });
  return values;
}

/**
 * What one center shares about the design: for each factor of the formula, the distinct
 * levels of its own samples (sorted). Variables whose values are all numbers are
 * continuous and get no entry (their values are not shared). A center without samples
 * shares an empty list for every variable.
 * @throws InputError when a variable is not a metadata column, or has an empty or `NA` value
 */
export function localLevels(metadata: Metadata, formula: Formula): DesignLevels {
  const share: DesignLevels = {};
  for (const term of formula.terms) {
    const values = termValues(metadata, term);
    const numeric = values.length > 0 && values.every(isDecimal);
    if (numeric && !isFactorCall(formula, term)) continue;
    if (numeric) {
      // factor(x) levels are R's labels of the numbers: "1.0" and "1" are one level, "1"; a
      // value written otherwise would not name the level DESeq2 names, so it is refused.
      values.forEach((value, i) => {
        const label = rNumberLabel(Number(value));
        if (value !== label)
          throw new InputError(
            `${metadata.source ?? "metadata"}: sample ${metadata.samples?.[i] ?? `row ${i + 1}`}, column ${term}: factor(${term}) reads ${quote(value)} as the number R labels ${quote(label)}: write it ${quote(label)} (or give the levels as text)`,
          );
      });
    }
    share[term] = sortLevels([...new Set(values)]);
  }
  return share;
}

/**
 * The label R gives a number as a factor level (`as.character`): the fewest significant digits
 * (up to 15) that give the number to 15 digits, in fixed notation unless scientific is shorter
 * (1, 2.5, 10, 1e+05, 123456, 1e-04, 0.001).
 */
export function rNumberLabel(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const target = Number(x.toPrecision(15));
  let d = 1;
  while (d < 15 && Number(x.toPrecision(d)) !== target) d++;
  const [mantissa, exponent] = target.toExponential(d - 1).split("e");
  const e = Number(exponent);
  const scientific = `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  if (Math.abs(target) >= 1e21) return scientific;
  const fixed = target.toFixed(Math.max(0, d - 1 - e));
  return fixed.length <= scientific.length ? fixed : scientific;
}

/**
 * R's order of text levels: `factor()` sorts them with the locale's collation, which R built with
 * ICU (Debian's, CRAN's) takes from ICU in every locale but C and POSIX: letters before their
 * capitals, case second to the letters (control < ctl < Ctl < Treated), punctuation before
 * digits before letters. Node's ICU orders them the same (a code-unit tie-break for texts ICU
 * finds equal). In R's C locale the order is the code units' (Treated < control): then the
 * reference level differs, and `--reference` says which.
 */
const R_COLLATION = new Intl.Collator("en");

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Levels in R's order: text levels as R's `factor()` sorts them (see {@link R_COLLATION}), levels
 * that are all numbers (a `factor(x)`) in numeric order (1, 2, 10).
 */
export function sortLevels(levels: string[]): string[] {
  if (levels.length > 0 && levels.every(isDecimal))
    return levels.sort((a, b) => Number(a) - Number(b) || compareCodeUnits(a, b));
  return levels.sort((a, b) => R_COLLATION.compare(a, b) || compareCodeUnits(a, b));
}

/**
 * The design's numeric variables whose values are all whole numbers, with their distinct values
 * (sorted): fitted as continuous covariates, as DESeq2 fits them, which warns "the design formula
 * contains one or more numeric variables with integer values … did you mean for this to be a
 * factor?" (a `batch` coded 1, 2, 3 is easily meant as a factor).
 */
export function integerCovariates(
  metadata: Metadata,
  formula: Formula,
): { variable: string; values: number[] }[] {
  const out: { variable: string; values: number[] }[] = [];
  for (const term of formula.terms) {
    const values = termValues(metadata, term);
    if (values.length === 0 || !values.every(isDecimal) || isFactorCall(formula, term)) continue;
    const numbers = values.map(Number);
    if (!numbers.every(Number.isInteger)) continue;
    out.push({ variable: term, values: [...new Set(numbers)].sort((a, b) => a - b) });
  }
  return out;
}

/**
 * For a user who holds every center's metadata (`run --data`): a design variable that holds
 * only numbers at some centers and a value that is not a number at another is refused naming
 * that file, sample, column and value ({@link mergeLevels}, which sees only the centers'
 * levels, would refuse it without saying where).
 * @throws InputError naming the first value that is not a number
 */
export function checkMixedNumeric(metadatas: readonly Metadata[], formula: Formula): void {
  for (const term of formula.terms) {
    if (isFactorCall(formula, term)) continue;
    const perCenter = metadatas.map((m) => termValues(m, term));
    const numericAt = perCenter.filter((v) => v.length > 0 && v.every(isDecimal)).length;
    const mixedAt = perCenter.findIndex((v) => v.length > 0 && !v.every(isDecimal));
    if (numericAt === 0 || mixedAt < 0) continue;
    const m = metadatas[mixedAt];
    const values = perCenter[mixedAt];
    const i = values.findIndex((v) => !isDecimal(v));
    throw new InputError(
      `${m.source ?? "metadata"}: sample ${m.samples?.[i] ?? `row ${i + 1}`}, column ${term}: ${quote(values[i])} is not a number, but ${term} holds only numbers at ${numericAt} center(s): make it numeric everywhere, or a factor everywhere (e.g. "dose_10" instead of 10)`,
    );
  }
}

/**
 * Merge the centers' {@link localLevels}: the union of each factor's levels, sorted. A
 * variable that only centers without samples list (with no level) stays continuous.
 * @throws InputError when a variable is numeric at some centers and not at others (the
 *   numeric centers would have to reveal their values to treat it as a factor)
 */
export function mergeLevels(shares: readonly DesignLevels[]): DesignLevels {
  const merged: Record<string, Set<string>> = {};
  for (const share of shares) {
    for (const [factor, levels] of Object.entries(share)) {
      merged[factor] ??= new Set();
      for (const level of levels) merged[factor].add(level);
    }
  }
  const result: DesignLevels = {};
  for (const [factor, levels] of Object.entries(merged)) {
    // Only centers without samples share an empty list: no information either way.
    if (levels.size === 0) continue;
    const numericAt = shares.filter((share) => !Object.hasOwn(share, factor)).length;
    if (numericAt > 0) {
      // The other centers' levels travel anyway: name the values that are not numbers (a typo
      // such as "abc" or "n/a" in a numeric column is the usual cause).
      const notNumbers = [...levels].filter((level) => !isDecimal(level));
      const which =
        notNumbers.length > 0
          ? ` (not numbers: ${listForMessage(
              notNumbers.map((x) => quote(x)),
              5,
            )})`
          : "";
      throw new InputError(
        `design variable ${quote(factor)} has only numbers at ${numericAt} center(s) but not at the others${which}: make it numeric everywhere, or a factor everywhere (e.g. "dose_10" instead of 10)`,
      );
    }
    result[factor] = sortLevels([...levels]);
  }
  return result;
}

/**
 * Check that `level` is one of the levels of `factor` (e.g. a reference or contrast level).
 * @param what - what the level is for, in the message, e.g. `reference level`
 * @throws InputError when `factor` is not a factor of the design, or the level is present in
 *   no center
 */
export function requireLevel(
  levels: DesignLevels,
  factor: string,
  level: string,
  what = "level",
): void {
  const known = levels[factor];
  if (!Object.hasOwn(levels, factor) || known === undefined) {
    throw new InputError(
      `${what} ${quote(level)} is given for ${quote(factor)}, which is not a factor of the design (factors: ${listForMessage(Object.keys(levels))})`,
    );
  }
  if (!known.includes(level)) {
    throw new InputError(
      `${what} ${quote(level)} of ${factor} is present in no center (levels: ${listForMessage(known, 12)})`,
    );
  }
}

/** The reference level of a factor: as chosen, or the first in sorted order. */
function referenceOf(levels: DesignLevels, factor: string, references: References): string {
  return references[factor] ?? levels[factor][0];
}

/**
 * The design's column names, in order: `Intercept`; then per term either the variable's
 * name (continuous) or `<factor>_<level>_vs_<reference>` for each non-reference level in
 * sorted order; names pass through {@link makeRName} as in DESeq2's `resultsNames`.
 * @throws InputError for a bad reference ({@link requireLevel}), a factor with a single
 *   level, or two levels giving the same column name
 */
export function designColumns(
  formula: Formula,
  levels: DesignLevels,
  references: References = {},
): string[] {
  for (const [factor, level] of Object.entries(references)) {
    if (!formula.terms.includes(factor) || !Object.hasOwn(levels, factor)) {
      const factors = formula.terms.filter((t) => Object.hasOwn(levels, t));
      throw new InputError(
        `reference level ${quote(level)} is given for ${quote(factor)}, which is not a factor of the design ${quote(formula.text)} (factors: ${listForMessage(factors)})`,
      );
    }
    requireLevel(levels, factor, level, "reference level");
  }
  const columns = hasIntercept(formula) ? [INTERCEPT] : [];
  for (const term of formula.terms) {
    if (!Object.hasOwn(levels, term)) {
      columns.push(makeRName(term));
      continue;
    }
    const factorLevels = levels[term];
    if (factorLevels.length < 2 && !isFullyCoded(formula, levels, term)) {
      throw new InputError(
        `design factor ${term} has a single level ${quote(factorLevels[0] ?? "")} across all centers: its effect cannot be estimated (remove it from the design)`,
      );
    }
    for (const level of codedLevels(formula, levels, references, term))
      columns.push(levelColumnName(formula, levels, references, term, level));
  }
  for (const column of interactionColumns(formula, levels, references)) columns.push(column.name);
  columns.forEach((name, j) => {
    if (columns.indexOf(name) !== j) {
      throw new InputError(
        `design ${quote(formula.text)}: two coefficients would both be named ${name} (level names differing only in characters other than letters, digits, "." and "_")`,
      );
    }
  });
  return columns;
}

/**
 * Whether a factor gets a column for every level: the first factor of a design without an
 * intercept (R's `model.matrix` drops the contrasts of that one).
 */
function isFullyCoded(formula: Formula, levels: DesignLevels, term: string): boolean {
  return !hasIntercept(formula) && formula.terms.find((t) => Object.hasOwn(levels, t)) === term;
}

/**
 * The levels of a factor that have a main-effect column, in column order: every level, the
 * reference first (R's `relevel`), for a fully coded factor; else the non-reference levels.
 */
export function codedLevels(
  formula: Formula,
  levels: DesignLevels,
  references: References,
  term: string,
): string[] {
  const reference = referenceOf(levels, term, references);
  const others = levels[term].filter((level) => level !== reference);
  return isFullyCoded(formula, levels, term) ? [reference, ...others] : others;
}

/**
 * The main-effect column of a factor's level, named as DESeq2's `resultsNames`: with an
 * intercept `<factor>_<level>_vs_<reference>`, and `factor.x.<level>` for a `factor(x)` (R's
 * `factor(x)2` through `make.names`); without an intercept R's own `<factor><level>`.
 */
export function levelColumnName(
  formula: Formula,
  levels: DesignLevels,
  references: References,
  term: string,
  level: string,
): string {
  if (isFactorCall(formula, term)) return makeRName(`factor(${term})${level}`);
  if (!hasIntercept(formula)) return makeRName(`${term}${level}`);
  return makeRName(`${term}_${level}_vs_${referenceOf(levels, term, references)}`);
}

/** One column of an interaction term: per variable, the level it indicates (null: continuous). */
interface InteractionColumn {
  readonly name: string;
  readonly variables: readonly string[];
  readonly levels: readonly (string | null)[];
}

/**
 * The columns of the formula's interaction terms, as R's `model.matrix` makes them with
 * treatment contrasts (every variable of an interaction being a main effect): per term, one
 * column per combination of the factors' non-reference levels (the first variable's level
 * varying fastest), named `<factor><level>` or `<variable>` joined by `.` (R's `a2:b2` through
 * `make.names`, as DESeq2's `resultsNames`: `centerlab_2.conditionB`).
 */
function interactionColumns(
  formula: Formula,
  levels: DesignLevels,
  references: References,
): InteractionColumn[] {
  const out: InteractionColumn[] = [];
  for (const variables of formula.interactions ?? []) {
    let combos: { parts: string[]; levels: (string | null)[] }[] = [{ parts: [], levels: [] }];
    for (const variable of variables) {
      const options: { part: string; level: string | null }[] = Object.hasOwn(levels, variable)
        ? levels[variable]
            .filter((level) => level !== referenceOf(levels, variable, references))
            .map((level) => ({ part: `${variable}${level}`, level }))
        : [{ part: variable, level: null }];
      const next: typeof combos = [];
      // The first variable varies fastest: extend with the new variable in the outer loop.
      for (const option of options)
        for (const combo of combos)
          next.push({
            parts: [...combo.parts, option.part],
            levels: [...combo.levels, option.level],
          });
      combos = next;
    }
    for (const combo of combos)
      out.push({ name: makeRName(combo.parts.join(":")), variables, levels: combo.levels });
  }
  return out;
}

/**
 * One center's design matrix (rows in the order of `metadata`'s samples), with the merged
 * `levels` of all centers so that every center has the same columns.
 * @throws InputError as {@link designColumns}; when a variable is not a metadata column or
 *   has a missing value; when a sample's level is not in `levels`, or a continuous
 *   variable's value is not a number
 */
export function designMatrix(
  metadata: Metadata,
  formula: Formula,
  levels: DesignLevels,
  references: References = {},
): DesignMatrix {
  const columns = designColumns(formula, levels, references);
  const p = columns.length;
  const valuesOf = formula.terms.map((term) => termValues(metadata, term));
  // An intercept-only design (`~ 1`) reads no column: its rows are the samples.
  const n =
    valuesOf.length > 0
      ? valuesOf[0].length
      : (metadata.samples?.length ?? metadata.values.values().next().value?.length ?? 0);
  const matrix = new Float64Array(n * p);
  const where = (i: number, term: string) =>
    `${metadata.source ?? "metadata"}: sample ${metadata.samples?.[i] ?? `row ${i + 1}`}, column ${term}`;
  const intercept = hasIntercept(formula);
  if (intercept) for (let i = 0; i < n; i++) matrix[i * p] = 1;
  let offset = intercept ? 1 : 0;
  formula.terms.forEach((term, t) => {
    const values = valuesOf[t];
    if (!Object.hasOwn(levels, term)) {
      values.forEach((value, i) => {
        if (!isDecimal(value)) {
          throw new InputError(
            `${where(i, term)}: ${quote(value)} is not a number, but ${term} is a continuous variable`,
          );
        }
        matrix[i * p + offset] = Number(value);
      });
      offset += 1;
      return;
    }
    const coded = codedLevels(formula, levels, references, term);
    const columnOf = new Map(coded.map((level, k) => [level, offset + k]));
    values.forEach((value, i) => {
      const j = columnOf.get(value);
      if (j === undefined) {
        if (levels[term].includes(value)) return; // the reference level: no column

        throw new InputError(
          `${where(i, term)}: level ${quote(value)} is not among the design's levels (${listForMessage(levels[term], 12)})`,
        );
      }
      matrix[i * p + j] = 1;
    });
    offset += coded.length;
  });
  // Interaction columns: products of the variables' values (a factor's: 1 at the level).
  for (const column of interactionColumns(formula, levels, references)) {
    const values = column.variables.map((v) => valuesOf[formula.terms.indexOf(v)]);
    for (let i = 0; i < n; i++) {
      let x = 1;
      for (let k = 0; k < values.length; k++) {
        const level = column.levels[k];
        x *= level === null ? Number(values[k][i]) : values[k][i] === level ? 1 : 0;
      }
      matrix[i * p + offset] = x;
    }
    offset++;
  }
  return { columns, matrix };
}

/**
 * XᵀX of one center's design matrix (p×p, row-major): the centers' Gram matrices sum to
 * the global one, which {@link checkFullRank} checks.
 */
export function localGram(design: DesignMatrix): Float64Array {
  const p = design.columns.length;
  const x = design.matrix;
  const n = x.length / p;
  const gram = new Float64Array(p * p);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < p; a++) {
      const xa = x[i * p + a];
      if (xa === 0) continue;
      for (let b = a; b < p; b++) gram[a * p + b] += xa * x[i * p + b];
    }
  }
  for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) gram[a * p + b] = gram[b * p + a];
  return gram;
}

/** Relative tolerance on squared residual norms below which a column counts as dependent. */
const RANK_TOLERANCE = 1e-10;

/**
 * Check that the design has full column rank, from the global Gram matrix XᵀX: a
 * Cholesky factorisation that skips every column whose residual, after projection on the
 * earlier independent columns, is below a relative tolerance (Gram–Schmidt on XᵀX).
 * @param gram - XᵀX, p×p row-major (only the upper triangle is read)
 * @param columns - the p column names, for the message
 * @throws InputError `design is rank-deficient: columns X and Y are confounded`, naming each
 *   dependent column with the earlier columns it is a linear combination of
 */
export function checkFullRank(gram: Float64Array, p: number, columns: readonly string[]): void {
  const r = new Float64Array(p * p); // upper-triangular factor, rows of the basis columns
  const basis: number[] = [];
  const groups: string[] = [];
  for (let j = 0; j < p; j++) {
    const gjj = gram[j * p + j];
    let residual = gjj;
    for (let b = 0; b < basis.length; b++) {
      const k = basis[b];
      let s = gram[k * p + j];
      for (let c = 0; c < b; c++) s -= r[basis[c] * p + k] * r[basis[c] * p + j];
      r[k * p + j] = s / r[k * p + k];
      residual -= r[k * p + j] * r[k * p + j];
    }
    if (gjj > 0 && residual > RANK_TOLERANCE * gjj) {
      r[j * p + j] = Math.sqrt(residual);
      basis.push(j);
      continue;
    }
    if (!(gjj > 0)) {
      groups.push(`column ${columns[j]} is all zero`);
      continue;
    }
    // Coefficients of column j on the basis: back-substitution R_B c = r_Bj.
    const coef = new Float64Array(basis.length);
    for (let b = basis.length - 1; b >= 0; b--) {
      const k = basis[b];
      let s = r[k * p + j];
      for (let c = b + 1; c < basis.length; c++) s -= r[k * p + basis[c]] * coef[c];
      coef[b] = s / r[k * p + k];
    }
    const involved = basis.filter(
      (k, b) => Math.abs(coef[b]) * Math.sqrt(gram[k * p + k]) > 1e-6 * Math.sqrt(gjj),
    );
    const names = [...involved, j].sort((a, b) => a - b).map((k) => columns[k]);
    groups.push(`columns ${listForMessage(names, 8)} are confounded`);
  }
  if (groups.length > 0) {
    throw new InputError(
      `design is rank-deficient: ${groups.join("; ")} (remove a term, or check that the factors vary independently)`,
    );
  }
}
