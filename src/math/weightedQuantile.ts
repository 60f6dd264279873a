/**
 * Weighted quantiles as DESeq2 computes them for its β prior: its copy of Hmisc's
 * `wtd.quantile(x, weights, probs, type = "quantile", normwt = TRUE)` (DESeq2 1.38's
 * `Hmisc.wtd.quantile` and `Hmisc.wtd.table`), replayed operation for operation: weights
 * normalised to sum to the number of values, values sorted with tied values merged (their
 * weights summed; when any value is tied, every value is re-read from its 15-significant-digit
 * text, as R's `tapply` names them), then the value at cumulative weight 1 + (n − 1)·prob,
 * interpolated between the two neighbouring whole cumulative weights.
 */
import { sumLikeR } from "./nbDensity.js";

/** R's `as.numeric(as.character(x))` for a double: its 15-significant-digit text, read back. */
function fifteenDigits(x: number): number {
  return Number(x.toPrecision(15));
}

/**
 * R's `approx(cumulative, values, xout = t, method = "constant", f = 1, rule = 2)`: the value at
 * the first cumulative weight ≥ t (the first or last value outside the range). `cumulative` are
 * R's `cumsum` of `weights` (an 80-bit running sum, each rounded to double): computed in double
 * here, and exactly as R's at the index found and its predecessor.
 */
function valueAtCumulative(
  weights: Float64Array,
  cumulative: Float64Array,
  values: Float64Array,
  t: number,
): number {
  const n = values.length;
  const exact = (k: number): number => sumLikeR(weights, 0, k + 1);
  let k = 0;
  while (k < n - 1 && cumulative[k] < t) k++;
  // Settle the boundary with R's own cumulative sums.
  while (k > 0 && exact(k - 1) >= t) k--;
  while (k < n - 1 && exact(k) < t) k++;
  return values[k];
}

/**
 * DESeq2's `Hmisc.wtd.quantile(x, weights, prob, normwt = TRUE)` (type "quantile").
 * @param x - the values (finite)
 * @param weights - their weights (zeros are dropped, as Hmisc does)
 * @param prob - the probability in [0, 1]
 */
export function weightedQuantile(
  x: ArrayLike<number>,
  weights: ArrayLike<number>,
  prob: number,
): number {
  const kept: number[] = [];
  for (let i = 0; i < x.length; i++)
    if (weights[i] !== 0 && !Number.isNaN(weights[i])) kept.push(i);
  const count = kept.length;
  if (count === 0) return Number.NaN;
  const raw = Float64Array.from(kept, (i) => weights[i]);
  const total = sumLikeR(raw);
  // `weights * length(x) / sum(weights)`, evaluated left to right.
  const normalised = Float64Array.from(raw, (w) => (w * count) / total);
  // order(x): ascending, ties in their original order.
  const order = Array.from({ length: count }, (_, j) => j).sort((a, b) => {
    const d = x[kept[a]] - x[kept[b]];
    return d !== 0 ? d : a - b;
  });
  const sortedX = Float64Array.from(order, (j) => x[kept[j]]);
  const sortedW = Float64Array.from(order, (j) => normalised[j]);
  let values = sortedX;
  let wts = sortedW;
  let tied = false;
  for (let j = 1; j < count; j++) if (sortedX[j] === sortedX[j - 1]) tied = true;
  if (tied) {
    // tapply(weights, x, sum): one R sum per distinct value, values named by their text.
    const v: number[] = [];
    const w: number[] = [];
    for (let j = 0; j < count; ) {
      let end = j + 1;
      while (end < count && sortedX[end] === sortedX[j]) end++;
      v.push(fifteenDigits(sortedX[j]));
      w.push(sumLikeR(sortedW, j, end - j));
      j = end;
    }
    values = Float64Array.from(v);
    wts = Float64Array.from(w);
  }
  const n = sumLikeR(wts);
  const position = 1 + (n - 1) * prob;
  const low = Math.max(Math.floor(position), 1);
  const high = Math.min(low + 1, n);
  const fraction = position - Math.floor(position);
  const cumulative = new Float64Array(wts.length);
  let running = 0;
  for (let j = 0; j < wts.length; j++) {
    running += wts[j];
    cumulative[j] = running;
  }
  const qLow = valueAtCumulative(wts, cumulative, values, low);
  const qHigh = valueAtCumulative(wts, cumulative, values, high);
  return (1 - fraction) * qLow + fraction * qHigh;
}

/** R's `qnorm(1 - 0.05/2)`. */
const Z_975 = 1.9599639845400536;

/**
 * DESeq2's `matchWeightedUpperQuantileForVariance(x, weights, 0.05)`: the variance of the zero-mean
 * normal whose 97.5% quantile is the weighted 95% quantile of |x|.
 */
export function matchWeightedUpperQuantileForVariance(
  x: ArrayLike<number>,
  weights: ArrayLike<number>,
): number {
  const abs = Float64Array.from(x, Math.abs);
  const sd = weightedQuantile(abs, weights, 1 - 0.05) / Z_975;
  return sd * sd;
}
