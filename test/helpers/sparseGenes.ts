/**
 * The outside truth of the sparse-gene rule, from the pooled data itself: whether a gene has 1 to
 * k − 1 non-zero counts in some cell.
 */

/**
 * True when gene g has 1 to k − 1 non-zero counts in some cell.
 * @param counts - gene-major counts over n samples
 * @param cells - each sample's cell (any key)
 */
export function sparseInSomeCell(
  counts: Float64Array,
  g: number,
  n: number,
  cells: readonly string[],
  k = 3,
): boolean {
  const nonZero = new Map<string, number>();
  for (let i = 0; i < n; i++)
    if (counts[g * n + i] !== 0) nonZero.set(cells[i], (nonZero.get(cells[i]) ?? 0) + 1);
  return [...nonZero.values()].some((c) => c < k);
}
