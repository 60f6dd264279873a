/**
 * Stepping through non-negative doubles one representable value at a time. For x ≥ 0 the
 * IEEE-754 bit pattern, read as an unsigned integer (its "ordinal"), grows with x, so
 * neighbours and evenly spaced points between two doubles are integer arithmetic on the two
 * 32-bit words. Used to split a search bracket exactly down to one ulp.
 */

const view = new DataView(new ArrayBuffer(8));
const TWO32 = 2 ** 32;

function words(x: number): void {
  view.setFloat64(0, x);
}

function fromWords(hi: number, lo: number): number {
  view.setUint32(0, hi);
  view.setUint32(4, lo);
  return view.getFloat64(0);
}

/** The smallest double above x (x ≥ 0 finite). */
export function nextUp(x: number): number {
  words(x === 0 ? 0 : x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  return lo === 0xffffffff ? fromWords(hi + 1, 0) : fromWords(hi, lo + 1);
}

/** The largest double below x (x > 0). */
export function nextDown(x: number): number {
  words(x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  return lo === 0 ? fromWords(hi - 1, 0xffffffff) : fromWords(hi, lo - 1);
}

/**
 * How many doubles lie between a and b (0 ≤ a ≤ b, b may be +∞): ordinal(b) − ordinal(a),
 * exact below 2^53, rounded above.
 */
export function ordinalGap(a: number, b: number): number {
  words(a === 0 ? 0 : a);
  const ha = view.getUint32(0);
  const la = view.getUint32(4);
  words(b);
  return (view.getUint32(0) - ha) * TWO32 + (view.getUint32(4) - la);
}

/** The double `d` ordinals above a (a ≥ 0; d a non-negative integer, exact below 2^53). */
export function ordinalStep(a: number, d: number): number {
  words(a === 0 ? 0 : a);
  const high = Math.floor(d / TWO32);
  let lo = view.getUint32(4) + (d - high * TWO32);
  let hi = view.getUint32(0) + high;
  if (lo >= TWO32) {
    lo -= TWO32;
    hi += 1;
  }
  return fromWords(hi, lo);
}
