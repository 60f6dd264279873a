/**
 * Fixed-point encoding of float64 vectors into the ring Z/2^128, where pairwise masks can be
 * added and cancelled exactly (masks only hide a value if the arithmetic wraps around a finite
 * group; float addition neither wraps nor is exact).
 *
 * Representation. A ring vector is a `Uint32Array` with 4 words per element: two little-endian
 * 64-bit limbs, each stored as two little-endian 32-bit words, so that on a little-endian host
 * (every host Node supports in practice; others are refused) an element's 16 bytes are its
 * little-endian 128-bit integer. Negative values are two's complement.
 *
 * Method (no BigInt, no per-element allocation). Every step is float64 arithmetic that is exact
 * by construction:
 * - encode: `n = round(|x|·2^e)` is an integer-valued double (scaling by a power of two is
 *   exact; rounding as `Math.round` is exact); it splits into 64-bit halves hi = ⌊n·2^-64⌋ and
 *   lo = n − hi·2^64 (power-of-two scalings, floors of integers' quotients and subtractions of a
 *   number's own high part are all exact in float64), each a whole double below 2^64 that
 *   converts exactly to a 64-bit limb; a negative value's limbs are then negated (two's
 *   complement). These steps run in the ring module's WebAssembly (math/ring128.ts
 *   `encodeFixedWords`, wasm/ring128.wat), 9.4 ns a split value where JavaScript's took 16;
 * - add/sub: word by word with carries, the sums of two 32-bit words and a carry being < 2^34,
 *   far inside float64's exact integers; the carry out of the top word is dropped (mod 2^128);
 * - decode: the signed 128-bit integer's magnitude is turned into the correctly rounded
 *   (nearest, ties to even) double by taking its top 64 bits, OR-ing a sticky bit for every
 *   lower bit into the last place, and adding the two exact 32-bit halves in one rounded float
 *   addition; then an exact power-of-two scaling by 2^-e.
 *
 * Bounds, for scale exponent e (values are multiples of 2^-e) and n ≤ 2^h centers:
 * - each center's |x| must round below 2^(127-h-e), so |sum| < 2^127 and the signed sum never
 *   wraps; a larger value, NaN or ±∞ is refused ({@link FixedPointError}), never wrapped;
 * - every float64 with |x| ≥ 2^(52-e) is a multiple of 2^-e and is encoded exactly: 75-h binary
 *   orders under the bound (70 orders, ~21 decimal orders, for up to 32 centers); smaller terms
 *   are rounded to the nearest multiple of 2^-e (error ≤ 2^-(e+1) each);
 * - the decoded sum is the correctly rounded float64 of the exact fixed-point sum S·2^-e, so
 *   |decoded − Σ x_i| ≤ n·2^-(e+1) + 2^-53·|S·2^-e|, and when every x_i is exact (within the
 *   window) the decoded value is the correctly rounded exact real sum of the float64 terms.
 */
import { endianness } from "node:os";
import { exactSum } from "../../math/exactSum.js";
import {
  decodeSplitWords,
  encodeFixedWords,
  ringAddSigned2Words,
  ringAddSignedWords,
} from "../../math/ring128.js";
import { FixedPointError, SecureAggregationError } from "./errors.js";

/** 32-bit words per ring element (two 64-bit limbs). */
export const RING_WORDS = 4;

/** Bytes per ring element. */
export const RING_BYTES = 16;

/**
 * The scale exponents allowed: inside this range every scaling by 2^±e and every decoded value
 * stays in float64's normal range, which is what keeps the scalings exact.
 */
export const MIN_SCALE_EXPONENT = -896;
export const MAX_SCALE_EXPONENT = 896;

const TWO32 = 2 ** 32;
const TWO64 = 2 ** 64;
const TWO96 = 2 ** 96;
const MAX_WORD = 0xffffffff;

/** 2^k for k = 0..255 (decode's window shifts), so the hot loops call no Math.pow. */
const POW2 = Float64Array.from({ length: 256 }, (_, k) => 2 ** k);

const LITTLE_ENDIAN = endianness() === "LE";

/** Refuse big-endian hosts: the bytes of ring vectors and masks are defined little-endian. */
export function assertLittleEndian(): void {
  if (!LITTLE_ENDIAN) {
    throw new SecureAggregationError(
      "secure aggregation needs a little-endian host (ring bytes and masks are little-endian)",
    );
  }
}

const NO_MASKS: RangeMasks = { coarse: [], fine: [], signs: [] };

/** A zeroed ring vector of `length` elements. */
export function ringVector(length: number): Uint32Array {
  return new Uint32Array(length * RING_WORDS);
}

/** Number of elements in a ring vector. */
export function ringLength(v: Uint32Array): number {
  if (v.length % RING_WORDS !== 0) {
    throw new SecureAggregationError(`ring vector of ${v.length} words: not a multiple of 4`);
  }
  return v.length / RING_WORDS;
}

/** h = ⌈log2 n⌉: bits of headroom that n summands need above one summand's bound. */
export function headroomBits(centers: number): number {
  if (!Number.isInteger(centers) || centers < 1 || centers > 2 ** 20) {
    throw new SecureAggregationError(`number of centers ${centers}: expected 1 … 2^20`);
  }
  let h = 0;
  while (2 ** h < centers) h++;
  return h;
}

function checkScaleExponent(e: number): void {
  if (!Number.isInteger(e) || e < MIN_SCALE_EXPONENT || e > MAX_SCALE_EXPONENT) {
    throw new SecureAggregationError(
      `scale exponent ${e}: expected an integer in ${MIN_SCALE_EXPONENT} … ${MAX_SCALE_EXPONENT}`,
    );
  }
}

/**
 * The largest scale exponent e such that every value with |x| ≤ `maxAbs` from each of up to
 * `maxCenters` centers sums without overflow: e = 127 − ⌈log2 maxCenters⌉ − B with B the
 * smallest integer such that maxAbs < 2^B. Meant to be evaluated on a *public* bound (a
 * protocol constant per field kind), never on data: a scale computed from the data would
 * disclose the data's binary order of magnitude.
 */
export function scaleExponentFor(maxAbs: number, maxCenters: number): number {
  if (!(maxAbs > 0 && maxAbs < Number.POSITIVE_INFINITY)) {
    throw new SecureAggregationError(`magnitude bound ${maxAbs}: expected a positive number`);
  }
  let b = Math.floor(Math.log2(maxAbs)) + 1;
  // log2 may be off by one next to powers of two; settle B exactly.
  while (2 ** b <= maxAbs) b++;
  while (2 ** (b - 1) > maxAbs) b--;
  const e = 127 - headroomBits(maxCenters) - b;
  checkScaleExponent(e);
  return e;
}

/** Each center's values must satisfy |x| < this (after rounding to multiples of 2^-e). */
export function encodeLimit(scaleExponent: number, centers: number): number {
  checkScaleExponent(scaleExponent);
  return 2 ** (127 - headroomBits(centers) - scaleExponent);
}

/** Every float64 of at least this magnitude is encoded exactly (it is a multiple of 2^-e). */
export function exactFrom(scaleExponent: number): number {
  checkScaleExponent(scaleExponent);
  return 2 ** (52 - scaleExponent);
}

/**
 * Bound on |decoded − Σ x_i| for a sum over `centers` values whose decoded value is `decoded`:
 * n rounding errors of half a unit 2^-e, plus half an ulp of the final conversion to float64.
 */
export function sumErrorBound(scaleExponent: number, centers: number, decoded: number): number {
  checkScaleExponent(scaleExponent);
  return centers * 2 ** -(scaleExponent + 1) + 2 ** -53 * Math.abs(decoded);
}

/**
 * Negate ring element k of `words` in place: 2^128 − n. The lowest non-zero word w becomes
 * 2^32 − w, every word above it 2^32 − 1 − w (one's complement), the zero words below it stay
 * zero; no −0 or negative intermediates, which would slow the hot loops.
 */
function negateElement(words: Uint32Array, k: number): void {
  if (words[k] !== 0) {
    words[k] = TWO32 - words[k];
    words[k + 1] = MAX_WORD - words[k + 1];
    words[k + 2] = MAX_WORD - words[k + 2];
    words[k + 3] = MAX_WORD - words[k + 3];
  } else if (words[k + 1] !== 0) {
    words[k + 1] = TWO32 - words[k + 1];
    words[k + 2] = MAX_WORD - words[k + 2];
    words[k + 3] = MAX_WORD - words[k + 3];
  } else if (words[k + 2] !== 0) {
    words[k + 2] = TWO32 - words[k + 2];
    words[k + 3] = MAX_WORD - words[k + 3];
  } else {
    words[k + 3] = TWO32 - words[k + 3]; // −2^127 negates to 2^127 (top word 2^31): still right.
  }
}

/** The words of |S| of the last element read by {@link loadMagnitude}. */
const MAGNITUDE = new Uint32Array(RING_WORDS);

/** Read ring element k as a signed S: its magnitude's words into MAGNITUDE; whether S < 0. */
function loadMagnitude(ring: Uint32Array, k: number): boolean {
  MAGNITUDE[0] = ring[k];
  MAGNITUDE[1] = ring[k + 1];
  MAGNITUDE[2] = ring[k + 2];
  MAGNITUDE[3] = ring[k + 3];
  const negative = ring[k + 3] >= 0x80000000;
  if (negative) negateElement(MAGNITUDE, 0);
  return negative;
}

// The errors are built outside encode's loop: a template string that captures the loop's
// variables inside the loop made V8 run the whole loop some 30 times slower.
function notFinite(field: string, index: number, x: number): FixedPointError {
  return new FixedPointError(
    field,
    index,
    `${x} cannot be summed securely (only finite numbers)`,
    "a value that cannot be summed securely (only finite numbers)",
  );
}

function beyondBound(
  field: string,
  index: number,
  x: number,
  scaleExponent: number,
  centers: number,
): FixedPointError {
  const bound = 127 - headroomBits(centers) - scaleExponent;
  const where = `bound 2^${bound} (scale 2^${scaleExponent}, ${centers} centers): refused rather than wrapped`;
  return new FixedPointError(
    field,
    index,
    `|${x}| is beyond the field's ${where}`,
    `a value beyond the field's ${where}`,
  );
}

/**
 * Encode `values` as ring elements round(x·2^e) (ties away from zero), refusing NaN, ±∞ and
 * magnitudes at or beyond {@link encodeLimit}. `centers` is the number of summands the ring
 * must hold without overflow; `field` names the field in errors. Writes into `out` if given
 * (after a refusal, what `out` holds is unspecified).
 */
export function encodeFixed(
  values: Float64Array,
  scaleExponent: number,
  centers: number,
  field: string,
  out: Uint32Array = ringVector(values.length),
): Uint32Array {
  checkScaleExponent(scaleExponent);
  if (out.length !== values.length * RING_WORDS) {
    throw new SecureAggregationError(
      `field "${field}": output of ${out.length} words for ${values.length} values`,
    );
  }
  const scale = 2 ** scaleExponent;
  const limit = 2 ** (127 - headroomBits(centers));
  const refused = encodeFixedWords(values, 0, values.length, scale, 0, 0, limit, out, null);
  if (refused >= 0) {
    const i = refused >>> 1;
    const x = values[i];
    throw x - x !== 0 ? notFinite(field, i, x) : beyondBound(field, i, x, scaleExponent, centers);
  }
  return out;
}

/**
 * Encode `values` split in two ({@link encodeFixed} of each part, in one pass and without the
 * parts' arrays): h = round(x·2^e)·2^-e (a multiple of 2^-e) at scale 2^e into `coarse`, and
 * the exact remainder x − h at scale 2^f into `fine`. The same ring elements as splitting the
 * values first and encoding each part, refusals included (NaN, ±∞, a part at or beyond its
 * {@link encodeLimit}), naming `field` (the coarse part) or `fineField`.
 */
export function encodeSplitFixed(
  values: Float64Array,
  scaleExponent: number,
  fineExponent: number,
  centers: number,
  field: string,
  fineField: string,
): { coarse: Uint32Array; fine: Uint32Array } {
  const coarse = ringVector(values.length);
  const fine = ringVector(values.length);
  encodeSplitRange(
    values,
    0,
    values.length,
    scaleExponent,
    fineExponent,
    centers,
    field,
    fineField,
    coarse,
    fine,
  );
  return { coarse, fine };
}

/**
 * Keystream words a streaming encoder adds to a range's two parts as they are encoded
 * ({@link encodeSplitRange}): per pair mask, its coarse and its fine part's words for the range
 * (4 a value) and the sign it enters with.
 */
export interface RangeMasks {
  readonly coarse: readonly Uint32Array[];
  readonly fine: readonly Uint32Array[];
  readonly signs: readonly (1 | -1)[];
}

/**
 * {@link encodeSplitFixed} of `values[from, to)` into the first `to − from` elements of
 * `coarse` and `fine` (which may be longer): the same ring elements and the same refusals, an
 * error naming the value's index in `values` (after it, what the outputs hold is unspecified).
 * What streaming encoders call chunk by chunk; with `masks`, each part's elements are written
 * with the masks' words added (mod 2^128), as {@link ringAdd} or
 * {@link ringSub} of each would leave them.
 */
export function encodeSplitRange(
  values: Float64Array,
  from: number,
  to: number,
  scaleExponent: number,
  fineExponent: number,
  centers: number,
  field: string,
  fineField: string,
  coarse: Uint32Array,
  fine: Uint32Array,
  masks: RangeMasks = NO_MASKS,
): void {
  checkScaleExponent(scaleExponent);
  checkScaleExponent(fineExponent);
  if (
    !(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to) ||
    to > values.length ||
    coarse.length < (to - from) * RING_WORDS ||
    fine.length < (to - from) * RING_WORDS
  ) {
    throw new SecureAggregationError(
      `field "${field}": values ${from} … ${to} of ${values.length} into ${coarse.length} and ${fine.length} words`,
    );
  }
  const words = (to - from) * RING_WORDS;
  const streams = masks.signs.length;
  if (
    masks.coarse.length !== streams ||
    masks.fine.length !== streams ||
    masks.coarse.some((w) => w.length < words) ||
    masks.fine.some((w) => w.length < words)
  ) {
    throw new SecureAggregationError(
      `field "${field}": ${streams} masks' words do not cover values ${from} … ${to}`,
    );
  }
  const scale = 2 ** scaleExponent;
  const inverse = 2 ** -scaleExponent;
  const limit = 2 ** (127 - headroomBits(centers));
  const refused = encodeFixedWords(
    values,
    from,
    to,
    scale,
    inverse,
    2 ** fineExponent,
    limit,
    coarse,
    fine,
    masks.coarse,
    masks.fine,
    masks.signs,
  );
  if (refused >= 0) {
    const i = refused >>> 1;
    const h = Math.round(values[i] * scale) * inverse;
    // NaN and ±∞ make h NaN: refused as encodeFixed refuses the coarse part.
    if (h - h !== 0) throw notFinite(field, i, h);
    if (refused % 2 === 0) throw beyondBound(field, i, h, scaleExponent, centers);
    throw beyondBound(fineField, i, values[i] - h, fineExponent, centers);
  }
}

/**
 * Decode ring elements as signed 128-bit integers S and return the correctly rounded float64 of
 * S·2^-e for each. Writes into `out` if given.
 */
export function decodeFixed(
  ring: Uint32Array,
  scaleExponent: number,
  out: Float64Array = new Float64Array(ringLength(ring)),
): Float64Array {
  checkScaleExponent(scaleExponent);
  const length = ringLength(ring);
  if (out.length !== length) {
    throw new SecureAggregationError(`decode: output of ${out.length} for ${length} values`);
  }
  const unscale = 2 ** -scaleExponent;
  for (let i = 0, k = 0; i < length; i++, k += RING_WORDS) {
    const negative = loadMagnitude(ring, k);
    const v = roundedMagnitude(MAGNITUDE[0], MAGNITUDE[1], MAGNITUDE[2], MAGNITUDE[3]);
    const x = v * unscale;
    out[i] = negative ? -x : x;
  }
  return out;
}

/** The 8 exact terms of one split element (4 words of each ring sum, signed and scaled). */
const splitTerms = new Float64Array(2 * RING_WORDS);

/** Write element k of `ring` as 4 exact signed doubles w_j·2^(32j)·unscale into `terms[at…]`. */
function exactTerms(
  ring: Uint32Array,
  k: number,
  unscale: number,
  terms: Float64Array,
  at: number,
): void {
  const sign = loadMagnitude(ring, k) ? -unscale : unscale;
  const w0 = MAGNITUDE[0];
  const w1 = MAGNITUDE[1];
  const w2 = MAGNITUDE[2];
  const w3 = MAGNITUDE[3];
  terms[at] = w0 * sign;
  terms[at + 1] = w1 * TWO32 * sign;
  terms[at + 2] = w2 * TWO64 * sign;
  terms[at + 3] = w3 * TWO96 * sign;
}

/**
 * Decode a split field: element i is C_i·2^-e + F_i·2^-f with C (`coarse`) and F (`fine`)
 * signed 128-bit ring sums. Returns the correctly rounded float64 of that exact value, not the
 * sum of two separately rounded halves, which could differ from it in the last bit: for
 * 0 ≤ f − e ≤ 127 and f ≥ 0 (split fields: f = e + 121) the 256-bit integer C·2^(f−e) + F
 * rounded once (math/ring128.ts `decodeSplitWords`); otherwise the eight words, each an exact double once
 * scaled, summed by {@link exactSum}.
 */
export function decodeSplit(
  coarse: Uint32Array,
  scaleExponent: number,
  fine: Uint32Array,
  fineExponent: number,
  out: Float64Array = new Float64Array(ringLength(coarse)),
): Float64Array {
  checkScaleExponent(scaleExponent);
  checkScaleExponent(fineExponent);
  checkSameShape(coarse, fine);
  const length = ringLength(coarse);
  if (out.length !== length) {
    throw new SecureAggregationError(`decode: output of ${out.length} for ${length} values`);
  }
  const shift = fineExponent - scaleExponent;
  if (shift >= 0 && shift <= 127 && fineExponent >= 0) {
    // The whole V = C·2^shift + F, |V| < 2^255, as one 256-bit integer (four 64-bit limbs, two's
    // complement), rounded once to 53 bits as in decodeFixed and scaled by 2^-f: exact
    // integer work and one rounding, no float sums (f ≥ 0 keeps V·2^-f finite, f ≤ 896 normal).
    // In the ring module's WebAssembly: 9.9 ns a value, copies included, against 21 in
    // JavaScript's 32-bit words.
    decodeSplitWords(coarse, fine, shift, 2 ** -fineExponent, out);
    return out;
  }
  // Other exponents: the words, scaled in two exact steps (2^-e, then the word's 2^32j), both in
  // float64's normal range for the exponents allowed, summed correctly rounded.
  const unscaleCoarse = 2 ** -scaleExponent;
  const unscaleFine = 2 ** -fineExponent;
  const terms = splitTerms;
  for (let i = 0, k = 0; i < length; i++, k += RING_WORDS) {
    exactTerms(coarse, k, unscaleCoarse, terms, 0);
    exactTerms(fine, k, unscaleFine, terms, RING_WORDS);
    out[i] = exactSum(terms, 0, 2 * RING_WORDS);
  }
  return out;
}

/**
 * The correctly rounded double (ties to even) of the unsigned 128-bit integer with 32-bit
 * words w0 … w3 (each given as a uint32): its top 64 bits, every lower bit folded into their
 * last bit (sticky), one rounding of hi·2^32 + lo to 53 bits, as in {@link decodeFixed}.
 */
function roundedMagnitude(w0: number, w1: number, w2: number, w3: number): number {
  if (w3 === 0 && w2 === 0) return w1 * TWO32 + w0;
  const p = w3 !== 0 ? 127 - Math.clz32(w3) : 95 - Math.clz32(w2);
  const s = p - 63; // 1 … 64
  const r = s & 31;
  let lo: number;
  let hi: number;
  let sticky: number;
  if (s < 32) {
    lo = ((w0 >>> r) | (w1 << (32 - r))) >>> 0;
    hi = ((w1 >>> r) | (w2 << (32 - r))) >>> 0;
    sticky = w0 & (MAX_WORD >>> (32 - r));
  } else if (s === 32) {
    lo = w1;
    hi = w2;
    sticky = w0;
  } else if (s < 64) {
    lo = ((w1 >>> r) | (w2 << (32 - r))) >>> 0;
    hi = ((w2 >>> r) | (w3 << (32 - r))) >>> 0;
    sticky = (w1 & (MAX_WORD >>> (32 - r))) | w0;
  } else {
    lo = w2;
    hi = w3;
    sticky = w0 | w1;
  }
  return (hi * TWO32 + ((lo | (sticky !== 0 ? 1 : 0)) >>> 0)) * POW2[s];
}

function checkSameShape(a: Uint32Array, b: Uint32Array): void {
  if (a.length !== b.length || a.length % RING_WORDS !== 0) {
    throw new SecureAggregationError(
      `ring vectors of ${a.length} and ${b.length} words cannot be combined`,
    );
  }
}

/*
 * The ring's additions and subtractions, like the encoding and the split decoding, run in
 * WebAssembly on 64-bit limbs (math/ring128.ts, wasm/ring128.wat).
 */

/** acc ← acc + b (mod 2^128, element by element), in place. */
export function ringAdd(acc: Uint32Array, b: Uint32Array): void {
  checkSameShape(acc, b);
  ringAddSignedWords(acc, acc, b, 1);
}

/** out ← a + b (mod 2^128, element by element): a sum without first copying a. */
export function ringAddInto(out: Uint32Array, a: Uint32Array, b: Uint32Array): void {
  checkSameShape(a, b);
  checkSameShape(out, a);
  ringAddSignedWords(out, a, b, 1);
}

/**
 * acc ← acc + s1·b1 + s2·b2 (mod 2^128, element by element, s1, s2 ∈ {1, −1}), in place, in one
 * pass over acc: what {@link ringAdd} / {@link ringSub} of b1, then of b2, leave, as the ring's
 * sums are exact (two pair masks of a center of three, applied together). A subtraction adds
 * the one's complement of the words and a carry of 1 into the lowest (two's complement:
 * −b = ~b + 1), so both terms run the same carry chain as {@link ringAdd}.
 */
export function ringAddSigned2(
  acc: Uint32Array,
  b1: Uint32Array,
  s1: 1 | -1,
  b2: Uint32Array,
  s2: 1 | -1,
): void {
  checkSameShape(acc, b1);
  checkSameShape(acc, b2);
  ringAddSigned2Words(acc, acc, b1, s1, b2, s2);
}

/**
 * out ← a + s1·b1 + s2·b2 (mod 2^128, element by element, s1, s2 ∈ {1, −1}) in one pass:
 * {@link ringAddSigned2} without first copying a into out.
 */
export function ringAddSigned2Into(
  out: Uint32Array,
  a: Uint32Array,
  b1: Uint32Array,
  s1: 1 | -1,
  b2: Uint32Array,
  s2: 1 | -1,
): void {
  checkSameShape(out, a);
  checkSameShape(a, b1);
  checkSameShape(a, b2);
  ringAddSigned2Words(out, a, b1, s1, b2, s2);
}

/**
 * out ← a + b1 + b2 (mod 2^128, element by element) in one pass: the sum of three centers'
 * shares without a second pass over the first two's sum.
 */
export function ringAdd3Into(
  out: Uint32Array,
  a: Uint32Array,
  b1: Uint32Array,
  b2: Uint32Array,
): void {
  ringAddSigned2Into(out, a, b1, 1, b2, 1);
}

/** acc ← acc − b (mod 2^128, element by element), in place. */
export function ringSub(acc: Uint32Array, b: Uint32Array): void {
  checkSameShape(acc, b);
  ringAddSignedWords(acc, acc, b, -1);
}

/** The bytes of a ring vector (16 little-endian bytes per element), sharing its memory. */
export function ringBytes(v: Uint32Array): Uint8Array {
  assertLittleEndian();
  ringLength(v);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** A ring vector from its bytes (copied if they are not 4-byte aligned). */
export function ringFromBytes(bytes: Uint8Array): Uint32Array {
  assertLittleEndian();
  if (bytes.byteLength % RING_BYTES !== 0) {
    throw new SecureAggregationError(`${bytes.byteLength} bytes: not a multiple of 16`);
  }
  if (bytes.byteOffset % 4 === 0) {
    return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }
  const copy = new Uint32Array(bytes.byteLength / 4);
  new Uint8Array(copy.buffer).set(bytes);
  return copy;
}
