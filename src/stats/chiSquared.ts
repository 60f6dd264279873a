/**
 * Upper-tail probability of the chi-squared distribution, R's
 * `pchisq(x, df, lower.tail = FALSE)`: the p-value of DESeq2's likelihood-ratio test.
 *
 * Built on Cephes `chdtrc` (npm `cephes`: the regularised upper incomplete gamma function
 * Q(df/2, x/2)). Cephes stops with an underflow error where the result is below the smallest
 * normal double (x/2 beyond about 709 for small df); R then returns 0 or a subnormal number,
 * which we return as 0 (a p-value that no adjustment or threshold tells apart from 0).
 */
import cephes from "cephes";

await cephes.compiled;

const chdtrc = (cephes as unknown as { chdtrc: (df: number, x: number) => number }).chdtrc;

/**
 * R's `pchisq(x, df, lower.tail = FALSE)`.
 * @param x - the statistic (≤ 0 gives 1, as R; NaN gives NaN)
 * @param df - degrees of freedom, finite and > 0
 * @throws RangeError for degrees of freedom not finite and positive
 */
export function chiSquaredUpperTail(x: number, df: number): number {
  if (!(df > 0 && Number.isFinite(df)))
    throw new RangeError(`pchisq: degrees of freedom must be finite and > 0 (got ${df})`);
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  try {
    return chdtrc(df, x);
  } catch (error) {
    if (error instanceof Error && error.message.includes("underflow")) return 0;
    throw error;
  }
}
