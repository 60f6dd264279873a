/**
 * Sample quantiles as R's `quantile(x, probs, type = 7)` (R's default): linear interpolation
 * between order statistics at index 1 + (n − 1)·p.
 */

/** R's tolerance for probabilities slightly outside [0, 1] (`100 * .Machine$double.eps`). */
const PROB_FUZZ = 100 * Number.EPSILON;

/**
 * Type-7 quantile of values already sorted increasingly.
 * @param sorted - the data, sorted increasingly, no NaN
 * @param prob - probability in [0, 1] (values within 100·ε outside are clamped, as in R)
 * @returns R's `quantile(x, prob, type = 7)`; NaN for empty data
 * @throws RangeError when `prob` is NaN or outside [0, 1] beyond R's fuzz
 */
export function quantileSorted(sorted: Float64Array, prob: number): number {
  if (!(prob >= -PROB_FUZZ && prob <= 1 + PROB_FUZZ)) {
    throw new RangeError(`quantile: probability ${prob} outside [0, 1]`);
  }
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const p = Math.max(0, Math.min(1, prob));
  const index = 1 + (n - 1) * p;
  const lo = Math.floor(index);
  const hi = Math.ceil(index);
  const q = sorted[lo - 1];
  const xHi = sorted[hi - 1];
  if (index > lo && xHi !== q) {
    const h = index - lo;
    return (1 - h) * q + h * xHi;
  }
  return q;
}

/**
 * R's `quantile(x, probs, type = 7)`.
 * @param x - data (not modified); NaN is rejected, as R does without `na.rm`
 * @param probs - probabilities in [0, 1]
 * @returns one quantile per probability
 * @throws RangeError when `x` holds NaN or a probability is outside [0, 1]
 */
export function quantileType7(x: Float64Array, probs: ArrayLike<number>): Float64Array {
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i])) throw new RangeError("quantile: missing values (NaN) in x");
  }
  const sorted = Float64Array.from(x).sort();
  const out = new Float64Array(probs.length);
  for (let k = 0; k < probs.length; k++) out[k] = quantileSorted(sorted, probs[k]);
  return out;
}
