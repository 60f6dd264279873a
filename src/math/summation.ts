/**
 * Summation in the exact order numpy uses, so that sums over samples reproduce
 * upstream's doubles bit for bit (not merely to a tolerance).
 *
 * numpy reduces a contiguous axis with a pairwise scheme: fewer than 8 terms are
 * added left to right; up to 128 terms use 8 interleaved accumulators combined as
 * ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) followed by the remainder; longer runs are split
 * in two halves (the first a multiple of 8) and summed recursively.
 */

const BLOCK = 128;

/**
 * Sum `n` doubles of `a`, starting at `offset`, in numpy's pairwise order.
 * @param a - values
 * @param offset - index of the first value
 * @param n - number of values
 * @returns the sum, bit-identical to `numpy.sum` over a contiguous axis
 */
export function pairwiseSum(a: Float64Array, offset: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[offset + i];
    return res;
  }
  if (n <= BLOCK) {
    let r0 = a[offset];
    let r1 = a[offset + 1];
    let r2 = a[offset + 2];
    let r3 = a[offset + 3];
    let r4 = a[offset + 4];
    let r5 = a[offset + 5];
    let r6 = a[offset + 6];
    let r7 = a[offset + 7];
    const end = n - (n % 8);
    let i = 8;
    for (; i < end; i += 8) {
      const o = offset + i;
      r0 += a[o];
      r1 += a[o + 1];
      r2 += a[o + 2];
      r3 += a[o + 3];
      r4 += a[o + 4];
      r5 += a[o + 5];
      r6 += a[o + 6];
      r7 += a[o + 7];
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[offset + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, offset, n2) + pairwiseSum(a, offset + n2, n - n2);
}
