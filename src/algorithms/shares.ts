/**
 * Aggregation's first step, common to every federated algorithm: the elementwise sum of one
 * field of the centers' shares, in federation order (as Python's `sum` in upstream, starting
 * from the first share, so that the doubles match upstream's).
 */

/**
 * The zero vectors standing in a pooled reply for the centers other than the first, whose
 * values the first share's sums already hold (the runtime pools every summed field: clear
 * replies in `pooledSums.ts`, masked ones in the secure-aggregation layer). Adding them, or
 * unpacking them, changes nothing, so {@link sumOverCenters} skips them: a round then costs one
 * pass over its sums, not one per center.
 */
const pooledZeros = new WeakSet<Float64Array>();

/** A zero vector of `length` that {@link isPooledZero} recognises. */
export function pooledZeroVector(length: number): Float64Array {
  const zeros = new Float64Array(length);
  pooledZeros.add(zeros);
  return zeros;
}

/**
 * Zero vectors by length for {@link sharedPooledZeroVector} (a few lengths at a time: a round's
 * fields share one or two; the next round's active genes give new ones).
 */
const sharedZeros = new Map<number, Float64Array>();

/**
 * The zeros every {@link sharedPooledZeroVector} views (grown by doubling, never written to).
 * A view costs no memory: a new length used to be a new array, whose fresh pages the system
 * zeroes (a run's search rounds change their lengths every round: bodymap spent 0.2 s of its
 * aggregator's thread allocating them).
 */
let zeroStore = new Float64Array(0);

/**
 * A {@link pooledZeroVector} of `length` that every caller asking for that length gets: the
 * runtime's pooled replies (every center but the first, every summed field, every round), which
 * are received shares and as such never written to. A fresh zero vector per center, field and
 * round was a fifth of a run's array allocations, and the collections they caused (measured on
 * bodymap in process: 4% of its CPU). It is a view of zeros shared by every length (its
 * `buffer` may be longer than it: read it through its offset and length, as every codec does).
 */
export function sharedPooledZeroVector(length: number): Float64Array {
  let zeros = sharedZeros.get(length);
  if (zeros === undefined) {
    if (sharedZeros.size >= 16) sharedZeros.clear();
    if (zeroStore.length < length)
      zeroStore = new Float64Array(Math.max(length, 2 * zeroStore.length));
    zeros = zeroStore.subarray(0, length);
    pooledZeros.add(zeros);
    sharedZeros.set(length, zeros);
  }
  return zeros;
}

/** Whether `values` is a {@link pooledZeroVector} (received shares are never written to). */
export function isPooledZero(values: Float64Array): boolean {
  return pooledZeros.has(values);
}

/** Σ over centers of `shares[c][field]`. */
export function sumOverCenters<K extends string>(
  shares: readonly { readonly [key in K]: Float64Array }[],
  field: K,
): Float64Array {
  const total = shares[0][field].slice();
  for (let c = 1; c < shares.length; c++) {
    const x = shares[c][field];
    if (x.length !== total.length)
      throw new Error(`share ${c}: ${field} has ${x.length} values, expected ${total.length}`);
    if (isPooledZero(x)) continue;
    for (let i = 0; i < total.length; i++) total[i] += x[i];
  }
  return total;
}
