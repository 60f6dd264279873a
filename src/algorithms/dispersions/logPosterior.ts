/**
 * DESeq2's log posterior of log α (its C++ `log_posterior` / `dlog_posterior`), split into what
 * each center sums over its samples and what the aggregator adds once (the Cox–Reid term, the
 * prior):
 *
 *   lp(a)  = Σ_c ll_c(a) − ½ ln det(Σ_c B_c(a)) − ½ (a − a₀)²/σ²                (prior: MAP only)
 *   lp'(a) = α·(α⁻² Σ_c S_c(a) − ½ tr(B⁻¹ Σ_c B'_c(a))) − (a − a₀)/σ²
 *
 * with α = e^a, B = XᵀWX, W = diag(1/(1/μ + α)), B' = Xᵀ diag(−1/(1/μ + α)²) X and ll_c, S_c the
 * per-sample sums documented on {@link DispersionEvalShare}. Every formula is evaluated as in
 * DESeq2's C++ (same expressions, same order) so that its line-search decisions are reproduced.
 */
import cephes from "cephes";
import { luFactor, luSolveEntry, luWorkspace, triangleSize } from "../../math/linalg.js";
import { lnGamma } from "../../math/lnGamma.js";
import { maskIndices } from "../masks.js";
import { checkDispersionCenter, type DispersionCenter, geneMu, requireMeans } from "./center.js";
import type { DispersionEvalRequest, DispersionEvalShare } from "./state.js";

await cephes.compiled;

/** ψ, the digamma function (Cephes `psi`; `src/types/cephes.d.ts` declares only `lgam`). */
export const digamma: (x: number) => number = (cephes as unknown as { psi: (x: number) => number })
  .psi;

/**
 * Where each gene's points start in a request's points (A + 1 offsets, the last the number of
 * points): K per gene, or the request's point counts.
 * @param genes - A, the genes on the request's mask
 * @throws Error when the points, K and the point counts disagree
 */
export function pointOffsets(
  request: Pick<DispersionEvalRequest, "points" | "pointsPerGene" | "pointCounts">,
  genes: number,
): Int32Array {
  const offsets = new Int32Array(genes + 1);
  const counts = request.pointCounts;
  const K = request.pointsPerGene;
  if (counts === undefined || counts.length === 0) {
    if (!(Number.isInteger(K) && K >= 1) || request.points.length !== genes * K)
      throw new Error(`request has ${request.points.length} points, expected ${genes}×${K}`);
    for (let a = 0; a <= genes; a++) offsets[a] = a * K;
    return offsets;
  }
  if (K !== 0 || counts.length !== genes)
    throw new Error(
      `request has ${counts.length} point counts and ${K} points per gene, expected ${genes} counts and 0`,
    );
  for (let a = 0; a < genes; a++) {
    const k = counts[a];
    if (!(Number.isInteger(k) && k >= 1)) throw new Error(`point count ${a} is ${k}`);
    offsets[a + 1] = offsets[a] + k;
  }
  if (offsets[genes] !== request.points.length)
    throw new Error(
      `request has ${request.points.length} points, its point counts sum to ${offsets[genes]}`,
    );
  return offsets;
}

/**
 * Where each gene's derivative sums start in a share's slope arrays (A + 1 offsets), or null
 * when every point has them.
 * @param offsets - the request's {@link pointOffsets}
 * @throws Error when a count is not a whole number up to its gene's points
 */
export function derivativeOffsets(
  request: Pick<DispersionEvalRequest, "derivativeCounts">,
  offsets: Int32Array,
): Int32Array | null {
  const counts = request.derivativeCounts;
  if (counts === undefined || counts.length === 0) return null;
  const genes = offsets.length - 1;
  if (counts.length !== genes)
    throw new Error(`request has ${counts.length} derivative counts, expected ${genes}`);
  const out = new Int32Array(genes + 1);
  for (let a = 0; a < genes; a++) {
    const d = counts[a];
    if (!(Number.isInteger(d) && d >= 0 && d <= offsets[a + 1] - offsets[a]))
      throw new Error(
        `derivative count ${a} is ${d}, the gene has ${offsets[a + 1] - offsets[a]} points`,
      );
    out[a + 1] = out[a] + d;
  }
  return out;
}

/**
 * Local step "dispersionGrid": the center's sums at every requested log α of every gene on
 * mask (see {@link DispersionEvalShare}). Needs the center's μ.
 * @param center - the center's data, with μ set
 * @param request - genes, points and whether derivatives are wanted
 */
export function dispersionEvalLocalStep(
  center: DispersionCenter,
  request: DispersionEvalRequest,
): DispersionEvalShare {
  checkDispersionCenter(center);
  const means = requireMeans(center);
  const { n, p, genes: nGenes, design, counts } = center;
  if (request.mask.length !== nGenes)
    throw new Error(`request covers ${request.mask.length} genes, the center holds ${nGenes}`);
  const genes = maskIndices(request.mask);
  const offsets = pointOffsets(request, genes.length);
  // Every field of the request read here, before the loops: the loops run in code compiled
  // on stack (OSR) for one request's shape, which a request of another shape read after them
  // would throw away on every call (an in-process bodymap run: 392 times, now 7).
  const { points, derivatives, round, pointsPerGene } = request;
  const rows = request.designRows ?? null;
  const groups = rows === null ? null : rowGroups(center, rows);
  const q = rows === null ? triangleSize(p) : rows.length / p;
  const count = points.length;
  const slopes = derivativeOffsets(request, offsets);
  const slopeCount = slopes === null ? count : slopes[genes.length];
  const logLikelihood = new Float64Array(count);
  const logLikelihoodSlope = new Float64Array(derivatives ? slopeCount : 0);
  const gram = new Float64Array(count * q);
  const gramSlope = new Float64Array(derivatives ? slopeCount * q : 0);
  const weight = new Float64Array(n);
  const weightSlope = new Float64Array(n);
  /** The gene's μ, made when the gene is reached (no μ is stored per gene and sample). */
  const mu = new Float64Array(n);
  /** ln(1 + μα) per sample: the value's loop takes it, the slope's reads it. */
  const logOnePlus = new Float64Array(n);
  const distinct = new DistinctCounts(n);
  const { of: distinctOf, values: distinctValues } = distinct;
  /** ln Γ(v + r) and ψ(v + r) of each distinct positive count v of the gene, at this point. */
  const lnGammaOf = new Float64Array(n);
  const digammaOf = new Float64Array(n);
  for (let a = 0; a < genes.length; a++) {
    const base = genes[a] * n;
    geneMu(center, means, genes[a], mu);
    // A count repeated among the gene's samples (0–50 reads, say, over hundreds of samples)
    // has its ln Γ(y + r) and ψ(y + r) computed once per point, from the same double y: the
    // same terms, summed in the same order. Worth it where counts repeat: 200-sample genes of
    // counts around 10 took 66 → 41 ns a sample and point (value and slope), around 150
    // 57 → 55; with every count distinct (counts in the thousands) the index only costs
    // (57 → 60). A handful of samples (bodymap's 5 per center) are not indexed.
    const d = n >= DISTINCT_MIN_SAMPLES ? distinct.index(counts, base) : n;
    const shared = d <= DISTINCT_MAX_SHARE * n;
    for (let ak = offsets[a]; ak < offsets[a + 1]; ak++) {
      const alpha = Math.exp(points[ak]);
      const r = 1 / alpha;
      const lgr = lnGamma(r);
      if (shared) for (let j = 0; j < d; j++) lnGammaOf[j] = lnGamma(distinctValues[j] + r);
      let ll = 0;
      for (let i = 0; i < n; i++) {
        const y = counts[base + i];
        const m = mu[i];
        const l1 = Math.log(1.0 + m * alpha);
        logOnePlus[i] = l1;
        // At y = 0, y + r is r itself: ln Γ of the same double (Cephes is a WebAssembly call).
        const lgy = y === 0 ? lgr : shared ? lnGammaOf[distinctOf[i]] : lnGamma(y + r);
        ll += lgy - lgr - y * Math.log(m + r) - r * l1;
        const t = 1 / m + alpha;
        weight[i] = 1 / t;
        weightSlope[i] = -1 / (t * t);
      }
      logLikelihood[ak] = ll;
      if (groups === null) accumulateTriangle(design, n, p, weight, gram, ak * q);
      else accumulateGroups(groups, weight, gram, ak * q);
      // The index of this point's derivative sums (−1: none asked).
      const as =
        slopes === null
          ? ak
          : ak - offsets[a] < slopes[a + 1] - slopes[a]
            ? slopes[a] + ak - offsets[a]
            : -1;
      if (derivatives && as >= 0) {
        const dgr = digamma(r);
        if (shared) for (let j = 0; j < d; j++) digammaOf[j] = digamma(distinctValues[j] + r);
        let s = 0;
        for (let i = 0; i < n; i++) {
          const y = counts[base + i];
          const m = mu[i];
          const ma = m * alpha;
          s +=
            dgr +
            logOnePlus[i] -
            ma / (1.0 + ma) -
            (y === 0 ? dgr : shared ? digammaOf[distinctOf[i]] : digamma(y + r)) +
            y / (m + r);
        }
        logLikelihoodSlope[as] = s;
        if (groups === null) accumulateTriangle(design, n, p, weightSlope, gramSlope, as * q);
        else accumulateGroups(groups, weightSlope, gramSlope, as * q);
      }
    }
  }
  return {
    kind: "dispersion-eval-share",
    round,
    pointsPerGene,
    logLikelihood,
    logLikelihoodSlope,
    gram,
    gramSlope,
  };
}

/** Fewest samples at a center for which a gene's distinct counts are indexed. */
const DISTINCT_MIN_SAMPLES = 16;

/** Most distinct counts, as a share of the samples, for which a gene's terms are shared. */
const DISTINCT_MAX_SHARE = 0.9;

/**
 * The distinct positive counts of one gene's samples, found with a hash table of twice as many
 * slots as samples (reused gene after gene: a slot is in use when its stamp is the gene's).
 */
export class DistinctCounts {
  /** Per sample, the index of its count among {@link values} (−1 for a zero count). */
  readonly of: Int32Array;
  /** The distinct positive counts, in order of first appearance. */
  readonly values: Float64Array;
  readonly #slots: Int32Array;
  readonly #stamps: Int32Array;
  readonly #mask: number;
  #stamp = 0;

  constructor(samples: number) {
    this.of = new Int32Array(samples);
    this.values = new Float64Array(samples);
    let size = 4;
    while (size < 2 * samples) size *= 2;
    this.#slots = new Int32Array(size);
    this.#stamps = new Int32Array(size);
    this.#mask = size - 1;
  }

  /**
   * Index the counts `counts[base … base + n)` (n the samples given to the constructor).
   * @returns how many distinct positive counts there are
   */
  index(counts: Float64Array, base: number): number {
    const { of, values } = this;
    const slots = this.#slots;
    const stamps = this.#stamps;
    const mask = this.#mask;
    const stamp = ++this.#stamp;
    let d = 0;
    for (let i = 0; i < of.length; i++) {
      const y = counts[base + i];
      if (y === 0) {
        of[i] = -1;
        continue;
      }
      // Counts are whole numbers (a fraction only makes a worse hash: equal keys are compared).
      let h = Math.imul(y | 0, 0x9e3779b1) & mask;
      while (stamps[h] === stamp && values[slots[h]] !== y) h = (h + 1) & mask;
      if (stamps[h] !== stamp) {
        stamps[h] = stamp;
        slots[h] = d;
        values[d++] = y;
      }
      of[i] = slots[h];
    }
    return d;
  }
}

/**
 * The samples of each of `designRows`' D rows (CSR: row d's samples, in increasing order, are
 * `samples[start[d] … start[d + 1])`).
 */
interface RowGroups {
  readonly start: Int32Array;
  readonly samples: Int32Array;
}

/**
 * Each sample's design row among `designRows` (D×p), as the samples of each row.
 * @throws Error when a sample's row is not listed
 */
function rowGroups(center: DispersionCenter, designRows: Float64Array): RowGroups {
  const { n, p, design } = center;
  const count = designRows.length / p;
  const rowOf = new Int32Array(n);
  const start = new Int32Array(count + 1);
  for (let i = 0; i < n; i++) {
    let found = -1;
    for (let d = 0; d < count && found < 0; d++) {
      let same = true;
      for (let k = 0; k < p && same; k++) same = design[i * p + k] === designRows[d * p + k];
      if (same) found = d;
    }
    if (found < 0)
      // Not which sample: its position in the center's data, with the rows sent, would be its cell.
      throw new Error("a sample's design row is not among the request's design rows");
    rowOf[i] = found;
    start[found + 1]++;
  }
  for (let d = 0; d < count; d++) start[d + 1] += start[d];
  const samples = new Int32Array(n);
  const next = start.slice(0, count);
  for (let i = 0; i < n; i++) samples[next[rowOf[i]]++] = i;
  return { start, samples };
}

/**
 * out[offset + d] = Σ of w over the samples of design row d, in increasing sample order: the
 * same additions as adding each sample's w into its row's slot in turn (from +0), but each
 * row's sum kept in a register: added to sample after sample, a slot made every addition wait
 * for the previous one's store (a 125-sample center's evaluations 93.3 → 90.1 ms).
 */
function accumulateGroups(
  groups: RowGroups,
  w: Float64Array,
  out: Float64Array,
  offset: number,
): void {
  const { start, samples } = groups;
  for (let d = 0; d + 1 < start.length; d++) {
    let sum = 0;
    for (let j = start[d]; j < start[d + 1]; j++) sum += w[samples[j]];
    out[offset + d] = sum;
  }
}

/** out[offset …] = upper triangle of Xᵀ diag(w) X. */
function accumulateTriangle(
  design: Float64Array,
  n: number,
  p: number,
  w: Float64Array,
  out: Float64Array,
  offset: number,
): void {
  let t = offset;
  for (let k = 0; k < p; k++) {
    for (let l = k; l < p; l++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += design[i * p + k] * (design[i * p + l] * w[i]);
      out[t++] = acc;
    }
  }
}

/**
 * The aggregator's side: lp and lp' at one point from the pooled sums (reuses its scratch
 * space; one instance per aggregation).
 */
export class LogPosterior {
  readonly #p: number;
  /** Values per point in the pooled gram arrays (q, or D with design rows). */
  readonly #q: number;
  readonly #rows: Float64Array | null;
  /**
   * With design rows: for each upper-triangle entry (k, l) in row order, the design rows d whose
   * x_dk·x_dl ≠ 0, in increasing d (CSR: {@link #pairStart} indexes {@link #pairRows}). A design's
   * rows are mostly zeros (a group design's row has one 1 per factor), so the expansion visits
   * only these terms: skipping 0·(x·w) terms leaves every sum bit for bit the same while the
   * products x·w are finite (the sum starts at +0 and never becomes −0), which {@link #expand}
   * checks first.
   */
  readonly #pairStart: Int32Array;
  readonly #pairRows: Int32Array;
  /** The largest |x_dk|: x·w stays finite for |w| below max/this. */
  readonly #largestRowValue: number;
  /** B' expanded to a full p×p matrix (from design-row sums). */
  readonly #slopeMatrix: Float64Array;
  readonly #matrix: Float64Array;
  readonly #ws;
  readonly #seen: Uint8Array;
  /** The matrix last factored (array and point index), and whether it was regular. */
  #factored: Float64Array | null = null;
  #factoredIndex = -1;
  #regular = false;

  /**
   * @param p - design columns
   * @param designRows - the request's design rows (D×p), or null when B comes as triangles
   */
  constructor(p: number, designRows: Float64Array | null = null) {
    this.#p = p;
    this.#rows = designRows;
    this.#q = designRows === null ? triangleSize(p) : designRows.length / p;
    this.#pairStart = new Int32Array(designRows === null ? 0 : triangleSize(p) + 1);
    const pairRows: number[] = [];
    if (designRows !== null) {
      let t = 0;
      for (let k = 0; k < p; k++) {
        for (let l = k; l < p; l++) {
          for (let d = 0; d < this.#q; d++)
            if (designRows[d * p + k] !== 0 && designRows[d * p + l] !== 0) pairRows.push(d);
          this.#pairStart[++t] = pairRows.length;
        }
      }
    }
    this.#pairRows = Int32Array.from(pairRows);
    let largest = 0;
    for (const x of designRows ?? []) largest = Math.max(largest, Math.abs(x));
    this.#largestRowValue = largest;
    this.#slopeMatrix = new Float64Array(p * p);
    this.#matrix = new Float64Array(p * p);
    this.#ws = luWorkspace(p);
    this.#seen = new Uint8Array(p);
  }

  /** Factor B at point `index` (reusing the last factorisation); false if singular. */
  #factor(gram: Float64Array, index: number): boolean {
    if (this.#factored === gram && this.#factoredIndex === index) return this.#regular;
    this.#factored = gram;
    this.#factoredIndex = index;
    this.#regular = this.#decompose(gram, index * this.#q);
    return this.#regular;
  }

  /** Expand the pooled values at `offset` (triangle or row sums) into a full p×p matrix. */
  #expand(gram: Float64Array, offset: number, m: Float64Array): void {
    const p = this.#p;
    const rows = this.#rows;
    if (rows === null) {
      let t = offset;
      for (let k = 0; k < p; k++) {
        for (let l = k; l < p; l++) {
          m[k * p + l] = gram[t];
          m[l * p + k] = gram[t];
          t++;
        }
      }
      return;
    }
    const q = this.#q;
    const largest = this.#largestRowValue;
    let finite = true;
    for (let d = 0; d < q; d++) finite &&= Math.abs(gram[offset + d]) * largest < Infinity;
    if (!finite) {
      // 0·∞ and 0·NaN are NaN: every term counts.
      for (let k = 0; k < p; k++) {
        for (let l = k; l < p; l++) {
          let acc = 0;
          for (let d = 0; d < q; d++) acc += rows[d * p + k] * (rows[d * p + l] * gram[offset + d]);
          m[k * p + l] = acc;
          m[l * p + k] = acc;
        }
      }
      return;
    }
    const start = this.#pairStart;
    const pairRows = this.#pairRows;
    let t = 0;
    for (let k = 0; k < p; k++) {
      for (let l = k; l < p; l++, t++) {
        let acc = 0;
        for (let j = start[t]; j < start[t + 1]; j++) {
          const d = pairRows[j];
          acc += rows[d * p + k] * (rows[d * p + l] * gram[offset + d]);
        }
        m[k * p + l] = acc;
        m[l * p + k] = acc;
      }
    }
  }

  /** Expand B at `offset` into the scratch matrix and factor it; false if singular. */
  #decompose(gram: Float64Array, offset: number): boolean {
    this.#expand(gram, offset, this.#matrix);
    return luFactor(this.#matrix, 0, this.#ws);
  }

  /** det of the factored matrix (sign from the row permutation). */
  #determinant(): number {
    const p = this.#p;
    const { lu, perm } = this.#ws;
    let det = 1;
    for (let k = 0; k < p; k++) det *= lu[k * p + k];
    // Sign of the permutation: count its cycles.
    const seen = this.#seen;
    seen.fill(0);
    let swaps = 0;
    for (let k = 0; k < p; k++) {
      if (seen[k]) continue;
      let j = k;
      let length = 0;
      while (!seen[j]) {
        seen[j] = 1;
        j = perm[j];
        length++;
      }
      swaps += length - 1;
    }
    return swaps % 2 === 0 ? det : -det;
  }

  /**
   * Log posterior at point `index` (its pooled ll and triangle of B).
   * @param logAlpha - the point a
   * @param priorMean - a₀ (ignored without prior)
   * @param priorVariance - σ² (null: no prior)
   */
  value(
    logLikelihood: Float64Array,
    gram: Float64Array,
    index: number,
    logAlpha: number,
    priorMean: number,
    priorVariance: number | null,
  ): number {
    const det = this.#factor(gram, index) ? this.#determinant() : 0;
    const cr = -0.5 * Math.log(det);
    let prior = 0;
    if (priorVariance !== null) {
      const d = logAlpha - priorMean;
      prior = (-0.5 * (d * d)) / priorVariance;
    }
    return logLikelihood[index] + prior + cr;
  }

  /**
   * Derivative of the log posterior in log α at point `index` (arguments as {@link value});
   * `slopeIndex`: the point's index in the slope arrays, when not every point has them.
   */
  slope(
    logLikelihoodSlope: Float64Array,
    gram: Float64Array,
    gramSlope: Float64Array,
    index: number,
    logAlpha: number,
    priorMean: number,
    priorVariance: number | null,
    slopeIndex: number = index,
  ): number {
    const p = this.#p;
    const alpha = Math.exp(logAlpha);
    let trace = Number.NaN;
    if (this.#factor(gram, index)) {
      const ws = this.#ws;
      const slope = this.#slopeMatrix;
      this.#expand(gramSlope, slopeIndex * this.#q, slope);
      trace = 0;
      for (let j = 0; j < p; j++) {
        // tr(B⁻¹B'): column j of B', permuted, solved with the LU factors.
        for (let i = 0; i < p; i++) ws.col[i] = slope[ws.perm[i] * p + j];
        trace += luSolveEntry(ws, j);
      }
    }
    const cr = -0.5 * trace;
    const llPart = (1 / (alpha * alpha)) * logLikelihoodSlope[slopeIndex];
    const prior = priorVariance === null ? 0 : (-1.0 * (logAlpha - priorMean)) / priorVariance;
    return (llPart + cr) * alpha + prior;
  }
}
