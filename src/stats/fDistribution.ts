/**
 * Quantiles of the F distribution, R's `qf(p, df1, df2)`, from Cephes' inverse incomplete beta
 * function `incbi` (npm `cephes`).
 *
 * Cephes' own `fdtri(a, b, y)` returns the x whose UPPER-tail probability is y (so R's
 * `qf(0.99, a, b)` is `fdtri(a, b, 0.01)`) and truncates the degrees of freedom to integers; we
 * repeat its algorithm on `incbi` for real degrees of freedom and a lower-tail probability:
 * with F ~ F(a, b), P(F > x) = I_{b/(b+ax)}(b/2, a/2), and the branch is chosen, as in `fdtri`,
 * to avoid cancellation in 1 − w. For p ≥ 0.5 the complement 1 − p is exact, so nothing is lost
 * by going through the upper tail.
 */
import cephes from "cephes";

await cephes.compiled;

const { incbi, incbet } = cephes as unknown as {
  incbi: (a: number, b: number, y: number) => number;
  incbet: (a: number, b: number, x: number) => number;
};

/**
 * R's `qf(p, df1, df2)` (lower tail): the x with P(F ≤ x) = p for F ~ F(df1, df2).
 * Used for DESeq2's Cook's distance cut-off `qf(0.99, p, m - p)`.
 * @param p - probability in [0, 1] (NaN gives NaN)
 * @param df1 - numerator degrees of freedom, finite and > 0
 * @param df2 - denominator degrees of freedom, finite and > 0
 * @returns the quantile: 0 at p = 0, +∞ at p = 1
 * @throws RangeError for p outside [0, 1] or degrees of freedom not finite and positive
 */
export function qf(p: number, df1: number, df2: number): number {
  if (!(df1 > 0 && df2 > 0 && Number.isFinite(df1) && Number.isFinite(df2))) {
    throw new RangeError(`qf: degrees of freedom must be finite and > 0 (got ${df1}, ${df2})`);
  }
  if (Number.isNaN(p)) return Number.NaN;
  if (p < 0 || p > 1) throw new RangeError(`qf: probability ${p} outside [0, 1]`);
  if (p === 0) return 0;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const a = df1;
  const b = df2;
  const upper = 1 - p;
  if (incbet(0.5 * b, 0.5 * a, 0.5) > upper || upper < 0.001) {
    const w = incbi(0.5 * b, 0.5 * a, upper);
    return (b - b * w) / (a * w);
  }
  const w = incbi(0.5 * a, 0.5 * b, p);
  return (b * w) / (a * (1 - w));
}
