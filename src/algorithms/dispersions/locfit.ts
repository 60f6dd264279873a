/**
 * DESeq2's fallback trend (`localDispersionFit`): R's `locfit(log(disp) ~ log(mean),
 * weights = mean)` with locfit's defaults, then `exp(predict(...))`, for one covariate.
 *
 * locfit's defaults, reproduced here: local quadratic least squares (family "qgaussian",
 * identity link: one Newton step from the weighted mean is the exact weighted least-squares
 * fit), basis (1, u, u²/2) with u = x − x₀, weights prior × tricube(|u|/h), h the distance to the
 * ⌊0.7·n⌋-th nearest x (nearest-neighbour fraction 0.7, no fixed bandwidth, no scaling); a
 * global quadratic "parametric component" (prior weights only, centred at the weighted mean of
 * x) subtracted from every local fit and added back at prediction; the "tree" evaluation
 * structure: local fits only at the vertices of cells, starting from [min x, max x] and
 * halving every cell wider than 0.8 × the smaller bandwidth of its two vertices; prediction by
 * cubic Hermite interpolation of (value, slope) between the vertices of the cell containing the
 * point, linear extrapolation from the end vertex outside [min x, max x].
 */

/** Raised where locfit stops with an error. */
export class LocfitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LocfitError";
  }
}

/** A fitted one-covariate locfit (the vertices of its tree and the parametric component). */
export interface LocalFit {
  /** Vertex positions, in creation order. */
  readonly vertices: Float64Array;
  /** Bandwidth at each vertex. */
  readonly bandwidth: Float64Array;
  /** Local fit minus the parametric component at each vertex: value and slope. */
  readonly value: Float64Array;
  readonly slope: Float64Array;
  /** Parametric component: centre x̄ and coefficients (value, slope, curvature) there. */
  readonly centre: number;
  readonly parametric: Float64Array;
  /** Children of split cells: key `${left},${right}` (vertex indices) → midpoint vertex. */
  readonly splits: ReadonlyMap<string, number>;
}

/** locfit's default cut: a cell is split when wider than cut × its smaller vertex bandwidth. */
const CUT = 0.8;

/** Tricube weight. */
function tricube(u: number): number {
  const a = Math.abs(u);
  if (a > 1) return 0;
  const v = 1 - a * a * a;
  return v * v * v;
}

/** locfit's `kordstat`: the k-th smallest (1-based) of the values (0 when k < 1). */
function kthSmallest(values: Float64Array, k: number): number {
  if (k < 1) return 0;
  const sorted = values.slice().sort();
  return sorted[k - 1];
}

/**
 * Weighted quadratic least squares around x₀ with basis (1, u, u²/2): the coefficients
 * (value, slope, curvature) at x₀. Solved on the correlation-scaled normal equations, as
 * locfit's eigen-decomposition solve does when the matrix is well conditioned.
 * @throws LocfitError when no point has positive weight or the system is singular
 */
function quadraticFit(x: Float64Array, y: Float64Array, w: Float64Array, x0: number): Float64Array {
  const m = new Float64Array(9);
  const rhs = new Float64Array(3);
  const basis = new Float64Array(3);
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    const wi = w[i];
    if (!(wi > 0)) continue;
    total += wi;
    const u = x[i] - x0;
    basis[0] = 1;
    basis[1] = u;
    basis[2] = (u * u) / 2;
    for (let a = 0; a < 3; a++) {
      rhs[a] += basis[a] * wi * y[i];
      for (let b = 0; b < 3; b++) m[a * 3 + b] += basis[a] * wi * basis[b];
    }
  }
  if (total === 0) throw new LocfitError("no points with non-zero weight");
  // Scale to a correlation matrix, then Gaussian elimination with partial pivoting.
  const scale = new Float64Array(3);
  for (let a = 0; a < 3; a++) scale[a] = m[a * 4] > 0 ? 1 / Math.sqrt(m[a * 4]) : 0;
  const a3 = new Float64Array(9);
  const b3 = new Float64Array(3);
  for (let a = 0; a < 3; a++) {
    b3[a] = rhs[a] * scale[a];
    for (let b = 0; b < 3; b++) a3[a * 3 + b] = m[a * 3 + b] * scale[a] * scale[b];
  }
  for (let c = 0; c < 3; c++) {
    let piv = c;
    for (let r = c + 1; r < 3; r++)
      if (Math.abs(a3[r * 3 + c]) > Math.abs(a3[piv * 3 + c])) piv = r;
    if (!(Math.abs(a3[piv * 3 + c]) > 1e-14)) throw new LocfitError("singular local fit");
    if (piv !== c) {
      for (let k = 0; k < 3; k++) {
        const t = a3[c * 3 + k];
        a3[c * 3 + k] = a3[piv * 3 + k];
        a3[piv * 3 + k] = t;
      }
      const t = b3[c];
      b3[c] = b3[piv];
      b3[piv] = t;
    }
    for (let r = c + 1; r < 3; r++) {
      const f = a3[r * 3 + c] / a3[c * 3 + c];
      for (let k = c; k < 3; k++) a3[r * 3 + k] -= f * a3[c * 3 + k];
      b3[r] -= f * b3[c];
    }
  }
  const out = new Float64Array(3);
  for (let r = 2; r >= 0; r--) {
    let s = b3[r];
    for (let k = r + 1; k < 3; k++) s -= a3[r * 3 + k] * out[k];
    out[r] = s / a3[r * 3 + r];
  }
  for (let a = 0; a < 3; a++) out[a] *= scale[a];
  return out;
}

/** Value and slope of the parametric component at x. */
function parametricAt(fit: Pick<LocalFit, "centre" | "parametric">, x: number): [number, number] {
  const u = x - fit.centre;
  const c = fit.parametric;
  return [c[0] + c[1] * u + c[2] * ((u * u) / 2), c[1] + c[2] * u];
}

/**
 * Fit locfit's defaults to (x, y) with prior weights.
 * @throws LocfitError where locfit stops (no data, out of vertex space)
 */
export function locfit(x: Float64Array, y: Float64Array, weights: Float64Array): LocalFit {
  const n = x.length;
  if (n < 1) throw new LocfitError("fewer than one row in the data");
  const nn = Math.floor(n * 0.7 + 1e-12);
  // Parametric component: global quadratic fit with prior weights at their weighted mean.
  let sw = 0;
  let sx = 0;
  for (let i = 0; i < n; i++) {
    sw += weights[i];
    sx += x[i] * weights[i];
  }
  const centre = sx / sw;
  const parametric = quadraticFit(x, y, weights, centre);
  const pc = { centre, parametric };
  // Vertex space of locfit's tree for alpha 0.7, cut 0.8, one dimension.
  const a0 = 1 / 0.7;
  const maxVertices = Math.trunc(((5 * a0) / CUT + 1) * 2);
  const vertices: number[] = [];
  const bandwidth: number[] = [];
  const value: number[] = [];
  const slope: number[] = [];
  const distances = new Float64Array(n);
  const w = new Float64Array(n);
  const fitVertex = (v: number) => {
    for (let i = 0; i < n; i++) distances[i] = Math.abs(x[i] - v);
    const h = Math.max(0, kthSmallest(distances, nn));
    for (let i = 0; i < n; i++) {
      const k = h === 0 ? (distances[i] === 0 ? 1 : 0) : tricube(distances[i] / h);
      w[i] = k > 0 ? k * weights[i] : 0;
    }
    const c = quadraticFit(x, y, w, v);
    const [pv, ps] = parametricAt(pc, v);
    vertices.push(v);
    bandwidth.push(h);
    value.push(c[0] - pv);
    slope.push(c[1] - ps);
    return vertices.length - 1;
  };
  let lo = x[0];
  let hi = x[0];
  for (let i = 1; i < n; i++) {
    lo = Math.min(lo, x[i]);
    hi = Math.max(hi, x[i]);
  }
  fitVertex(lo);
  fitVertex(hi);
  const splits = new Map<string, number>();
  const grow = (left: number, right: number) => {
    if (!needsSplit(vertices, bandwidth, left, right, hi - lo)) return;
    if (vertices.length >= maxVertices) throw new LocfitError("newsplit: out of vertex space");
    const mid = fitVertex((vertices[left] + vertices[right]) / 2);
    splits.set(`${left},${right}`, mid);
    grow(left, mid);
    grow(mid, right);
  };
  grow(0, 1);
  return {
    vertices: Float64Array.from(vertices),
    bandwidth: Float64Array.from(bandwidth),
    value: Float64Array.from(value),
    slope: Float64Array.from(slope),
    centre,
    parametric,
    splits,
  };
}

/** locfit's `atree_split` for one dimension. */
function needsSplit(
  vertices: ArrayLike<number>,
  bandwidth: ArrayLike<number>,
  left: number,
  right: number,
  rootWidth: number,
): boolean {
  let hmin = 0;
  for (let side = 0; side < 2; side++) {
    const h = bandwidth[side === 0 ? left : right];
    if (h > 0 && (hmin === 0 || h < hmin)) hmin = h;
  }
  const length = vertices[right] - vertices[left];
  const score = hmin === 0 ? (2 * length) / rootWidth : length / hmin;
  return CUT < score;
}

/** locfit's prediction at x (tree descent, Hermite interpolation, parametric component). */
export function locfitPredict(fit: LocalFit, x: number): number {
  let left = 0;
  let right = 1;
  for (;;) {
    const mid = fit.splits.get(`${left},${right}`);
    if (mid === undefined) break;
    const ll = fit.vertices[left];
    const width = fit.vertices[right] - ll;
    if (2 * (x - ll) < width) right = mid;
    else left = mid;
  }
  const ll = fit.vertices[left];
  const width = fit.vertices[right] - ll;
  const phi = hermite(x - ll, width);
  const local =
    phi[0] * fit.value[left] +
    phi[1] * fit.value[right] +
    phi[2] * width * fit.slope[left] +
    phi[3] * width * fit.slope[right];
  return local + parametricAt(fit, x)[0];
}

/** locfit's `hermite2`: the cubic Hermite basis at offset t in a cell of width z. */
function hermite(t: number, z: number): [number, number, number, number] {
  if (z === 0) return [1, 0, 0, 0];
  const h = t / z;
  if (h < 0) return [1, 0, h, 0];
  if (h > 1) return [0, 1, 0, h - 1];
  const p1 = h * h * (3 - 2 * h);
  return [1 - p1, p1, h * (1 - h) * (1 - h), h * h * (h - 1)];
}

/**
 * DESeq2's `localDispersionFit`: locfit of log dispersion on log mean (weights: the means) over
 * the genes with dispersion ≥ 10·minDisp, as a function of the mean. When every dispersion is
 * below 10·minDisp the trend is minDisp.
 */
export function localDispersionFit(
  means: Float64Array,
  disps: Float64Array,
  minDisp: number,
): (mean: number) => number {
  const keep: number[] = [];
  for (let i = 0; i < disps.length; i++) if (disps[i] >= minDisp * 10) keep.push(i);
  if (keep.length === 0) return () => minDisp;
  const x = Float64Array.from(keep, (i) => Math.log(means[i]));
  const y = Float64Array.from(keep, (i) => Math.log(disps[i]));
  const w = Float64Array.from(keep, (i) => means[i]);
  const fit = locfit(x, y, w);
  return (mean: number) => Math.exp(locfitPredict(fit, Math.log(mean)));
}
