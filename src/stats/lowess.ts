/**
 * R's `lowess(x, y, f, iter, delta)`: Cleveland's (1979, 1981) locally weighted scatterplot
 * smoother, in the arithmetic of R's C routine `clowess` so that fitted values agree with R
 * to rounding.
 *
 * The algorithm: each fitted point is a tricube-weighted linear regression on the
 * ns = max(2, min(n, ⌊f·n + 1e-7⌋)) nearest x values (ties on the right edge included); points
 * within `delta` of the last fitted x are linearly interpolated instead of fitted; then `iter`
 * robustness passes reweight every point by the bisquare of its residual over 6·median|residual|.
 */

/** Options of {@link lowess}, R's defaults when omitted. */
export interface LowessOptions {
  /** Smoother span: the fraction of points that influence each fitted value (default 2/3). */
  f?: number;
  /** Number of robustifying iterations (default 3). */
  iter?: number;
  /** Interpolation distance (default 0.01 · (max(x) − min(x))). */
  delta?: number;
}

/** Result of {@link lowess}: `x` sorted increasingly and the smoothed `y` at each. */
export interface LowessFit {
  x: Float64Array;
  y: Float64Array;
}

/** Scratch arrays shared by the local fits of one call. */
interface Work {
  /** Local regression weights (only entries nleft..nrt of the current fit are meaningful). */
  w: Float64Array;
  /** Robustness weights. */
  rw: Float64Array;
  /** Whether robustness weights apply (every pass after the first). */
  useRw: boolean;
}

/**
 * Fitted value at `xs` from the points `nleft..nright` (0-based, inclusive) and any ties to the
 * right of `nright`; NaN when every weight is zero.
 */
function localFit(
  x: Float64Array,
  y: Float64Array,
  xs: number,
  nleft: number,
  nright: number,
  work: Work,
): number {
  const n = x.length;
  const { w, rw, useRw } = work;
  const range = x[n - 1] - x[0];
  const h = Math.max(xs - x[nleft], x[nright] - xs);
  const h9 = 0.999 * h;
  const h1 = 0.001 * h;
  let total = 0;
  let j = nleft;
  for (; j < n; j++) {
    w[j] = 0;
    const r = Math.abs(x[j] - xs);
    if (r <= h9) {
      if (r <= h1) w[j] = 1;
      else {
        const u = r / h;
        const v = 1 - u * u * u;
        w[j] = v * v * v;
      }
      if (useRw) w[j] *= rw[j];
      total += w[j];
    } else if (x[j] > xs) break;
  }
  const last = j - 1;
  if (total <= 0) return Number.NaN;
  for (j = nleft; j <= last; j++) w[j] /= total;
  if (h > 0) {
    let center = 0;
    for (j = nleft; j <= last; j++) center += w[j] * x[j];
    let b = xs - center;
    let c = 0;
    for (j = nleft; j <= last; j++) {
      const d = x[j] - center;
      c += w[j] * (d * d);
    }
    if (Math.sqrt(c) > 0.001 * range) {
      b /= c;
      for (j = nleft; j <= last; j++) w[j] *= b * (x[j] - center) + 1;
    }
  }
  let ys = 0;
  for (j = nleft; j <= last; j++) ys += w[j] * y[j];
  return ys;
}

/** One smoothing pass over all points (with or without robustness weights) into `ys`. */
function smoothPass(
  x: Float64Array,
  y: Float64Array,
  ns: number,
  delta: number,
  work: Work,
  ys: Float64Array,
): void {
  const n = x.length;
  let nleft = 0;
  let nright = ns - 1;
  let last = -1;
  let i = 0;
  for (;;) {
    if (nright < n - 1) {
      // Slide the window right while that does not increase its radius.
      const d1 = x[i] - x[nleft];
      const d2 = x[nright + 1] - x[i];
      if (d1 > d2) {
        nleft++;
        nright++;
        continue;
      }
    }
    const fitted = localFit(x, y, x[i], nleft, nright, work);
    ys[i] = Number.isNaN(fitted) ? y[i] : fitted;
    if (last < i - 1) {
      // Interpolate the points skipped within delta.
      const denom = x[i] - x[last];
      for (let j = last + 1; j < i; j++) {
        const alpha = (x[j] - x[last]) / denom;
        ys[j] = alpha * ys[i] + (1 - alpha) * ys[last];
      }
    }
    last = i;
    const cut = x[last] + delta;
    for (i = last + 1; i < n; i++) {
      if (x[i] > cut) break;
      if (x[i] === x[last]) {
        ys[i] = ys[last];
        last = i;
      }
    }
    i = Math.max(last + 1, i - 1);
    if (last >= n - 1) break;
  }
}

/**
 * Lowess smoothing of points already sorted by x (R's `clowess`).
 * @param x - abscissae, sorted increasingly, finite
 * @param y - ordinates, finite
 * @param f - span
 * @param iter - robustness iterations
 * @param delta - interpolation distance
 * @returns the smoothed values at each x
 */
export function lowessSorted(
  x: Float64Array,
  y: Float64Array,
  f: number,
  iter: number,
  delta: number,
): Float64Array {
  const n = x.length;
  const ys = new Float64Array(n);
  if (n < 2) {
    ys[0] = y[0];
    return ys;
  }
  const ns = Math.max(2, Math.min(n, Math.trunc(f * n + 1e-7)));
  const work: Work = { w: new Float64Array(n), rw: new Float64Array(n), useRw: false };
  const res = new Float64Array(n);
  const absRes = new Float64Array(n);
  for (let pass = 1; ; pass++) {
    work.useRw = pass > 1;
    smoothPass(x, y, ns, delta, work, ys);
    let sc = 0;
    for (let i = 0; i < n; i++) {
      res[i] = y[i] - ys[i];
      sc += Math.abs(res[i]);
    }
    sc /= n;
    if (pass > iter) break;
    // 6 · median |residual|, the bisquare's scale.
    for (let i = 0; i < n; i++) absRes[i] = Math.abs(res[i]);
    absRes.sort();
    const m1 = Math.floor(n / 2);
    const cmad = n % 2 === 0 ? 3 * (absRes[m1] + absRes[n - m1 - 1]) : 6 * absRes[m1];
    if (cmad < 1e-7 * sc) break;
    const c9 = 0.999 * cmad;
    const c1 = 0.001 * cmad;
    for (let i = 0; i < n; i++) {
      const r = Math.abs(res[i]);
      if (r <= c1) work.rw[i] = 1;
      else if (r <= c9) {
        const u = r / cmad;
        const v = 1 - u * u;
        work.rw[i] = v * v;
      } else work.rw[i] = 0;
    }
  }
  return ys;
}

/**
 * R's `lowess(x, y, f, iter, delta)`.
 * @param x - abscissae (any order; NaN and infinities are rejected)
 * @param y - ordinates, same length
 * @param options - span `f` (2/3), robustness iterations `iter` (3), `delta` (1% of the range)
 * @returns x sorted increasingly (ties in input order, as R's `order`) and the fitted values
 * @throws RangeError for empty or mismatched input, non-finite values, f ≤ 0, iter < 0, delta < 0
 */
export function lowess(x: Float64Array, y: Float64Array, options: LowessOptions = {}): LowessFit {
  const n = x.length;
  if (n === 0 || y.length !== n)
    throw new RangeError("lowess: x and y must be non-empty, same length");
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) {
      throw new RangeError("lowess: x and y must be finite");
    }
  }
  const f = options.f ?? 2 / 3;
  const iter = options.iter ?? 3;
  if (!(f > 0) || !Number.isFinite(f)) throw new RangeError("lowess: f must be finite and > 0");
  if (!Number.isInteger(iter) || iter < 0)
    throw new RangeError("lowess: iter must be an integer ≥ 0");
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => x[a] - x[b] || a - b);
  const xs = new Float64Array(n);
  const ySorted = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = x[order[i]];
    ySorted[i] = y[order[i]];
  }
  const delta = options.delta ?? 0.01 * (xs[n - 1] - xs[0]);
  if (!(delta >= 0) || !Number.isFinite(delta)) {
    throw new RangeError("lowess: delta must be finite and ≥ 0");
  }
  return { x: xs, y: lowessSorted(xs, ySorted, f, iter, delta) };
}
