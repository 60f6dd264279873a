/**
 * Closed-form truth for the fixed-point tests, in BigInt: every finite float64 is an integer
 * multiple of 2^-1074, so exact sums are BigInt sums of values scaled by 2^1074; ring elements
 * are BigInts mod 2^128; "correctly rounded" is checked against a double's two neighbours.
 */

/** Exact rational scale: values are held as BigInt · 2^-SHIFT. */
export const SHIFT = 1074;

const TWO128 = 1n << 128n;
const TWO127 = 1n << 127n;

const view = new DataView(new ArrayBuffer(8));

function bitsOf(x: number): bigint {
  view.setFloat64(0, x);
  return view.getBigUint64(0);
}

function fromBits(bits: bigint): number {
  view.setBigUint64(0, bits);
  return view.getFloat64(0);
}

/** x · 2^SHIFT, exactly (x finite). */
export function exactOf(x: number): bigint {
  const bits = bitsOf(x);
  const negative = bits >> 63n === 1n;
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  if (exponent === 0x7ff) throw new Error(`${x} is not finite`);
  const magnitude = exponent === 0 ? fraction : (fraction | (1n << 52n)) << BigInt(exponent - 1);
  return negative ? -magnitude : magnitude;
}

/** Round-half-away-from-zero of x·2^e, as the reference for the encoder (e ≤ SHIFT). */
export function referenceEncode(x: number, e: number): bigint {
  const scaled = exactOf(x);
  const t = BigInt(SHIFT - e);
  const magnitude = scaled < 0n ? -scaled : scaled;
  let q = magnitude >> t;
  const rest = magnitude - (q << t);
  if (2n * rest >= 1n << t) q += 1n;
  return scaled < 0n ? -q : q;
}

/** Element i of a ring vector as a signed integer in [−2^127, 2^127). */
export function ringSigned(v: Uint32Array, i: number): bigint {
  let u = 0n;
  for (let k = 3; k >= 0; k--) u = (u << 32n) | BigInt(v[4 * i + k]);
  return u >= TWO127 ? u - TWO128 : u;
}

/** Write integer n (mod 2^128) as ring element i of v. */
export function setRing(v: Uint32Array, i: number, n: bigint): void {
  let u = ((n % TWO128) + TWO128) % TWO128;
  for (let k = 0; k < 4; k++) {
    v[4 * i + k] = Number(u & 0xffffffffn);
    u >>= 32n;
  }
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/**
 * Whether the double d is the correctly rounded (nearest, ties to even) value of the exact
 * number X · 2^-SHIFT: no neighbour of d is nearer, and on a tie d's last bit is 0.
 */
export function isCorrectlyRounded(d: number, X: bigint): boolean {
  if (!Number.isFinite(d)) return false;
  const dx = exactOf(d);
  const bits = bitsOf(Math.abs(d));
  const neighbours =
    d === 0
      ? [5e-324, -5e-324]
      : [fromBits(bits + 1n), fromBits(bits - 1n)].map((m) => (d < 0 ? -m : m));
  const error = abs(X - dx);
  for (const n of neighbours) {
    if (!Number.isFinite(n)) continue;
    const other = abs(X - exactOf(n));
    if (other < error) return false;
    if (other === error && (bits & 1n) === 1n) return false;
  }
  return true;
}
