/**
 * Upper-tail probability of the chi-squared distribution, R's
 * `pchisq(x, df, lower.tail = FALSE)`: the p-value of DESeq2's likelihood-ratio test.
 *
 * Built on Cephes `chdtrc` (npm `cephes`: the regularised upper incomplete gamma function
 * Q(df/2, x/2)). Cephes stops with an underflow error where its factor x^a e^(−x) / Γ(a) is below
 * the smallest normal double (x/2 beyond about 709 for small df), where R returns a subnormal
 * number (3.4e-318 for x = 1468.86, df = 3) or 0: there the tail is taken in logarithms,
 * {@link logUpperTailFar}, and its exponential is R's subnormal.
 */
import cephes from "cephes";

await cephes.compiled;

const { chdtrc, lgam } = cephes as unknown as {
  chdtrc: (df: number, x: number) => number;
  /** ln Γ: the Cephes function math/lnGamma.ts exports (stats/ imports nothing of src). */
  lgam: (x: number) => number;
};

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
    if (error instanceof Error && error.message.includes("underflow"))
      return Math.exp(logUpperTailFar(df / 2, x / 2));
    throw error;
  }
}

/**
 * ln Q(a, x) where Cephes underflows (x far beyond a): ln(x^a e^(−x) / Γ(a)) plus the logarithm of
 * Legendre's continued fraction for Q, evaluated by the modified Lentz method (the fraction Cephes
 * `igamc` itself evaluates, and R's `pgamma` in its far tail), so that nothing underflows before
 * the last exponential.
 */
function logUpperTailFar(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return -x + a * Math.log(x) - lgam(a) + Math.log(h);
}
