/**
 * Contrasts: which combination of the design's coefficients a results table reports, as
 * DESeq2's `results(dds, contrast = c(factor, level, reference))` or `results(dds, name = x)`.
 */
import type { DesignLevels } from "../design/designMatrix.js";
import { makeRName } from "../design/designMatrix.js";
import { type Formula, hasIntercept, isFactorCall } from "../design/formula.js";
import { InputError, listForMessage, quote } from "../io/errors.js";

/**
 * A contrast as the user gives it: `factor,level,reference` (`--contrast`), a continuous
 * variable's name (`--contrast`), a coefficient's name as DESeq2's `results(name = …)` (`--name`),
 * or a numeric contrast, one weight per coefficient (`--contrast-vector`).
 */
export type ContrastSpec =
  | {
      readonly kind: "levels";
      readonly factor: string;
      readonly level: string;
      readonly reference: string;
    }
  | { readonly kind: "variable"; readonly name: string }
  | { readonly kind: "coefficient"; readonly name: string }
  | { readonly kind: "vector"; readonly weights: readonly number[] };

/** A resolved contrast: weights on the design's coefficients and a description. */
export interface Contrast {
  /** Weights c (cᵀβ is the reported log fold change), one per design column. */
  readonly weights: Float64Array;
  /** DESeq2-style description, e.g. "tissue skeletal_muscle vs adipose". */
  readonly description: string;
}

/**
 * Parse `--contrast`: "factor,level,reference" or a single continuous variable name.
 * @throws InputError for any other shape
 */
export function parseContrast(text: string): ContrastSpec {
  const parts = text.split(",").map((s) => s.trim());
  if (parts.length === 3 && parts.every((s) => s !== "")) {
    return { kind: "levels", factor: parts[0], level: parts[1], reference: parts[2] };
  }
  if (parts.length === 1 && parts[0] !== "") return { kind: "variable", name: parts[0] };
  throw new InputError(
    `--contrast ${quote(text)}: expected factor,level,reference (e.g. condition,treated,control) or the name of a continuous variable`,
  );
}

/**
 * Parse `--contrast-vector`: comma-separated finite numbers, one per coefficient, as DESeq2's
 * numeric `contrast` (e.g. `0,1,-1`).
 * @throws InputError naming the value that is not a number
 */
export function parseContrastVector(text: string): ContrastSpec {
  const parts = text.split(",").map((s) => s.trim());
  const weights = parts.map((part) => {
    const x = part === "" ? Number.NaN : Number(part);
    if (!Number.isFinite(x))
      throw new InputError(
        `--contrast-vector ${quote(text)}: ${quote(part)} is not a number (expected one weight per coefficient, e.g. 0,1,-1)`,
      );
    return x;
  });
  if (weights.every((w) => w === 0))
    throw new InputError(`--contrast-vector ${quote(text)}: every weight is 0`);
  return { kind: "vector", weights };
}

/**
 * The contrast's weights over `columns` (as built by `designColumns` with the design's reference
 * levels). Without a spec: the last column, as DESeq2's `results(dds)` (the last variable's last
 * level against its reference, or the last continuous variable).
 * @throws InputError naming the factor, level or variable that the design does not have
 */
export function resolveContrast(
  spec: ContrastSpec | undefined,
  formula: Formula,
  levels: DesignLevels,
  columns: readonly string[],
): Contrast {
  const p = columns.length;
  const weights = new Float64Array(p);
  if (spec === undefined) {
    const last = formula.terms[formula.terms.length - 1];
    const implicit = defaultLevelsContrast(formula, levels, columns);
    if (implicit !== undefined) return resolveContrast(implicit, formula, levels, columns);
    weights[p - 1] = 1;
    // With interactions the last column is an interaction's (DESeq2's results() names it).
    if ((formula.interactions ?? []).length > 0) return { weights, description: columns[p - 1] };
    const pair = Object.hasOwn(levels, last)
      ? columnLevels(columns[p - 1], last, levels, formula)
      : undefined;
    const description =
      pair === undefined
        ? last
        : pair.reference === null
          ? columns[p - 1]
          : `${last} ${pair.level} vs ${pair.reference}`;
    return { weights, description };
  }
  if (spec.kind === "coefficient") {
    const k = columns.indexOf(spec.name);
    if (k < 0)
      throw new InputError(
        `--name ${quote(spec.name)}: not a coefficient of the design (resultsNames: ${listForMessage(columns, 12)})`,
      );
    weights[k] = 1;
    const factor = formula.terms.find(
      (t) => Object.hasOwn(levels, t) && columnLevels(spec.name, t, levels, formula) !== undefined,
    );
    const pair =
      factor === undefined ? undefined : columnLevels(spec.name, factor, levels, formula);
    return {
      weights,
      description:
        pair === undefined || pair.reference === null
          ? spec.name
          : `${factor} ${pair.level} vs ${pair.reference}`,
    };
  }
  if (spec.kind === "vector") {
    if (spec.weights.length !== p)
      throw new InputError(
        `--contrast-vector: ${spec.weights.length} weights, the design has ${p} coefficients (${listForMessage(columns, 12)})`,
      );
    weights.set(spec.weights);
    return { weights, description: spec.weights.join(",") };
  }
  if (spec.kind === "variable") {
    if (Object.hasOwn(levels, spec.name) || !formula.terms.includes(spec.name)) {
      const continuous = formula.terms.filter((t) => !Object.hasOwn(levels, t));
      throw new InputError(
        `--contrast ${quote(spec.name)}: not a continuous variable of the design (continuous: ${continuous.length > 0 ? listForMessage(continuous) : "none"}); for a factor give factor,level,reference`,
      );
    }
    weights[columns.indexOf(makeRName(spec.name))] = 1;
    return { weights, description: spec.name };
  }
  const { factor, level, reference } = spec;
  if (!Object.hasOwn(levels, factor)) {
    const factors = formula.terms.filter((t) => Object.hasOwn(levels, t));
    throw new InputError(
      `--contrast: ${quote(factor)} is not a factor of the design (factors: ${listForMessage(factors)})`,
    );
  }
  for (const l of [level, reference]) {
    if (!levels[factor].includes(l)) {
      throw new InputError(
        `--contrast: ${quote(l)} is not a level of ${factor} (levels: ${listForMessage(levels[factor])})`,
      );
    }
  }
  if (level === reference)
    throw new InputError("--contrast: the level and the reference are the same");
  // The column of a level is <factor>_<level>_vs_<design reference>; the design reference has none.
  columns.forEach((column, k) => {
    const pair = columnLevels(column, factor, levels, formula);
    if (pair?.level === level) weights[k] += 1;
    if (pair?.level === reference) weights[k] -= 1;
  });
  return { weights, description: `${factor} ${level} vs ${reference}` };
}

/**
 * The contrast DESeq2's `results()` tests by default in a design without an intercept whose
 * last variable is a factor: its last level against its first (the reference), as a contrast
 * of levels (so that DESeq2's `contrastAllZero` applies to it); undefined otherwise (the
 * default is then the last coefficient).
 */
export function defaultLevelsContrast(
  formula: Formula,
  levels: DesignLevels,
  columns: readonly string[],
): ContrastSpec | undefined {
  const last = formula.terms[formula.terms.length - 1];
  if (hasIntercept(formula) || last === undefined || !Object.hasOwn(levels, last)) return undefined;
  const coded = columns
    .map((c) => columnLevels(c, last, levels, formula)?.level)
    .filter((l): l is string => l !== undefined);
  const level = coded[coded.length - 1];
  // A fully coded factor's first column is its reference; else the level without a column.
  const reference =
    coded.length === levels[last].length ? coded[0] : levels[last].find((l) => !coded.includes(l));
  if (level === undefined || reference === undefined || level === reference) return undefined;
  return { kind: "levels", factor: last, level, reference };
}

/**
 * The level of `factor` whose main-effect column is `column` (designMatrix.ts's
 * `levelColumnName`), and the reference it is measured against when the name says
 * (`<factor>_<level>_vs_<reference>`; a `factor(x)` column or a design without an intercept
 * names none).
 */
function columnLevels(
  column: string,
  factor: string,
  levels: DesignLevels,
  formula: Formula,
): { level: string; reference: string | null } | undefined {
  for (const level of levels[factor]) {
    if (isFactorCall(formula, factor)) {
      if (makeRName(`factor(${factor})${level}`) === column) return { level, reference: null };
      continue;
    }
    if (!hasIntercept(formula)) {
      if (makeRName(`${factor}${level}`) === column) return { level, reference: null };
      continue;
    }
    for (const reference of levels[factor]) {
      if (makeRName(`${factor}_${level}_vs_${reference}`) === column) return { level, reference };
    }
  }
  return undefined;
}
