/**
 * The little of pandas that PyDESeq2's tests use, so that the comparisons here are theirs:
 * tables read with `read_csv(index_col=0)`, columns aligned on the row index, and reductions
 * that skip NaN (`Series.max()`), with R's `NA` and fedseq's empty cells read as NaN.
 */
import { readCsv } from "../../src/io/csv.js";

/** A CSV table whose first column is the row index and whose other columns are numbers. */
export interface Frame {
  readonly file: string;
  /** Row ids (the first column). */
  readonly index: readonly string[];
  /** Column names after the index column. */
  readonly columns: readonly string[];
  /** A column as numbers (`NA`, `NaN` and empty cells → NaN; TRUE/true → 1, FALSE/false → 0). */
  col(name: string): Float64Array;
  /** A column as written. */
  text(name: string): string[];
  /** A column reindexed on `index` (pandas' alignment): NaN for ids the frame lacks. */
  on(name: string, index: readonly string[]): Float64Array;
}

function parseCell(v: string): number {
  if (v === "TRUE" || v === "true") return 1;
  if (v === "FALSE" || v === "false") return 0;
  if (v === "" || v === "NA" || v === "NaN" || v === "nan") return Number.NaN;
  if (v === "Inf") return Number.POSITIVE_INFINITY;
  if (v === "-Inf") return Number.NEGATIVE_INFINITY;
  return Number(v);
}

/** Read `file` as pandas' `read_csv(file, index_col=0)` would. */
export function readFrame(file: string): Frame {
  const table = readCsv(file);
  const index = table.rows.map((r) => r.fields[0]);
  const columns = table.header.slice(1);
  const position = new Map(index.map((id, i) => [id, i]));
  const k = (name: string) => {
    const j = table.header.indexOf(name);
    if (j < 1) throw new Error(`${file}: no column ${name} (columns: ${columns.join(", ")})`);
    return j;
  };
  const frame: Frame = {
    file,
    index,
    columns,
    text: (name) => table.rows.map((r) => r.fields[k(name)]),
    col: (name) => Float64Array.from(frame.text(name), parseCell),
    on(name, ids) {
      const values = frame.col(name);
      return Float64Array.from(ids, (id) => {
        const i = position.get(id);
        return i === undefined ? Number.NaN : values[i];
      });
    },
  };
  return frame;
}

/** pandas' `abs(r - x) / abs(r)`, element-wise (0/0 = NaN, x/0 = ±Inf, as NumPy). */
export function relativeErrors(r: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: r.length }, (_, i) => Math.abs(r[i] - x[i]) / Math.abs(r[i]));
}

/**
 * pandas' `Series.max()` (skipna): the largest non-NaN value, `Infinity` included; NaN when
 * every value is NaN (and then PyDESeq2's `… .max() < tol` is False).
 */
export function nanMax(values: ArrayLike<number>): number {
  let max = Number.NaN;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    if (Number.isNaN(max) || v > max) max = v;
  }
  return max;
}

/** Positions where exactly one of `a` and `b` is NaN (pandas' `a.isna() == b.isna()` fails). */
export function nanMismatches(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) out.push(i);
  return out;
}

/**
 * NumPy's `assert_array_almost_equal(actual, desired, decimal)`: NaN in the same places, and
 * `abs(desired - actual) < 1.5 * 10**(-decimal)` elsewhere. Returns the largest absolute error
 * over the non-NaN pairs (NaN if none) and the positions that fail.
 */
export function almostEqual(
  actual: ArrayLike<number>,
  desired: ArrayLike<number>,
  decimal: number,
): { maxAbsError: number; failing: number[] } {
  const bound = 1.5 * 10 ** -decimal;
  const failing = nanMismatches(actual, desired);
  let maxAbsError = Number.NaN;
  for (let i = 0; i < desired.length; i++) {
    if (Number.isNaN(actual[i]) || Number.isNaN(desired[i])) continue;
    const e = Math.abs(desired[i] - actual[i]);
    if (Number.isNaN(maxAbsError) || e > maxAbsError) maxAbsError = e;
    if (!(e < bound)) failing.push(i);
  }
  return { maxAbsError, failing };
}
