/**
 * An attack on the pooled sums of a whole run: what an honest-but-curious aggregator decodes under
 * secure aggregation (and, with verified requests, every center), solved as equations rather than
 * scanned for one- and two-sample values (transcriptScan.ts).
 *
 * For a design whose model matrix has one row per cell (`~ condition`, `~ tissue`), each
 * `deseq2Irls` round t returns per gene XᵀWX and XᵀWz over the pooled samples, hence per design
 * cell c the sums
 *
 *   Σ_{i∈c} w_i              with w_i = μ_i/(1 + αμ_i), μ_i = max(s_i·e^{η_c}, minMu)
 *   Σ_{i∈c} y_i/(1 + αμ_i)   (XᵀWz minus what the aggregator knows: Σ w_i(ln(μ_i/s_i) − 1))
 *
 * at the coefficients β_t the aggregator itself chose, with α the dispersion it sent. The first,
 * over every gene and round, is thousands of equations in the cell's few size factors s_i
 * ({@link sizeFactorsFromSums}, with the dispersion grid's sums: Gauss–Newton). Given them, the second is one linear
 * equation per round in the cell's counts, and `dispersionMoments` adds Σ_{i∈c} y_i/s_i: a few
 * real equations, known to 16 digits, in whole unknowns. Fewer equations than counts do not hide
 * them: the counts are the one short vector of a lattice ({@link countsFromIrls}: Kannan's
 * embedding, reduced by LLL), as in knapsack cryptanalysis. A lower bound on what such equations
 * give away: a stronger reduction (BKZ), or the steps' other sums (the dispersion searches' Σ w_i
 * at every point, Cook's sums, Xᵀ ln(y/s + 0.1)), would find more.
 */
import { rowClasses, solveBatch } from "../../src/math/linalg.js";
import { rng } from "./random.js";
import type { Exchange } from "./recordedJobs.js";
import type { PrivateCenter } from "./transcriptScan.js";

/** The recorded exchanges of a run in clear, and the pooled data to score the attack against. */
export interface PooledRun {
  readonly exchanges: readonly Exchange[];
  /** Every center's samples in one (transcriptScan.ts `pooledCenter`). */
  readonly pooled: PrivateCenter;
}

interface PrepareInput {
  readonly genes: readonly string[];
  readonly dispersions: ArrayLike<number>;
  readonly minMu: number;
}

interface IrlsInput {
  readonly refit: boolean;
  readonly mask: ArrayLike<number>;
  readonly beta: ArrayLike<number>;
}

/** A field summed over the centers' replies: the pooled sum the aggregator decodes. */
function pooledField(exchange: Exchange, field: string): Float64Array {
  const replies = exchange.replies as Record<string, ArrayLike<number>>[];
  const sum = new Float64Array(replies[0][field].length);
  for (const reply of replies) for (let i = 0; i < sum.length; i++) sum[i] += reply[field][i];
  return sum;
}

/**
 * Least squares A x ≈ b (rows of A scaled to unit length) by the normal equations: the per-cell
 * splits of XᵀWz and XᵀWX, small and well conditioned (the fit of the size factors, which is
 * not, uses {@link leastSquaresQr}; the measured numbers were taken with this one here).
 */
function leastSquares(A: readonly Float64Array[], b: readonly number[]): Float64Array | null {
  const m = A[0].length;
  const normal = new Float64Array(m * m);
  const rhs = new Float64Array(m);
  A.forEach((row, r) => {
    let norm = 0;
    for (const x of row) norm += x * x;
    if (norm === 0) return;
    for (let i = 0; i < m; i++) {
      rhs[i] += (row[i] * b[r]) / norm;
      for (let j = 0; j < m; j++) normal[i * m + j] += (row[i] * row[j]) / norm;
    }
  });
  const x = new Float64Array(m);
  try {
    solveBatch(normal, rhs, m, 1, x);
  } catch {
    return null;
  }
  return x;
}

/** The pooled samples of each design cell, and the cell's model-matrix row. */
function designCells(pooled: PrivateCenter): { samples: number[][]; rows: Float64Array[] } {
  const p = pooled.columns.length;
  const { first, classOf } = rowClasses(pooled.design, pooled.samples.length, p);
  const samples = Array.from(first, () => [] as number[]);
  for (let i = 0; i < classOf.length; i++) samples[classOf[i]].push(i);
  const rows = Array.from(first, (i) => pooled.design.slice(i * p, (i + 1) * p));
  if (rows.length !== p)
    throw new Error(
      `the attack needs one model-matrix column per cell (${rows.length} cells, ${p} columns)`,
    );
  return { samples, rows };
}

/** Per-cell sums S_d from Xᵀv = Σ_d S_d x_d (p values at `offset`). */
function perCell(
  rows: readonly Float64Array[],
  v: ArrayLike<number>,
  offset: number,
): Float64Array | null {
  const p = rows[0].length;
  const A = Array.from({ length: p }, (_, k) => Float64Array.from(rows, (row) => row[k]));
  return leastSquares(
    A,
    Array.from({ length: p }, (_, k) => v[offset + k]),
  );
}

/** Per-cell sums W_d from the packed upper triangle of XᵀWX = Σ_d W_d x_d x_dᵀ. */
function perCellTriangle(
  rows: readonly Float64Array[],
  v: ArrayLike<number>,
  offset: number,
): Float64Array | null {
  const p = rows[0].length;
  const A: Float64Array[] = [];
  const b: number[] = [];
  let t = offset;
  for (let k = 0; k < p; k++) {
    for (let l = k; l < p; l++) {
      A.push(Float64Array.from(rows, (row) => row[k] * row[l]));
      b.push(v[t++]);
    }
  }
  return leastSquares(A, b);
}

/** One IRLS round of one gene, as the aggregator holds it. */
interface GeneRound {
  /** Index of the gene among the fitted genes (the `prepare` request's). */
  readonly fitted: number;
  /** e^{η_d} per cell. */
  readonly scale: Float64Array;
  /** Σ w over each cell. */
  readonly weights: Float64Array;
  /** XᵀWz per cell. */
  readonly working: Float64Array;
}

function irlsRounds(run: PooledRun, rows: readonly Float64Array[]): GeneRound[] {
  const p = rows[0].length;
  const q = (p * (p + 1)) / 2;
  const out: GeneRound[] = [];
  for (const exchange of run.exchanges) {
    if (exchange.step !== "deseq2Irls") continue;
    const input = exchange.inputs[0] as IrlsInput;
    if (input.refit) continue;
    const xtwx = pooledField(exchange, "xtwx");
    const xtwz = pooledField(exchange, "xtwz");
    let a = 0;
    for (let f = 0; f < input.mask.length; f++) {
      if (!input.mask[f]) continue;
      const weights = perCellTriangle(rows, xtwx, a * q);
      const working = perCell(rows, xtwz, a * p);
      const scale = Float64Array.from(rows, (row) => {
        let eta = 0;
        for (let k = 0; k < p; k++) eta += row[k] * input.beta[a * p + k];
        return Math.exp(eta);
      });
      if (weights !== null && working !== null) out.push({ fitted: f, scale, weights, working });
      a++;
    }
  }
  return out;
}

function prepareInput(run: PooledRun): PrepareInput {
  const prepare = run.exchanges.find((e) => e.step === "prepare");
  if (prepare === undefined) throw new Error("no prepare step in the run");
  return prepare.inputs[0] as PrepareInput;
}

interface GridInput {
  readonly mask: ArrayLike<number>;
  readonly points: ArrayLike<number>;
  readonly pointsPerGene: number;
  readonly pointCounts?: ArrayLike<number>;
  readonly designRows?: ArrayLike<number> | null;
}

interface ResidualsInput {
  readonly mask: ArrayLike<number>;
  readonly linearBeta: ArrayLike<number>;
  readonly setLinearMu: boolean;
}

/**
 * Per cell, the points (u, F) of F(u) = Σ_{i∈c} 1/(1 + u·s_i) that the pooled sums give: each
 * Σ_{i∈c} w_i with w_i = μ_i/(1 + αμ_i), μ_i = s_i·E, is (n_c − F(αE))/α. From the IRLS rounds
 * (E = e^{η_c}) and from the gene-wise dispersion grid and searches (`dispersionGrid`'s per-row
 * sums at every log α, E the cell's linear-model mean from the `dispersionResiduals` before it), where μ cannot
 * reach the floor (E > 50 and 5).
 */
function stieltjesPoints(
  run: PooledRun,
  samples: readonly number[][],
  rows: readonly Float64Array[],
) {
  const p = rows[0].length;
  const { dispersions } = prepareInput(run);
  const points = samples.map(() => [] as { u: number; F: number }[]);
  for (const r of irlsRounds(run, rows)) {
    rows.forEach((_, d) => {
      const E = r.scale[d];
      const alpha = dispersions[r.fitted];
      if (E > 50 && E < 1e7)
        points[d].push({ u: alpha * E, F: samples[d].length - alpha * r.weights[d] });
    });
  }
  // Each dispersion search's sums pair with the linear-model means the centers were given last
  // (`dispersionResiduals` with setLinearMu): the refit after outliers are replaced has its own.
  let means = new Map<number, Float64Array>();
  for (const exchange of run.exchanges) {
    if (exchange.step === "dispersionResiduals") {
      const linear = exchange.inputs[0] as ResidualsInput;
      if (!linear.setLinearMu) continue;
      means = new Map();
      for (let g = 0, a = 0; g < linear.mask.length; g++) {
        if (!linear.mask[g]) continue;
        const at = a++;
        means.set(
          g,
          Float64Array.from(rows, (row) => {
            let m = 0;
            for (let k = 0; k < p; k++) m += row[k] * linear.linearBeta[at * p + k];
            return m;
          }),
        );
      }
      continue;
    }
    if (exchange.step !== "dispersionGrid") continue;
    const input = exchange.inputs[0] as GridInput;
    const designRows = input.designRows;
    if (designRows === null || designRows === undefined || designRows.length === 0) continue;
    const D = designRows.length / p;
    const cellOf = Array.from({ length: D }, (_, r) =>
      rows.findIndex((row) => row.every((x, k) => x === designRows[r * p + k])),
    );
    const gram = pooledField(exchange, "gram");
    for (let g = 0, a = 0, offset = 0; g < input.mask.length; g++) {
      if (!input.mask[g]) continue;
      const K =
        input.pointsPerGene > 0 ? input.pointsPerGene : (input.pointCounts as ArrayLike<number>)[a];
      const mean = means.get(g);
      for (let k = 0; mean !== undefined && k < K; k++) {
        const alpha = Math.exp(input.points[offset + k]);
        for (let r = 0; r < D; r++) {
          const d = cellOf[r];
          const W = gram[(offset + k) * D + r];
          if (d >= 0 && mean[d] > 5 && Number.isFinite(W))
            points[d].push({ u: alpha * mean[d], F: samples[d].length - alpha * W });
        }
      }
      offset += K;
      a++;
    }
  }
  return points;
}

/** min |J x − r| over x (N×m, m small) by modified Gram–Schmidt QR: no squared condition number. */
function leastSquaresQr(J: readonly Float64Array[], r: Float64Array): Float64Array {
  const N = J.length;
  const m = J[0].length;
  const Q = Array.from({ length: m }, (_, k) => Float64Array.from(J, (row) => row[k]));
  const R = new Float64Array(m * m);
  for (let k = 0; k < m; k++) {
    for (let j = 0; j < k; j++) {
      let d = 0;
      for (let t = 0; t < N; t++) d += Q[j][t] * Q[k][t];
      R[j * m + k] = d;
      for (let t = 0; t < N; t++) Q[k][t] -= d * Q[j][t];
    }
    let norm = 0;
    for (let t = 0; t < N; t++) norm += Q[k][t] ** 2;
    norm = Math.sqrt(norm);
    R[k * m + k] = norm;
    for (let t = 0; t < N; t++) Q[k][t] /= norm;
  }
  const x = new Float64Array(m);
  for (let k = m - 1; k >= 0; k--) {
    let v = 0;
    for (let t = 0; t < N; t++) v += Q[k][t] * r[t];
    for (let j = k + 1; j < m; j++) v -= R[k * m + j] * x[j];
    x[k] = v / R[k * m + k];
  }
  return x;
}

/** Σ_j (F(u_j; s) − F_j)², the fit's cost. */
function stieltjesCost(points: readonly { u: number; F: number }[], s: ArrayLike<number>): number {
  let cost = 0;
  for (const { u, F } of points) {
    let f = -F;
    for (let i = 0; i < s.length; i++) f += 1 / (1 + u * s[i]);
    cost += f * f;
  }
  return cost;
}

/** Gauss–Newton (QR, step halving) on F(u) from `start`. */
function fitStieltjes(points: readonly { u: number; F: number }[], start: Float64Array) {
  const m = start.length;
  let s = start.slice();
  let cost = stieltjesCost(points, s);
  for (let it = 0; it < 500 && cost > 1e-27; it++) {
    const J = points.map(() => new Float64Array(m));
    const r = new Float64Array(points.length);
    points.forEach(({ u, F }, j) => {
      let f = -F;
      for (let i = 0; i < m; i++) {
        const den = 1 + u * s[i];
        f += 1 / den;
        J[j][i] = -u / (den * den);
      }
      r[j] = -f;
    });
    const step = leastSquaresQr(J, r);
    let improved = false;
    for (let damping = 1; damping > 1e-9 && !improved; damping /= 2) {
      const next = Float64Array.from(s, (v, i) => Math.max(1e-3, v + damping * step[i]));
      const nextCost = stieltjesCost(points, next);
      if (nextCost < cost) {
        s = next;
        cost = nextCost;
        improved = true;
      }
    }
    if (!improved) break;
  }
  return { s, cost };
}

/**
 * Each cell's size factors from the pooled sums alone ({@link stieltjesPoints}): Gauss–Newton on
 * F(u) = Σ_{i∈c} 1/(1 + u·s_i) from spread starting values, then from up to 20 random ones
 * (log-uniform over 0.3–3) while the fit is above the sums' rounding. The sums are symmetric in
 * a cell's samples: the values come back as a set, given here to the cell's samples in the order
 * of their true size factors (the attacker's labels for the same samples).
 * @returns the recovered size factors (pooled sample order) and each cell's largest relative error
 */
export function sizeFactorsFromSums(run: PooledRun): {
  sizeFactors: Float64Array;
  relativeError: number[];
} {
  const { pooled } = run;
  const { samples, rows } = designCells(pooled);
  const points = stieltjesPoints(run, samples, rows);
  const random = rng(20261207);
  const sizeFactors = new Float64Array(pooled.samples.length);
  const relativeError = samples.map((cell, d) => {
    const m = cell.length;
    let best = fitStieltjes(
      points[d],
      Float64Array.from({ length: m }, (_, i) => 0.6 + (0.8 * i) / Math.max(1, m - 1)),
    );
    for (let restart = 0; restart < 20 && best.cost > 1e-24; restart++) {
      const start = Float64Array.from({ length: m }, () => 0.3 * 10 ** random()).sort();
      const trial = fitStieltjes(points[d], start);
      if (trial.cost < best.cost) best = trial;
    }
    const found = [...best.s].sort((a, b) => a - b);
    const byTruth = [...cell].sort((i, j) => pooled.sizeFactors[i] - pooled.sizeFactors[j]);
    let worst = 0;
    byTruth.forEach((i, r) => {
      sizeFactors[i] = found[r];
      worst = Math.max(worst, Math.abs(found[r] / pooled.sizeFactors[i] - 1));
    });
    return worst;
  });
  return { sizeFactors, relativeError };
}

/** What {@link countsFromIrls} rebuilt: counts equal to the pooled data's, found alone. */
export interface CountsRebuilt {
  /** Non-zero counts of the fitted genes. */
  readonly nonZero: number;
  /** Of those, how many the attack gave back exactly. */
  readonly rebuilt: number;
  /** Gene·cell pairs tried and those whose every count came back. */
  readonly cells: number;
  readonly wholeCells: number;
}

/**
 * Each gene's counts per cell from the pooled IRLS sums and Σ y/s (`dispersionMoments`), given
 * the size factors `s` (pooled sample order): the counts y are the short vector
 * [y, W·(Ay − b), M] of the lattice spanned by [e_i, W·A_i, 0] (i over the cell's samples, A_i
 * the equations' column i, rows scaled to unit length) and [0, −W·b, M]; LLL finds it when it is
 * the lattice's shortest. A cell counts as rebuilt when exactly one reduced vector gives
 * non-negative whole counts that satisfy every equation to 1e-9 of its largest right-hand side.
 */
export function countsFromIrls(run: PooledRun, s: Float64Array): CountsRebuilt {
  const { pooled } = run;
  const n = pooled.samples.length;
  const p = pooled.columns.length;
  const { samples, rows } = designCells(pooled);
  const { genes, dispersions, minMu } = prepareInput(run);
  const moments = run.exchanges.find((e) => e.step === "dispersionMoments");
  if (moments === undefined) throw new Error("no dispersionMoments step in the run");
  const normalized = pooledField(moments, "designTimesNormalized");
  const byGene = new Map<number, GeneRound[]>();
  for (const r of irlsRounds(run, rows)) byGene.set(r.fitted, [...(byGene.get(r.fitted) ?? []), r]);
  const row = new Map(pooled.genes.map((g, i) => [g, i]));
  let nonZero = 0;
  let rebuilt = 0;
  let cells = 0;
  let wholeCells = 0;
  genes.forEach((name, f) => {
    const g = row.get(name);
    if (g === undefined) return;
    const sums = perCell(rows, normalized, g * p);
    if (sums === null) return;
    const alpha = dispersions[f];
    samples.forEach((cell, d) => {
      const m = cell.length;
      const truth = cell.map((i) => pooled.counts[g * n + i]);
      nonZero += truth.filter((y) => y > 0).length;
      cells++;
      const A: Float64Array[] = [Float64Array.from(cell, (i) => 1 / s[i])];
      const b: number[] = [sums[d]];
      for (const r of byGene.get(f) ?? []) {
        let known = 0;
        const coefficients = new Float64Array(m);
        cell.forEach((i, j) => {
          const mu = Math.max(s[i] * r.scale[d], minMu);
          const w = mu / (1 + alpha * mu);
          known += w * (Math.log(mu / s[i]) - 1);
          coefficients[j] = w / mu;
        });
        A.push(coefficients);
        b.push(r.working[d] - known);
      }
      const found = latticeSolutions(A, b);
      if (found.length !== 1) return;
      if (found[0].every((y, j) => y === truth[j])) wholeCells++;
      found[0].forEach((y, j) => {
        if (y === truth[j] && y > 0) rebuilt++;
      });
    });
  });
  return { nonZero, rebuilt, cells, wholeCells };
}

/**
 * Weight of the equations against the counts in the lattice: large enough that only the true
 * counts make W·(Ay − b) small (the sums are exact to ~1e-16 of their size), small enough that
 * the reduction's floating point keeps them apart. 1e12 rebuilt the most of 1e5 … 1e12 on
 * simulated cells of 5 to 24 samples.
 */
const EQUATION_WEIGHT = 1e12;

/** The rows of `basis` reduced in place by LLL (δ = 0.99, Gram–Schmidt in floating point). */
function lll(basis: number[][]): void {
  const n = basis.length;
  const dot = (u: readonly number[], v: readonly number[]) => {
    let sum = 0;
    for (let i = 0; i < u.length; i++) sum += u[i] * v[i];
    return sum;
  };
  const gramSchmidt = () => {
    const orthogonal: number[][] = [];
    const mu = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    const norms: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = basis[i].slice();
      for (let j = 0; j < i; j++) {
        mu[i][j] = dot(basis[i], orthogonal[j]) / norms[j];
        for (let t = 0; t < v.length; t++) v[t] -= mu[i][j] * orthogonal[j][t];
      }
      orthogonal.push(v);
      norms.push(dot(v, v));
    }
    return { mu, norms };
  };
  let { mu, norms } = gramSchmidt();
  let k = 1;
  for (let steps = 0; k < n && steps < 100_000; steps++) {
    for (let j = k - 1; j >= 0; j--) {
      const q = Math.round(mu[k][j]);
      if (q === 0) continue;
      // Size reduction leaves the orthogonal vectors as they are: only row k's coefficients move.
      for (let t = 0; t < basis[k].length; t++) basis[k][t] -= q * basis[j][t];
      for (let i = 0; i < j; i++) mu[k][i] -= q * mu[j][i];
      mu[k][j] -= q;
    }
    if (norms[k] >= (0.99 - mu[k][k - 1] ** 2) * norms[k - 1]) {
      k++;
    } else {
      [basis[k], basis[k - 1]] = [basis[k - 1], basis[k]];
      ({ mu, norms } = gramSchmidt());
      k = Math.max(k - 1, 1);
    }
  }
}

/** Non-negative whole solutions of A y = b among the reduced lattice's vectors (Kannan's embedding). */
function latticeSolutions(A: readonly Float64Array[], b: readonly number[]): number[][] {
  const m = A[0].length;
  const unit = A.map((row, r) => {
    const norm = Math.hypot(...row);
    return { row: Array.from(row, (x) => x / norm), rhs: b[r] / norm };
  });
  const scale = Math.max(1, ...unit.map((u) => Math.abs(u.rhs)));
  const M = Math.max(1, Math.round(scale / Math.sqrt(m)));
  const basis: number[][] = [];
  for (let i = 0; i < m; i++) {
    const unitVector = Array.from({ length: m }, (_, j) => (j === i ? 1 : 0));
    basis.push([...unitVector, ...unit.map((u) => EQUATION_WEIGHT * u.row[i]), 0]);
  }
  basis.push([...new Array<number>(m).fill(0), ...unit.map((u) => -EQUATION_WEIGHT * u.rhs), M]);
  lll(basis);
  const last = m + unit.length;
  const tolerance = 1e-9 * scale;
  const found: number[][] = [];
  for (const v of basis) {
    if (Math.abs(Math.abs(v[last]) - M) > 1e-6 * M) continue;
    const sign = Math.sign(v[last]);
    const y = v.slice(0, m).map((x) => Math.round(sign * x));
    if (y.some((x) => x < 0)) continue;
    const satisfies = unit.every(({ row, rhs }) => {
      let lhs = 0;
      for (let i = 0; i < m; i++) lhs += row[i] * y[i];
      return Math.abs(lhs - rhs) <= tolerance;
    });
    if (satisfies && !found.some((f) => f.every((x, i) => x === y[i]))) found.push(y);
  }
  return found;
}
