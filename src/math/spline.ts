/**
 * The interpolating cubic spline of Forsythe, Malcolm & Moler (Computer Methods for Mathematical
 * Computations, 1977, §4.4: SPLINE and SEVAL), R's `splinefun(x, y, method = "fmm")`: at each
 * end, the cubic's third derivative matches that of the cubic through the four nearest points;
 * outside [x₁, xₙ] the end intervals' cubics are extended. DESeq2's vst of a local dispersion
 * trend integrates numerically and interpolates the integral with it.
 */

/** A cubic spline: on [xᵢ, xᵢ₊₁), y = yᵢ + bᵢt + cᵢt² + dᵢt³, t = x − xᵢ. */
export interface CubicSpline {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly b: Float64Array;
  readonly c: Float64Array;
  readonly d: Float64Array;
}

/**
 * The FMM spline through (x, y), x strictly increasing.
 * @throws when fewer than two points are given, or x is not strictly increasing
 */
export function fmmSpline(x: Float64Array, y: Float64Array): CubicSpline {
  const n = x.length;
  if (n < 2 || y.length !== n) throw new Error(`fmmSpline: ${n} knots and ${y.length} values`);
  for (let i = 1; i < n; i++)
    if (!(x[i] > x[i - 1])) throw new Error("fmmSpline: knots must be strictly increasing");
  const b = new Float64Array(n);
  const c = new Float64Array(n);
  const d = new Float64Array(n);
  if (n === 2) {
    const slope = (y[1] - y[0]) / (x[1] - x[0]);
    b.fill(slope);
    return { x, y, b, c, d };
  }
  // The tridiagonal system for σ (a sixth of the second derivatives): diagonal in b,
  // off-diagonal (the interval widths) in d, right-hand side (divided differences) in c.
  d[0] = x[1] - x[0];
  c[1] = (y[1] - y[0]) / d[0];
  for (let i = 1; i < n - 1; i++) {
    d[i] = x[i + 1] - x[i];
    b[i] = 2 * (d[i - 1] + d[i]);
    c[i + 1] = (y[i + 1] - y[i]) / d[i];
    c[i] = c[i + 1] - c[i];
  }
  // End conditions: the third derivative at each end from the third divided difference of the
  // four end points (none with three points: σ's ends are 0 there).
  b[0] = -d[0];
  b[n - 1] = -d[n - 2];
  c[0] = 0;
  c[n - 1] = 0;
  if (n > 3) {
    const left = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0]);
    const right = c[n - 2] / (x[n - 1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4]);
    c[0] = (left * d[0] * d[0]) / (x[3] - x[0]);
    c[n - 1] = (-right * d[n - 2] * d[n - 2]) / (x[n - 1] - x[n - 4]);
  }
  // Forward elimination, then back substitution: c becomes σ.
  for (let i = 1; i < n; i++) {
    const t = d[i - 1] / b[i - 1];
    b[i] -= t * d[i - 1];
    c[i] -= t * c[i - 1];
  }
  c[n - 1] /= b[n - 1];
  for (let i = n - 2; i >= 0; i--) c[i] = (c[i] - d[i] * c[i + 1]) / b[i];
  // The cubics' coefficients.
  b[n - 1] = (y[n - 1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2 * c[n - 1]);
  for (let i = 0; i < n - 1; i++) {
    b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2 * c[i]);
    d[i] = (c[i + 1] - c[i]) / d[i];
    c[i] *= 3;
  }
  c[n - 1] *= 3;
  d[n - 1] = d[n - 2];
  return { x, y, b, c, d };
}

/** The spline at u (the end intervals' cubics beyond the knots). */
export function splineAt(s: CubicSpline, u: number): number {
  const { x } = s;
  const n = x.length;
  // The interval: the last knot at or below u (the first, below x₁).
  let lo = 0;
  let hi = n;
  if (u >= x[n - 1]) lo = n - 1;
  else {
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (x[mid] <= u) lo = mid;
      else hi = mid;
    }
  }
  const t = u - x[lo];
  return s.y[lo] + t * (s.b[lo] + t * (s.c[lo] + t * s.d[lo]));
}
