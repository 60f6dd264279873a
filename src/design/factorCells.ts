/**
 * The design rows a factor design can have: one per combination of the formula's factor levels,
 * each built by {@link designMatrix} itself (the code that builds every sample's row), so that a
 * center's sample row equals its combination's row bit for bit. The aggregator knows the levels
 * (the `levels` round) and so can list these candidate rows without any center sending its own;
 * the Cook's steps then ask only how many samples each candidate holds (`cooksCellCounts`).
 */
import { InputError, quote } from "../core/errors.js";
import { type DesignLevels, designMatrix, type References } from "./designMatrix.js";
import type { Formula } from "./formula.js";

/**
 * Most level combinations {@link factorCellRows} lists: the candidate rows travel to every
 * center (D×p values) and come back as D counts, so D is kept to what a request can carry.
 */
export const MAX_FACTOR_CELLS = 65_536;

/**
 * Every combination of the formula's factor levels as a design row (D×p, row-major), in
 * mixed-radix order (the last term's levels vary fastest, each term's levels in `levels`'
 * sorted order); null when the formula has a continuous covariate (its values are not
 * enumerable, and no center sends them).
 * @param columns - the design's columns ({@link designColumns}), checked against the rows built
 * @throws InputError when the combinations exceed {@link MAX_FACTOR_CELLS}
 */
export function factorCellRows(
  formula: Formula,
  levels: DesignLevels,
  references: References,
  columns: readonly string[],
): Float64Array | null {
  if (formula.terms.some((term) => !Object.hasOwn(levels, term))) return null;
  let total = 1;
  for (const term of formula.terms) total *= levels[term].length;
  if (total > MAX_FACTOR_CELLS) {
    throw new InputError(
      `design ${quote(formula.text)} has ${total} combinations of factor levels; Cook's distances need at most ${MAX_FACTOR_CELLS} (fewer factors or levels)`,
    );
  }
  // One pseudo-sample per combination, as metadata values, so that the rows come from the same
  // code as every sample's.
  const values = new Map<string, string[]>();
  let stride = total;
  for (const term of formula.terms) {
    const termLevels = levels[term];
    stride /= termLevels.length;
    const column = new Array<string>(total);
    for (let c = 0; c < total; c++)
      column[c] = termLevels[Math.floor(c / stride) % termLevels.length];
    values.set(term, column);
  }
  const design = designMatrix(
    {
      columns: [...formula.terms],
      values,
      // Named so that an intercept-only design (no column to count) has its one row too.
      samples: Array.from({ length: total }, (_, c) => `combination ${c + 1}`),
      source: "the design's level combinations",
    },
    formula,
    levels,
    references,
  );
  if (design.columns.length !== columns.length || design.columns.some((c, j) => c !== columns[j])) {
    throw new Error(
      `factor cells: columns ${design.columns.join(", ")}, the design's are ${columns.join(", ")}`,
    );
  }
  return design.matrix;
}

/** Name of the one cell of a design without factors (every sample is in it). */
export const WHOLE_CENTER_CELL = "all samples";

/**
 * One factor's part of a cell key, `factor=level`, with `%`, `,` and `=` written `%25`, `%2C` and
 * `%3D` in both: the keys of two cells never coincide (with `~ a + b`, a=`x`, b=`y,b=z` and
 * a=`x,b=y`, b=`z` were both `a=x,b=y,b=z`, one cell to the k-sample rule). Levels without those
 * characters are written as they are.
 */
function cellKeyPart(factor: string, level: string): string {
  return `${escapeKeyText(factor)}=${escapeKeyText(level)}`;
}

function escapeKeyText(text: string): string {
  return text.replace(/[%,=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Each sample's cell key: its level of every factor, in the order given (`tissue=heart`,
 * `batch=b1,condition=A`; see {@link cellKeyPart}), or {@link WHOLE_CENTER_CELL} without factors.
 * @param values - per factor, its values in sample order (a metadata column)
 * @param n - the samples
 */
export function cellKeys(
  factors: readonly string[],
  values: readonly (readonly string[])[],
  n: number,
): string[] {
  if (factors.length === 0) return new Array<string>(n).fill(WHOLE_CENTER_CELL);
  return Array.from({ length: n }, (_, i) =>
    factors.map((f, k) => cellKeyPart(f, values[k][i])).join(","),
  );
}

/**
 * Every cell of a factor design with its key, in a fixed order (levels as listed, last factor
 * fastest): each key's levels, one per factor.
 * @throws InputError past {@link MAX_FACTOR_CELLS} combinations
 */
export function cellLevels(
  factors: readonly string[],
  levels: DesignLevels,
): Map<string, readonly string[]> {
  let cells: { key: string; levels: string[] }[] = [{ key: "", levels: [] }];
  for (const f of factors) {
    const next: { key: string; levels: string[] }[] = [];
    for (const cell of cells)
      for (const level of levels[f] ?? [])
        next.push({
          key: cell.key === "" ? cellKeyPart(f, level) : `${cell.key},${cellKeyPart(f, level)}`,
          levels: [...cell.levels, level],
        });
    if (next.length > MAX_FACTOR_CELLS)
      throw new InputError(
        `the design has more than ${MAX_FACTOR_CELLS} combinations of factor levels`,
      );
    cells = next;
  }
  if (factors.length === 0) return new Map([[WHOLE_CENTER_CELL, []]]);
  return new Map(cells.map((c) => [c.key, c.levels]));
}

/**
 * Every cell key of a factor design, in a fixed order (levels as listed, last factor fastest).
 * @throws InputError past {@link MAX_FACTOR_CELLS} combinations
 */
export function allCellKeys(factors: readonly string[], levels: DesignLevels): string[] {
  return [...cellLevels(factors, levels).keys()];
}
