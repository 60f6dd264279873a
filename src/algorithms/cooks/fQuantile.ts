/**
 * Quantiles of the F distribution (R's `qf`), from the Cephes library (npm `cephes`).
 *
 * Cephes `fdtri(a, b, y)` inverts the upper tail: it returns x with P(F > x) = y. R's
 * `qf(q, a, b)` = `fdtri(a, b, 1 − q)` agrees to ~1e-15 relative (qf(0.99, 2, 16) =
 * 6.2262352803113803 in R, 6.2262352803113856 here).
 */
import cephes from "cephes";

await cephes.compiled;

// src/types/cephes.d.ts declares only what the rest of the project uses (lgam).
const { fdtri } = cephes as unknown as {
  fdtri: (df1: number, df2: number, upperTail: number) => number;
};

/**
 * The q-quantile of the F(df1, df2) distribution (R's `qf(q, df1, df2)`).
 * @returns NaN when df1 or df2 is not positive (R returns NaN for df2 = 0)
 */
export function fQuantile(q: number, df1: number, df2: number): number {
  if (!(df1 > 0 && df2 > 0) || !(q > 0 && q < 1)) return Number.NaN;
  return fdtri(df1, df2, 1 - q);
}
