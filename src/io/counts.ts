/**
 * Validation of counts, shared by every input format: a count is a non-negative integer
 * (a safe integer, so that sums stay exact). Estimated counts (tximport's, salmon's) are
 * not integers: they are rejected with a hint, or rounded when the user asks for it
 * (`--round-counts`, the option `roundCounts`), half to even as R's `round()` does (what
 * `DESeqDataSetFromTximport` applies).
 */
import { isDecimal } from "../core/numbers.js";
import { quote } from "./errors.js";

/** Round half to even (R's `round(x)`, IEC 60559): 0.5 → 0, 1.5 → 2, 2.5 → 2. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Why the number `value` is not a valid count, or `undefined` when it is one; `text` is
 * how the input wrote it (for the message).
 * @param roundCounts - accept non-integers (they are to be rounded with {@link roundHalfEven})
 */
export function countValueProblem(
  value: number,
  text: string,
  roundCounts = false,
): string | undefined {
  if (Number.isNaN(value)) return `count ${quote(text)} is missing`;
  if (value < 0) return `count ${quote(text)} is negative`;
  if (!Number.isFinite(value) || value > Number.MAX_SAFE_INTEGER) {
    return `count ${quote(text)} is too large`;
  }
  if (!roundCounts && !Number.isInteger(value)) {
    return `count ${quote(text)} is not an integer: counts must be integer read counts (round estimated counts first, e.g. tximport's, or pass --round-counts)`;
  }
  return undefined;
}

/**
 * Why `text` is not a valid count, or `undefined` when it is one (a non-negative integer
 * written in decimal, possibly as `12.0` or `1e3`; any non-negative number when
 * `roundCounts`).
 */
export function countProblem(text: string, roundCounts = false): string | undefined {
  if (text === "") return "count is missing (empty field)";
  if (text === "NA" || text === "NaN") return `count ${quote(text)} is missing`;
  if (!isDecimal(text)) return `count ${quote(text)} is not a number`;
  return countValueProblem(Number(text), text, roundCounts);
}

/** The count a valid value stands for: itself, or rounded half to even when `roundCounts`. */
export function countValue(value: number, roundCounts: boolean): number {
  return roundCounts ? roundHalfEven(value) : value;
}

/** Growable Float64Array holding counts while the number of genes is unknown. */
export class CountBuffer {
  private data = new Float64Array(1 << 16);
  /** Number of values written so far. */
  length = 0;

  /** Make room for `extra` more values. */
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Float64Array(size);
    grown.set(this.data.subarray(0, this.length));
    this.data = grown;
  }

  /** Write slot `length + offset` (after {@link reserve}). */
  set(offset: number, value: number): void {
    this.data[this.length + offset] = value;
  }

  /** A copy of the values written. */
  result(): Float64Array {
    return this.data.slice(0, this.length);
  }
}
