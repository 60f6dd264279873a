/**
 * Benjamini–Hochberg adjusted p-values, exactly as R's `p.adjust(p, method = "BH")`.
 *
 * R's rule: with the m non-missing p-values sorted in decreasing order and i their rank from
 * m down to 1, padj = min(1, cummin((m / i) · p)). NA p-values stay NA and do not count in m
 * (R's default `n = length(p)` is evaluated after the NAs are dropped). The product is formed as
 * `(m / i) * p`, in R's order, so that the doubles agree bit for bit. Tied p-values receive the
 * same adjusted value whatever their order, so any sort reproduces R.
 */

/**
 * Indices of the non-NaN entries of `p`, ordered by increasing p-value.
 * @param p - p-values (NaN = NA)
 * @returns the order, as an Int32Array of length m = number of non-NaN p-values
 */
export function orderNonMissing(p: Float64Array): Int32Array {
  let m = 0;
  for (let i = 0; i < p.length; i++) if (!Number.isNaN(p[i])) m++;
  const order = new Int32Array(m);
  let k = 0;
  for (let i = 0; i < p.length; i++) if (!Number.isNaN(p[i])) order[k++] = i;
  return order.sort((a, b) => p[a] - p[b]);
}

/**
 * BH adjustment of the p-values listed in `order`, written to `out` (entries not in `order`
 * are left untouched).
 * @param p - p-values
 * @param order - indices of the p-values to adjust together, by increasing p-value (NaN excluded)
 * @param count - how many leading entries of `order` to use (m)
 * @param out - receives the adjusted p-values at the same indices
 */
export function bhAdjustOrdered(
  p: Float64Array,
  order: Int32Array,
  count: number,
  out: Float64Array,
): void {
  if (count === 1) {
    // R returns p unchanged when n ≤ 1.
    out[order[0]] = p[order[0]];
    return;
  }
  let running = Number.POSITIVE_INFINITY;
  for (let i = count; i >= 1; i--) {
    const g = order[i - 1];
    const v = (count / i) * p[g];
    if (v < running) running = v;
    out[g] = Math.min(running, 1);
  }
}

/**
 * R's `p.adjust(p, method = "BH")`.
 * @param p - p-values (NaN = NA)
 * @returns adjusted p-values, NaN where `p` is NaN
 */
export function pAdjustBH(p: Float64Array): Float64Array {
  const out = new Float64Array(p.length).fill(Number.NaN);
  const order = orderNonMissing(p);
  if (order.length > 0) bhAdjustOrdered(p, order, order.length, out);
  return out;
}
