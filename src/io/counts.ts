/**
 * Validation of counts, shared by every input format: a count is a non-negative integer
 * (a safe integer, so that sums stay exact). Estimated counts (tximport's, salmon's) are
 * not integers: they are rejected with a hint, or rounded when the user asks for it
 * (`--round-counts`, the option `roundCounts`), half to even as R's `round()` does (what
 * `DESeqDataSetFromTximport` applies).
 */
import { isDecimal, isDigits } from "../core/numbers.js";
import { type Delimiter, decimalPointText, detectDelimiter } from "./csv.js";
import { InputError, quote } from "./errors.js";

/** Round half to even (R's `round(x)`, IEC 60559): 0.5 → 0, 1.5 → 2, 2.5 → 2. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The largest count: R's largest integer, 2^31 − 1, beyond which DESeq2 refuses a count matrix
 * (its counts are R integers; a larger value becomes NA). Larger counts also overflow the public
 * bounds of secure aggregation's sums (a count of 1e12 stopped a run mid-way, exit 3).
 */
export const MAX_COUNT = 2_147_483_647;

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
  if (!Number.isFinite(value) || value > MAX_COUNT) {
    return `count ${quote(text)} is too large: DESeq2 takes counts up to ${MAX_COUNT} (R's largest integer)`;
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

/**
 * The reader of a text file's counts (a counts table, an HTSeq-count file): each count checked
 * ({@link countProblem}) and rounded when `roundCounts`. In a semicolon-separated file (a
 * decimal-comma locale's) an estimated count `405,4` is 405.4; `given`, the file's delimiter when
 * it is not its header's (an HTSeq-count file's tab).
 * @returns a function of a field's text and, for its message, where it is (`line 3 (gene g1)`)
 * @throws (the function) InputError naming the file, where the count is, and the problem
 */
export function countReader(
  file: string,
  roundCounts: boolean,
  given?: Delimiter,
): (text: string, where: () => string) => number {
  const delimiter = given ?? detectDelimiter(file);
  return (text, where) => {
    // Fast path: plain digits, up to 9 of them (below MAX_COUNT, R's largest integer).
    if (text.length <= 9 && isDigits(text)) return Number(text);
    const read = decimalPointText(delimiter, text);
    const problem = countProblem(read, roundCounts);
    if (problem !== undefined) throw new InputError(`${file}: ${where()}: ${problem}`);
    return countValue(Number(read), roundCounts);
  };
}

/** Values of a {@link CountBuffer}'s first chunk, and of its largest (8 MB). */
const FIRST_CHUNK = 1 << 16;
const LARGEST_CHUNK = 1 << 20;
const EMPTY = new Float64Array(0);

/**
 * Counts held while the number of genes is unknown. With a bound on their number
 * ({@link expect}: the reader counted the file's lines first), in one array in shared memory
 * that {@link result} returns as it is. Without one, in chunks that are filled and never copied
 * while reading (a doubling array copies its whole content at each growth, and then once more to
 * its exact size: three times the counts at the last growth), then joined once by
 * {@link result}: the chunks are garbage from then on, but until a full garbage collection
 * frees them a process holds the counts twice.
 */
export class CountBuffer {
  /** The chunks filled, and how many values each holds (a row never straddles two). */
  private readonly chunks: Float64Array<ArrayBufferLike>[] = [];
  private readonly fills: number[] = [];
  /** The chunk being filled, and the number of values written before it. */
  private current: Float64Array<ArrayBufferLike> = new Float64Array(FIRST_CHUNK);
  private start = 0;
  /** Number of values written so far. */
  length = 0;

  /**
   * At most `values` values are coming (before any is written): hold them in one array in
   * shared memory. A large allocation's zeroed pages are mapped as they are first written, so
   * an upper bound costs little beyond the values themselves.
   */
  expect(values: number): void {
    if (this.length !== 0 || this.chunks.length !== 0) throw new Error("expect() after writing");
    this.current = new Float64Array(new SharedArrayBuffer(values * 8));
  }

  /** Make room for `extra` more values, written next by {@link set} in one chunk. */
  reserve(extra: number): void {
    const used = this.length - this.start;
    if (used + extra <= this.current.length) return;
    this.chunks.push(this.current);
    this.fills.push(used);
    // Chunks grow with the file, up to LARGEST_CHUNK: few for a large table, small for a small one.
    const size = Math.max(Math.min(this.current.length * 2, LARGEST_CHUNK), extra);
    this.current = new Float64Array(size);
    this.start = this.length;
  }

  /** Write slot `length + offset` (after {@link reserve}). */
  set(offset: number, value: number): void {
    this.current[this.length - this.start + offset] = value;
  }

  /**
   * The values written, in one array in shared memory: a center's worker pool then reads the
   * counts where they are instead of copying them (compute/genePool.ts). Each chunk is let go once
   * copied; call it once.
   */
  result(): Float64Array {
    if (this.chunks.length === 0 && this.current.buffer instanceof SharedArrayBuffer) {
      const out = this.current.subarray(0, this.length);
      this.current = EMPTY;
      return out;
    }
    const out = new Float64Array(new SharedArrayBuffer(this.length * 8));
    let at = 0;
    for (let c = 0; c < this.chunks.length; c++) {
      out.set(this.chunks[c].subarray(0, this.fills[c]), at);
      at += this.fills[c];
      this.chunks[c] = EMPTY;
    }
    out.set(this.current.subarray(0, this.length - this.start), at);
    this.current = EMPTY;
    return out;
  }
}
