/**
 * R's `median` of a typed array by selection, not sorting: the middle order statistic (or the
 * two middle ones) found in linear time on average. A center takes one median per sample over
 * every reference gene (the size factors), 10,000 samples × 60,000 genes in a large cohort.
 */

/**
 * Reorder `v` so that `v[k]` holds the value sorting would put there, no value before it greater
 * and none after it smaller (Hoare's selection, median-of-three pivots; after a number of
 * partitions that only a pathological order reaches, the remaining range is sorted instead).
 * No NaN in `v`.
 */
function selectInPlace(v: Float64Array, k: number): void {
  let lo = 0;
  let hi = v.length - 1;
  let partitions = 2 * Math.ceil(Math.log2(v.length + 1)) + 8;
  while (hi > lo) {
    if (partitions-- === 0) {
      v.subarray(lo, hi + 1).sort();
      return;
    }
    const mid = (lo + hi) >>> 1;
    // Median of three: v[lo] ≤ v[mid] ≤ v[hi], the pivot v[mid].
    if (v[mid] < v[lo]) swap(v, mid, lo);
    if (v[hi] < v[lo]) swap(v, hi, lo);
    if (v[hi] < v[mid]) swap(v, hi, mid);
    const pivot = v[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        swap(v, i, j);
        i++;
        j--;
      }
    }
    // v[lo..j] ≤ pivot ≤ v[i..hi], and every value between j and i equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(v: Float64Array, a: number, b: number): void {
  const t = v[a];
  v[a] = v[b];
  v[b] = t;
}

/**
 * R's `median(x)` of values without NaN, reordering them: the middle value, or (a + b)/2 of the
 * two middle ones; NaN for no value. The same double as sorting first (up to the sign of a zero
 * median).
 */
export function medianInPlace(values: Float64Array): number {
  const m = values.length;
  if (m === 0) return Number.NaN;
  const half = m >> 1;
  selectInPlace(values, half);
  if (m % 2 === 1) return values[half];
  // The largest value before `half` is the (half − 1)-th order statistic.
  let below = values[0];
  for (let i = 1; i < half; i++) if (values[i] > below) below = values[i];
  return (below + values[half]) / 2;
}
