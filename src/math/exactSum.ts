/**
 * The correctly rounded sum of a few doubles: the float64 nearest to their exact sum (ties to
 * even), whatever their order. This is how the aggregator combines every summed field over the
 * centers, in clear and under secure aggregation alike: the masked ring sums decode to exactly
 * this value (secureAggregation/fixedPoint.ts), so both runs see the same doubles.
 *
 * The algorithm is Shewchuk's (1997) non-overlapping partials with the final half-way
 * correction, as in Python's `math.fsum`: each value is added into a list of partials whose
 * exact sum is the exact sum so far (two-sum: hi + lo = x + y exactly), and the partials are
 * added from the largest down, checking at the end whether the discarded rest pushes a tie.
 */

/** The partials of the running sum; grown when a sum needs more (at most one per term). */
let partials = new Float64Array(64);

/**
 * Σ x_i, correctly rounded, over `count` values `values[offset + i·stride]`.
 *
 * IEEE semantics for non-finite values: NaN if any is NaN or both +∞ and −∞ occur, else ±∞ if
 * one occurs. A zero sum is +0. Finite values whose exact sum, or running sum, overflows give ±∞.
 */
export function exactSum(
  values: ArrayLike<number>,
  offset = 0,
  count = values.length,
  stride = 1,
): number {
  // Fast path (the common case, a few terms of like magnitude): add in order with two-sum,
  // s + e = the exact sum so far, and collect the rounding errors e into one double `err`,
  // checking with a second two-sum that each such addition is exact. If every one was, the
  // exact sum is s + err exactly, and one IEEE addition rounds it correctly (to nearest, ties
  // to even), as the partials below would. Otherwise (an error lost in `err`, a non-finite
  // value, an overflow: NaN then fails the check) the partials decide.
  let s = 0;
  let err = 0;
  let exact = true;
  for (let k = 0, at = offset; k < count; k++, at += stride) {
    const x = values[at];
    const t = s + x;
    const xr = t - s;
    const e = s - (t - xr) + (x - xr);
    s = t;
    const u = err + e;
    const er = u - err;
    if (err - (u - er) + (e - er) !== 0) {
      exact = false;
      break;
    }
    err = u;
  }
  if (exact) {
    const sum = s + err;
    if (sum - sum === 0) return sum === 0 ? 0 : sum;
  }
  return partialsSum(values, offset, count, stride);
}

/** Shewchuk's partials: the general case of {@link exactSum}. */
function partialsSum(
  values: ArrayLike<number>,
  offset: number,
  count: number,
  stride: number,
): number {
  if (partials.length < count + 1) partials = new Float64Array(2 * count + 2);
  const p = partials;
  let n = 0;
  let special = 0; // sum of the non-finite values (NaN if both infinities)
  let sawSpecial = false;
  for (let k = 0, at = offset; k < count; k++, at += stride) {
    let x = values[at];
    if (x - x !== 0) {
      special += x;
      sawSpecial = true;
      continue;
    }
    let i = 0;
    for (let j = 0; j < n; j++) {
      let y = p[j];
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) p[i++] = lo;
      x = hi;
    }
    p[i] = x;
    n = i + 1;
    // A running sum beyond float64's range: the sum is taken as that infinity (Python's fsum
    // raises here); later NaNs or an opposite infinity still make it NaN.
    if (x - x !== 0) {
      special += x;
      sawSpecial = true;
    }
  }
  if (sawSpecial) return special;
  if (n === 0) return 0;
  let hi = p[--n];
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = p[--n];
    hi = x + y;
    const yr = hi - x;
    lo = y - yr;
    if (lo !== 0) break;
  }
  // Half-way case: the rest below `lo` has the same sign as `lo`, so the exact sum lies
  // beyond the tie that `hi + lo` rounded to even; round away instead.
  if (n > 0 && ((lo < 0 && p[n - 1] < 0) || (lo > 0 && p[n - 1] > 0))) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  if (!Number.isFinite(hi)) return hi;
  return hi === 0 ? 0 : hi;
}

/**
 * Element-wise {@link exactSum} of equal-length vectors: out[i] = Σ_v vectors[v][i], correctly
 * rounded. The same two-sum path, run across the vectors without gathering each element's terms
 * first (the aggregator pools every summed field of every round this way).
 */
export function exactSumAcross(
  vectors: readonly Float64Array[],
  out: Float64Array = new Float64Array(vectors.length === 0 ? 0 : vectors[0].length),
): Float64Array {
  const count = vectors.length;
  let terms: Float64Array | null = null;
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    let err = 0;
    let exact = true;
    for (let v = 0; v < count; v++) {
      const x = vectors[v][i];
      const t = s + x;
      const xr = t - s;
      const e = s - (t - xr) + (x - xr);
      s = t;
      const u = err + e;
      const er = u - err;
      if (err - (u - er) + (e - er) !== 0) {
        exact = false;
        break;
      }
      err = u;
    }
    const sum = s + err;
    if (exact && sum - sum === 0) {
      out[i] = sum === 0 ? 0 : sum;
      continue;
    }
    terms ??= new Float64Array(count);
    for (let v = 0; v < count; v++) terms[v] = vectors[v][i];
    out[i] = partialsSum(terms, 0, count, 1);
  }
  return out;
}
