/**
 * Aggregation's first step, common to every federated algorithm: the elementwise sum of one
 * field of the centers' shares, in federation order (as Python's `sum` in upstream, starting
 * from the first share, so that the doubles match upstream's).
 */

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
    for (let i = 0; i < total.length; i++) total[i] += x[i];
  }
  return total;
}
