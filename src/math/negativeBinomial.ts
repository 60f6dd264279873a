/**
 * Negative-binomial GLM kernels on typed arrays, batched over genes.
 *
 * A center holds n samples, a design X (n×p), size factors s (n), counts for G genes
 * (stored gene-major: the n counts of gene g are contiguous) and one dispersion α per gene.
 * With r = 1/α and μ_i = max(s_i·exp(x_i·β), min_mu):
 *
 *   NLL(β)      = n·r·ln α + Σ_i [ −lnB_i + (y_i + r)·ln(r + μ_i) − y_i·ln μ_i ],
 *                 lnB_i = lnΓ(y_i + r) − lnΓ(y_i + 1) − lnΓ(r)
 *   gradient(β) = −Xᵀy + Σ_i x_i (r + y_i) μ_i / (r + μ_i)
 *   Fisher(β)   = Σ_i w_i x_i x_iᵀ,  w_i = μ_i / (1 + α μ_i)
 *
 * Every quantity that does not depend on β (lnB_i, n·r·ln α, Xᵀy) is computed once per
 * gene and center by {@link nbGeneConstants}. Floating-point operations are ordered as in
 * upstream (fedpydeseq2 / numpy) so that results agree to the last bits wherever possible.
 */
import { fastExp } from "./exp.js";
import { rowClasses, triangleSize } from "./linalg.js";
import { lnGamma } from "./lnGamma.js";
import {
  glibcPowerOfTwo,
  NB_DENSITY_CONSTANTS,
  nbLogDensityAt,
  nbLogDensityConstants,
  sumLikeR,
} from "./nbDensity.js";
import { pairwiseSum } from "./summation.js";

/** One center's samples, in the layout every kernel reads: design, size factors, counts. */
export interface CenterSamples {
  /** Samples. */
  readonly n: number;
  /** Design columns. */
  readonly p: number;
  /** Genes (rows of `counts`). */
  readonly genes: number;
  /** Design matrix, row-major n×p. */
  readonly design: Float64Array;
  /** Size factors, length n. */
  readonly sizeFactors: Float64Array;
  /** Counts, gene-major: gene g's n counts start at g·n. */
  readonly counts: Float64Array;
}

/** One center's data for the genes it fits, in the layout the kernels read. */
export interface NbCenterData extends CenterSamples {
  /** Dispersion α per gene, length G. */
  readonly dispersions: Float64Array;
}

/** The β-independent parts of the NLL and gradient, per gene (see {@link nbGeneConstants}). */
export interface NbGeneConstants {
  /** r = 1/α per gene. */
  readonly inverseDispersion: Float64Array;
  /** n·r·ln α per gene. */
  readonly nllOffset: Float64Array;
  /**
   * lnΓ(y+r) − lnΓ(y+1) − lnΓ(r) per gene and sample, gene-major (G×n): for the kernels that sum
   * each sample's NLL term as upstream does (its IRLS and PQN, the fast solver's Newton steps).
   * Null in a dataset prepared without them ({@link withSampleTerms} adds them): a fit that reads
   * only {@link logBinomialSum} holds no second value per gene and sample beside the counts.
   */
  readonly logBinomial: Float64Array | null;
  /** Σ over the samples, in sample order, of lnΓ(y+r) − lnΓ(y+1) − lnΓ(r), per gene (G). */
  readonly logBinomialSum: Float64Array;
  /** Xᵀy per gene, G×p. */
  readonly designTimesCounts: Float64Array;
}

/**
 * Compute the β-independent terms once per gene and center (upstream recomputes them at
 * every round and step).
 * @param sampleTerms - also keep each sample's ln Γ terms (G×n, {@link NbGeneConstants.logBinomial})
 */
export function nbGeneConstants(data: NbCenterData, sampleTerms = true): NbGeneConstants {
  const { n, p, genes, design, counts, dispersions } = data;
  const inverseDispersion = new Float64Array(genes);
  const nllOffset = new Float64Array(genes);
  // Gene × sample, as the counts: in shared memory, so that a worker pool reads it in place
  // instead of holding a second copy (SharedArrayBuffer is a JavaScript global, no runtime).
  const logBinomial = sampleTerms ? new Float64Array(new SharedArrayBuffer(genes * n * 8)) : null;
  const logBinomialSum = new Float64Array(genes);
  const designTimesCounts = new Float64Array(genes * p);
  for (let g = 0; g < genes; g++) {
    const alpha = dispersions[g];
    const r = 1 / alpha;
    inverseDispersion[g] = r;
    nllOffset[g] = n * r * Math.log(alpha);
    const lgr = lnGamma(r);
    const base = g * n;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const term = nbLogBinomial(counts[base + i], r, lgr);
      sum += term;
      if (logBinomial !== null) logBinomial[base + i] = term;
    }
    logBinomialSum[g] = sum;
    for (let k = 0; k < p; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += design[i * p + k] * counts[base + i];
      designTimesCounts[g * p + k] = s;
    }
  }
  return { inverseDispersion, nllOffset, logBinomial, logBinomialSum, designTimesCounts };
}

/**
 * The constants' per-sample ln Γ terms.
 * @throws Error when the dataset was prepared without them (see {@link withSampleTerms})
 */
export function sampleLogBinomial(constants: NbGeneConstants): Float64Array {
  if (constants.logBinomial === null) {
    throw new Error(
      "this kernel sums each sample's NLL term: its dataset needs the per-sample ln Γ terms (withSampleTerms)",
    );
  }
  return constants.logBinomial;
}

/**
 * lnΓ(y + r) − lnΓ(y + 1) − lnΓ(r): the log binomial coefficient of the NB density.
 * @param y - count
 * @param r - inverse dispersion
 * @param lnGammaR - lnΓ(r), passed in because it is shared by all samples of a gene
 */
export function nbLogBinomial(y: number, r: number, lnGammaR: number = lnGamma(r)): number {
  return lnGamma(y + r) - lnGamma(y + 1) - lnGammaR;
}

/**
 * One sample's NLL summand, −lnB + (y + r)·ln(r + μ) − y·ln μ, evaluated in upstream's order.
 * @param y - count
 * @param r - inverse dispersion 1/α
 * @param mu - mean
 * @param logBinomial - lnΓ(y+r) − lnΓ(y+1) − lnΓ(r)
 */
export function nbNllTerm(y: number, r: number, mu: number, logBinomial: number): number {
  return -logBinomial + (y + r) * Math.log(r + mu) - y * Math.log(mu);
}

/** Box constraint on every coefficient. */
export interface Box {
  readonly lower: number;
  readonly upper: number;
}

/** Outputs of {@link nbFisherGradientNllAtSteps}, step-major: [step][gene][...]. */
export interface FisherGradientNll {
  /**
   * S×A upper triangles of the p×p Fisher matrices, row by row (p(p+1)/2 entries each: the
   * matrices are exactly symmetric, and this is how they travel).
   */
  readonly fisher: Float64Array;
  /** S×A×p. */
  readonly gradient: Float64Array;
  /** S×A. */
  readonly nll: Float64Array;
}

/** Clip x to the box (NaN stays NaN, as numpy.clip). */
function clip(x: number, box: Box): number {
  return Math.min(Math.max(x, box.lower), box.upper);
}

/** Beyond the normal range, μ's logarithm is taken from μ itself (as in upstream). */
const MIN_NORMAL = 2.2250738585072014e-308;

/**
 * The design, column-major (column k's n values start at k·n): the sums over samples read their
 * columns contiguously.
 */
function designColumns(design: Float64Array, n: number, p: number): Float64Array {
  const columns = new Float64Array(n * p);
  for (let i = 0; i < n; i++) for (let k = 0; k < p; k++) columns[k * n + i] = design[i * p + k];
  return columns;
}

/**
 * η_i = Σ_k x_ik·β_k, summed from 0 in k order (as the plain loop): coefficients held in locals for
 * p ≤ 4.
 */
function linearPredictor(
  n: number,
  p: number,
  design: Float64Array,
  point: Float64Array,
  eta: Float64Array,
): void {
  if (p === 1) {
    const b0 = point[0];
    for (let i = 0; i < n; i++) eta[i] = 0 + design[i] * b0;
  } else if (p === 2) {
    const b0 = point[0];
    const b1 = point[1];
    for (let i = 0, row = 0; i < n; i++, row += 2) {
      eta[i] = 0 + design[row] * b0 + design[row + 1] * b1;
    }
  } else if (p === 3) {
    const b0 = point[0];
    const b1 = point[1];
    const b2 = point[2];
    for (let i = 0, row = 0; i < n; i++, row += 3) {
      eta[i] = 0 + design[row] * b0 + design[row + 1] * b1 + design[row + 2] * b2;
    }
  } else if (p === 4) {
    const b0 = point[0];
    const b1 = point[1];
    const b2 = point[2];
    const b3 = point[3];
    for (let i = 0, row = 0; i < n; i++, row += 4) {
      eta[i] =
        0 + design[row] * b0 + design[row + 1] * b1 + design[row + 2] * b2 + design[row + 3] * b3;
    }
  } else {
    for (let i = 0; i < n; i++) {
      let xb = 0;
      for (let k = 0; k < p; k++) xb += design[i * p + k] * point[k];
      eta[i] = xb;
    }
  }
}

/** Per-sample arrays of the PQN kernel, allocated once per call. */
interface PqnScratch {
  readonly columns: Float64Array;
  /** ln s_i. */
  readonly logSizeFactors: Float64Array;
  readonly mu: Float64Array;
  /** η, then ln μ. */
  readonly logMu: Float64Array;
  readonly score: Float64Array;
  readonly weight: Float64Array;
  readonly terms: Float64Array;
  /** Gradient entry and up to four Fisher entries of one pass over the samples. */
  readonly sums: Float64Array;
}

/**
 * One gene at one point, given η (in `w.logMu`): μ, the score (r + y)μ/(r + μ), the weight μ/(1 + αμ) and the NLL terms of
 * every sample. ln μ is ln s + η where μ = s·e^η is not floored and is a normal double (one
 * logarithm per sample fewer); otherwise ln of μ itself.
 */
function pqnSampleTerms(
  n: number,
  sizeFactors: Float64Array,
  counts: Float64Array,
  logBinomial: Float64Array,
  base: number,
  r: number,
  alpha: number,
  minMu: number,
  w: PqnScratch,
): void {
  const { logSizeFactors, mu, logMu, score, weight, terms } = w;
  for (let i = 0; i < n; i++) {
    const eta = logMu[i];
    const raw = sizeFactors[i] * fastExp(eta);
    const m = Math.max(raw, minMu);
    mu[i] = m;
    logMu[i] =
      raw >= minMu && raw >= MIN_NORMAL && raw <= Number.MAX_VALUE
        ? logSizeFactors[i] + eta
        : Math.log(m);
  }
  for (let i = 0; i < n; i++) {
    const m = mu[i];
    const y = counts[base + i];
    score[i] = ((r + y) * m) / (r + m);
    weight[i] = m / (1.0 + m * alpha);
    terms[i] = -logBinomial[base + i] + (y + r) * Math.log(r + m) - y * logMu[i];
  }
}

/**
 * Σ_i x_ik·score_i (into sums[0]) and Σ_i (x_ik·w_i)·x_il for l = l0 … l0 + count − 1 (count ≤ 4,
 * into sums[1 …]) in one pass: independent sums run side by side, each accumulated in sample order.
 */
function gradientFisherPass(
  columns: Float64Array,
  n: number,
  ck: number,
  c0: number,
  count: number,
  score: Float64Array,
  weight: Float64Array,
  sums: Float64Array,
): void {
  let g0 = 0;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  const c1 = c0 + n;
  const c2 = c1 + n;
  const c3 = c2 + n;
  if (count === 4) {
    for (let i = 0; i < n; i++) {
      const x = columns[ck + i];
      g0 += x * score[i];
      const xw = x * weight[i];
      a0 += xw * columns[c0 + i];
      a1 += xw * columns[c1 + i];
      a2 += xw * columns[c2 + i];
      a3 += xw * columns[c3 + i];
    }
  } else if (count === 3) {
    for (let i = 0; i < n; i++) {
      const x = columns[ck + i];
      g0 += x * score[i];
      const xw = x * weight[i];
      a0 += xw * columns[c0 + i];
      a1 += xw * columns[c1 + i];
      a2 += xw * columns[c2 + i];
    }
  } else if (count === 2) {
    for (let i = 0; i < n; i++) {
      const x = columns[ck + i];
      g0 += x * score[i];
      const xw = x * weight[i];
      a0 += xw * columns[c0 + i];
      a1 += xw * columns[c1 + i];
    }
  } else {
    for (let i = 0; i < n; i++) {
      const x = columns[ck + i];
      g0 += x * score[i];
      a0 += x * weight[i] * columns[c0 + i];
    }
  }
  sums[0] = g0;
  sums[1] = a0;
  sums[2] = a1;
  sums[3] = a2;
  sums[4] = a3;
}

/** As {@link gradientFisherPass} without the gradient entry (Fisher entries into sums[1 …]). */
function fisherPass(
  columns: Float64Array,
  n: number,
  ck: number,
  c0: number,
  count: number,
  weight: Float64Array,
  sums: Float64Array,
): void {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  const c1 = c0 + n;
  const c2 = c1 + n;
  const c3 = c2 + n;
  if (count === 4) {
    for (let i = 0; i < n; i++) {
      const xw = columns[ck + i] * weight[i];
      a0 += xw * columns[c0 + i];
      a1 += xw * columns[c1 + i];
      a2 += xw * columns[c2 + i];
      a3 += xw * columns[c3 + i];
    }
  } else if (count === 3) {
    for (let i = 0; i < n; i++) {
      const xw = columns[ck + i] * weight[i];
      a0 += xw * columns[c0 + i];
      a1 += xw * columns[c1 + i];
      a2 += xw * columns[c2 + i];
    }
  } else if (count === 2) {
    for (let i = 0; i < n; i++) {
      const xw = columns[ck + i] * weight[i];
      a0 += xw * columns[c0 + i];
      a1 += xw * columns[c1 + i];
    }
  } else {
    for (let i = 0; i < n; i++) a0 += columns[ck + i] * weight[i] * columns[c0 + i];
  }
  sums[1] = a0;
  sums[2] = a1;
  sums[3] = a2;
  sums[4] = a3;
}

/**
 * The gradient and the upper triangle of the Fisher matrix for p = 2, 3 or 4 in one pass over
 * the samples: every entry is the sum {@link gradientFisherPass} and {@link fisherPass} form (the
 * same products, added in sample order), so the doubles are theirs; one pass instead of p.
 * @returns false for another p (the caller then makes its passes)
 */
function smallGradientFisher(
  p: number,
  columns: Float64Array,
  n: number,
  score: Float64Array,
  weight: Float64Array,
  designTimesCounts: Float64Array,
  countsAt: number,
  gradient: Float64Array,
  gradientAt: number,
  fisher: Float64Array,
  fisherAt: number,
): boolean {
  if (p === 4) {
    const c1 = n;
    const c2 = 2 * n;
    const c3 = 3 * n;
    let g0 = 0;
    let g1 = 0;
    let g2 = 0;
    let g3 = 0;
    let f00 = 0;
    let f01 = 0;
    let f02 = 0;
    let f03 = 0;
    let f11 = 0;
    let f12 = 0;
    let f13 = 0;
    let f22 = 0;
    let f23 = 0;
    let f33 = 0;
    for (let i = 0; i < n; i++) {
      const x0 = columns[i];
      const x1 = columns[c1 + i];
      const x2 = columns[c2 + i];
      const x3 = columns[c3 + i];
      const s = score[i];
      const w = weight[i];
      g0 += x0 * s;
      g1 += x1 * s;
      g2 += x2 * s;
      g3 += x3 * s;
      const w0 = x0 * w;
      f00 += w0 * x0;
      f01 += w0 * x1;
      f02 += w0 * x2;
      f03 += w0 * x3;
      const w1 = x1 * w;
      f11 += w1 * x1;
      f12 += w1 * x2;
      f13 += w1 * x3;
      const w2 = x2 * w;
      f22 += w2 * x2;
      f23 += w2 * x3;
      f33 += x3 * w * x3;
    }
    gradient[gradientAt] = -designTimesCounts[countsAt] + g0;
    gradient[gradientAt + 1] = -designTimesCounts[countsAt + 1] + g1;
    gradient[gradientAt + 2] = -designTimesCounts[countsAt + 2] + g2;
    gradient[gradientAt + 3] = -designTimesCounts[countsAt + 3] + g3;
    fisher[fisherAt] = f00;
    fisher[fisherAt + 1] = f01;
    fisher[fisherAt + 2] = f02;
    fisher[fisherAt + 3] = f03;
    fisher[fisherAt + 4] = f11;
    fisher[fisherAt + 5] = f12;
    fisher[fisherAt + 6] = f13;
    fisher[fisherAt + 7] = f22;
    fisher[fisherAt + 8] = f23;
    fisher[fisherAt + 9] = f33;
    return true;
  }
  if (p === 3) {
    const c1 = n;
    const c2 = 2 * n;
    let g0 = 0;
    let g1 = 0;
    let g2 = 0;
    let f00 = 0;
    let f01 = 0;
    let f02 = 0;
    let f11 = 0;
    let f12 = 0;
    let f22 = 0;
    for (let i = 0; i < n; i++) {
      const x0 = columns[i];
      const x1 = columns[c1 + i];
      const x2 = columns[c2 + i];
      const s = score[i];
      const w = weight[i];
      g0 += x0 * s;
      g1 += x1 * s;
      g2 += x2 * s;
      const w0 = x0 * w;
      f00 += w0 * x0;
      f01 += w0 * x1;
      f02 += w0 * x2;
      const w1 = x1 * w;
      f11 += w1 * x1;
      f12 += w1 * x2;
      f22 += x2 * w * x2;
    }
    gradient[gradientAt] = -designTimesCounts[countsAt] + g0;
    gradient[gradientAt + 1] = -designTimesCounts[countsAt + 1] + g1;
    gradient[gradientAt + 2] = -designTimesCounts[countsAt + 2] + g2;
    fisher[fisherAt] = f00;
    fisher[fisherAt + 1] = f01;
    fisher[fisherAt + 2] = f02;
    fisher[fisherAt + 3] = f11;
    fisher[fisherAt + 4] = f12;
    fisher[fisherAt + 5] = f22;
    return true;
  }
  if (p === 2) {
    const c1 = n;
    let g0 = 0;
    let g1 = 0;
    let f00 = 0;
    let f01 = 0;
    let f11 = 0;
    for (let i = 0; i < n; i++) {
      const x0 = columns[i];
      const x1 = columns[c1 + i];
      const s = score[i];
      const w = weight[i];
      g0 += x0 * s;
      g1 += x1 * s;
      const w0 = x0 * w;
      f00 += w0 * x0;
      f01 += w0 * x1;
      f11 += x1 * w * x1;
    }
    gradient[gradientAt] = -designTimesCounts[countsAt] + g0;
    gradient[gradientAt + 1] = -designTimesCounts[countsAt + 1] + g1;
    fisher[fisherAt] = f00;
    fisher[fisherAt + 1] = f01;
    fisher[fisherAt + 2] = f11;
    return true;
  }
  return false;
}

/**
 * NLL, gradient and Fisher information of the active genes at β (when `steps` is null), or at
 * every point `clip(β − t·d)` of a line-search grid of step sizes t (upstream's
 * `make_fisher_gradient_nll_step_sizes_batch`).
 *
 * Each gene's samples are read once for all its step sizes (gene-major loop); the gradient and the
 * upper triangle of the Fisher matrix are accumulated a row k at a time, up to five independent
 * sums per pass over the samples, each in sample order (so every entry is the same double as a
 * plain loop's). `bench/pqn_step.c` is the same computation in C.
 * @param data - the center's data
 * @param constants - from {@link nbGeneConstants} on the same data
 * @param genes - indices (rows of `data`) of the A active genes
 * @param beta - A×p coefficients of the active genes
 * @param direction - A×p ascent directions, or null with `steps` null
 * @param steps - step sizes t, or null to evaluate at clip(β) only
 * @param box - bounds for the clipping
 * @param minMu - floor on μ (0 in PQN)
 * @returns fisher (S×A upper triangles of p×p), gradient (S×A×p), nll (S×A) with S =
 *   steps.length or 1
 */
export function nbFisherGradientNllAtSteps(
  data: NbCenterData,
  constants: NbGeneConstants,
  genes: Int32Array,
  beta: Float64Array,
  direction: Float64Array | null,
  steps: Float64Array | null,
  box: Box,
  minMu: number,
): FisherGradientNll {
  const { n, p, design, sizeFactors, counts, dispersions } = data;
  const { inverseDispersion, nllOffset, designTimesCounts } = constants;
  const logBinomial = sampleLogBinomial(constants);
  const active = genes.length;
  const nSteps = steps === null ? 1 : steps.length;
  if ((steps === null) !== (direction === null)) {
    throw new Error("direction and steps must be both given or both null");
  }
  const triangle = triangleSize(p);
  const fisher = new Float64Array(nSteps * active * triangle);
  const gradient = new Float64Array(nSteps * active * p);
  const nll = new Float64Array(nSteps * active);
  const point = new Float64Array(p);
  const w: PqnScratch = {
    columns: designColumns(design, n, p),
    logSizeFactors: sizeFactors.map(Math.log),
    mu: new Float64Array(n),
    logMu: new Float64Array(n),
    score: new Float64Array(n),
    weight: new Float64Array(n),
    terms: new Float64Array(n),
    sums: new Float64Array(5),
  };
  const { columns, score, weight, terms, sums } = w;
  for (let a = 0; a < active; a++) {
    const g = genes[a];
    const base = g * n;
    const alpha = dispersions[g];
    const r = inverseDispersion[g];
    for (let s = 0; s < nSteps; s++) {
      const t = steps === null ? 0 : steps[s];
      for (let k = 0; k < p; k++) {
        const b = beta[a * p + k];
        point[k] = clip(direction === null ? b : b - t * direction[a * p + k], box);
      }
      linearPredictor(n, p, design, point, w.logMu);
      pqnSampleTerms(n, sizeFactors, counts, logBinomial, base, r, alpha, minMu, w);
      const sa = s * active + a;
      nll[sa] = nllOffset[g] + pairwiseSum(terms, 0, n);
      // The upper triangle only, row by row: the matrix is exactly symmetric, so that its
      // p(p+1)/2 distinct entries are all a message needs to carry.
      let at = sa * triangle;
      if (
        smallGradientFisher(
          p,
          columns,
          n,
          score,
          weight,
          designTimesCounts,
          g * p,
          gradient,
          sa * p,
          fisher,
          at,
        )
      )
        continue;
      for (let k = 0; k < p; k++) {
        const ck = k * n;
        for (let l = k; l < p; l += 4) {
          const count = Math.min(4, p - l);
          if (l === k) {
            gradientFisherPass(columns, n, ck, l * n, count, score, weight, sums);
            gradient[sa * p + k] = -designTimesCounts[g * p + k] + sums[0];
          } else {
            fisherPass(columns, n, ck, l * n, count, weight, sums);
          }
          for (let j = 0; j < count; j++) fisher[at++] = sums[1 + j];
        }
      }
    }
  }
  return { fisher, gradient, nll };
}

/** Outputs of {@link nbIrlsSummandsAndNll}, one entry per active gene. */
export interface IrlsSummands {
  /** XᵀWX, A×p×p. */
  readonly hatMatrix: Float64Array;
  /** XᵀWz, A×p. */
  readonly features: Float64Array;
  /** NLL at β (NaN for a gene with an overflowed sample), A. */
  readonly nll: Float64Array;
}

/** Above this linear predictor, exp would overflow μ: upstream's ln(1e100). */
export const IRLS_OVERFLOW_LIMIT = Math.log(1e100);

/**
 * IRLS summands and NLL at β for the active genes (upstream's
 * `make_irls_update_summands_and_nll_batch`, with its overflow handling: a sample with
 * x·β > ln(1e100) gets w = 1/α, z = x·β − 1, and makes the gene's NLL NaN). With the
 * per-sample ln Γ terms (upstream's IRLS) each sample's NLL term is summed whole, as upstream
 * does; without them (the `deseq2` solver's IRLS) the sum of the β-dependent parts, less the
 * terms' sum per gene.
 * @param data - the center's data
 * @param constants - from {@link nbGeneConstants} on the same data
 * @param genes - indices of the A active genes
 * @param beta - A×p coefficients of the active genes
 * @param minMu - floor on μ (0.5 in IRLS)
 */
export function nbIrlsSummandsAndNll(
  data: NbCenterData,
  constants: NbGeneConstants,
  genes: Int32Array,
  beta: Float64Array,
  minMu: number,
): IrlsSummands {
  const { n, p, design, sizeFactors, counts, dispersions } = data;
  const { inverseDispersion, nllOffset, logBinomial, logBinomialSum } = constants;
  const active = genes.length;
  const hatMatrix = new Float64Array(active * p * p);
  const features = new Float64Array(active * p);
  const nll = new Float64Array(active);
  const weight = new Float64Array(n);
  const workingResponse = new Float64Array(n);
  const pp = p * p;
  for (let a = 0; a < active; a++) {
    const g = genes[a];
    const base = g * n;
    const alpha = dispersions[g];
    const r = inverseDispersion[g];
    let overflowed = false;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      let xb = 0;
      for (let k = 0; k < p; k++) xb += design[i * p + k] * beta[a * p + k];
      const y = counts[base + i];
      if (xb > IRLS_OVERFLOW_LIMIT) {
        overflowed = true;
        weight[i] = 1.0 / alpha;
        workingResponse[i] = xb - 1.0;
        continue;
      }
      const m = Math.max(sizeFactors[i] * Math.exp(xb), minMu);
      weight[i] = m / (1.0 + m * alpha);
      workingResponse[i] = Math.log(m / sizeFactors[i]) + (y - m) / m;
      sum +=
        logBinomial === null
          ? (y + r) * Math.log(r + m) - y * Math.log(m)
          : nbNllTerm(y, r, m, logBinomial[base + i]);
    }
    // Without the per-sample terms, their sum comes off once: the same NLL up to rounding.
    nll[a] = overflowed
      ? Number.NaN
      : logBinomial === null
        ? nllOffset[g] + (sum - logBinomialSum[g])
        : nllOffset[g] + sum;
    const h = a * pp;
    for (let k = 0; k < p; k++) {
      for (let l = k; l < p; l++) {
        let acc = 0;
        for (let i = 0; i < n; i++) acc += design[i * p + k] * weight[i] * design[i * p + l];
        hatMatrix[h + k * p + l] = acc;
        hatMatrix[h + l * p + k] = acc;
      }
      let acc = 0;
      for (let i = 0; i < n; i++) acc += design[i * p + k] * (weight[i] * workingResponse[i]);
      features[a * p + k] = acc;
    }
  }
  return { hatMatrix, features, nll };
}

/** Outputs of {@link nbScoreAndInformation}, point-major: [point][gene][...]. */
export interface ScoreAndInformation {
  /** NLL with μ floored at min_mu (DESeq2's objective, without ridge), S×A. */
  readonly nll: Float64Array;
  /**
   * The IRLS residual equation F = Σ_i x_i w_i (z_i − x_iβ), S×A×p: the score −∇NLL on samples
   * whose μ is above the floor, IRLS's pseudo-residual on floored samples. IRLS's fixed point
   * (DESeq2's answer) is where F − λβ = 0.
   */
  readonly residual: Float64Array;
  /**
   * −∂F/∂β, S×A×p×p: the observed information x xᵀ μ(1+αy)/(1+αμ)² on unfloored samples,
   * IRLS's weight w x xᵀ on floored ones. Newton's method on F with it converges
   * quadratically where IRLS (the same with the expected information) crawls.
   */
  readonly information: Float64Array;
}

/**
 * Σ_i x_ik·score_i (into sums[0]) and Σ_i (x_ik·w_i)·x_il for l = l0 … l0 + count − 1 (count ≤ 4,
 * into sums[1 …]) over the samples with x_ik ≠ 0 (the others are skipped, not added as zeros), in
 * one pass, each sum in sample order.
 */
function residualInformationPass(
  columns: Float64Array,
  n: number,
  ck: number,
  c0: number,
  count: number,
  score: Float64Array,
  weight: Float64Array,
  sums: Float64Array,
): void {
  let g0 = 0;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  const c1 = c0 + n;
  const c2 = c1 + n;
  const c3 = c2 + n;
  if (count === 4) {
    for (let i = 0; i < n; i++) {
      const x = columns[ck + i];
      if (x === 0) continue;
      g0 += x * score[i];
      const xw = x * weight[i];
      a0 += xw * columns[c0 + i];
      a1 += xw * columns[c1 + i];
      a2 += xw * columns[c2 + i];
      a3 += xw * columns[c3 + i];
    }
  } else if (count === 3) {
    for (let i = 0; i < n; i++) {
      const x = columns[ck + i];
      if (x === 0) continue;
      g0 += x * score[i];
      const xw = x * weight[i];
      a0 += xw * columns[c0 + i];
      a1 += xw * columns[c1 + i];
      a2 += xw * columns[c2 + i];
    }
  } else if (count === 2) {
    for (let i = 0; i < n; i++) {
      const x = columns[ck + i];
      if (x === 0) continue;
      g0 += x * score[i];
      const xw = x * weight[i];
      a0 += xw * columns[c0 + i];
      a1 += xw * columns[c1 + i];
    }
  } else {
    for (let i = 0; i < n; i++) {
      const x = columns[ck + i];
      if (x === 0) continue;
      g0 += x * score[i];
      a0 += x * weight[i] * columns[c0 + i];
    }
  }
  sums[0] = g0;
  sums[1] = a0;
  sums[2] = a1;
  sums[3] = a2;
  sums[4] = a3;
}

/** As {@link residualInformationPass} without the residual entry (into sums[1 …]). */
function informationPass(
  columns: Float64Array,
  n: number,
  ck: number,
  c0: number,
  count: number,
  weight: Float64Array,
  sums: Float64Array,
): void {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  const c1 = c0 + n;
  const c2 = c1 + n;
  const c3 = c2 + n;
  if (count === 4) {
    for (let i = 0; i < n; i++) {
      const x = columns[ck + i];
      if (x === 0) continue;
      const xw = x * weight[i];
      a0 += xw * columns[c0 + i];
      a1 += xw * columns[c1 + i];
      a2 += xw * columns[c2 + i];
      a3 += xw * columns[c3 + i];
    }
  } else if (count === 3) {
    for (let i = 0; i < n; i++) {
      const x = columns[ck + i];
      if (x === 0) continue;
      const xw = x * weight[i];
      a0 += xw * columns[c0 + i];
      a1 += xw * columns[c1 + i];
      a2 += xw * columns[c2 + i];
    }
  } else if (count === 2) {
    for (let i = 0; i < n; i++) {
      const x = columns[ck + i];
      if (x === 0) continue;
      const xw = x * weight[i];
      a0 += xw * columns[c0 + i];
      a1 += xw * columns[c1 + i];
    }
  } else {
    for (let i = 0; i < n; i++) {
      const x = columns[ck + i];
      if (x === 0) continue;
      a0 += x * weight[i] * columns[c0 + i];
    }
  }
  sums[1] = a0;
  sums[2] = a1;
  sums[3] = a2;
  sums[4] = a3;
}

/**
 * NLL, IRLS residual and its Jacobian at each of `count` points per active gene: the kernel of
 * the `fast` solver (Newton's method on IRLS's fixed-point equation).
 *
 * Loops as in {@link nbFisherGradientNllAtSteps} (gene-major; per point, the samples' terms, then
 * up to five sums per pass over them, each in sample order), with ln μ = ln s + η on samples whose
 * μ is not floored.
 * @param points - count×A×p coefficients, point-major
 * @param count - points per gene
 */
export function nbScoreAndInformation(
  data: NbCenterData,
  constants: NbGeneConstants,
  genes: Int32Array,
  points: Float64Array,
  count: number,
  minMu: number,
): ScoreAndInformation {
  const { n, p, design, sizeFactors, counts, dispersions } = data;
  const { inverseDispersion, nllOffset } = constants;
  const logBinomial = sampleLogBinomial(constants);
  const active = genes.length;
  const pp = p * p;
  const nll = new Float64Array(count * active);
  const residual = new Float64Array(count * active * p);
  const information = new Float64Array(count * active * pp);
  const logFloor = Math.log(minMu);
  const columns = designColumns(design, n, p);
  const logSizeFactors = sizeFactors.map(Math.log);
  const point = new Float64Array(p);
  const eta = new Float64Array(n);
  const score = new Float64Array(n);
  const weight = new Float64Array(n);
  const sums = new Float64Array(5);
  for (let a = 0; a < active; a++) {
    const g = genes[a];
    const base = g * n;
    const alpha = dispersions[g];
    const r = inverseDispersion[g];
    for (let s = 0; s < count; s++) {
      const sa = s * active + a;
      const b = sa * p;
      const f = sa * pp;
      for (let k = 0; k < p; k++) point[k] = points[b + k];
      linearPredictor(n, p, design, point, eta);
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const xb = eta[i];
        const raw = sizeFactors[i] * fastExp(xb);
        const y = counts[base + i];
        let m: number;
        let logM: number;
        if (raw >= minMu) {
          m = raw;
          const denominator = 1 + alpha * m;
          score[i] = (y - m) / denominator;
          weight[i] = (m * (1 + alpha * y)) / (denominator * denominator);
          logM =
            raw >= MIN_NORMAL && raw <= Number.MAX_VALUE ? logSizeFactors[i] + xb : Math.log(m);
        } else {
          m = minMu;
          const w = m / (1 + alpha * m);
          weight[i] = w;
          score[i] = w * (logFloor - logSizeFactors[i] - xb + (y - m) / m);
          logM = logFloor;
        }
        sum += -logBinomial[base + i] + (y + r) * Math.log(r + m) - y * logM;
      }
      nll[sa] = nllOffset[g] + sum;
      for (let k = 0; k < p; k++) {
        const ck = k * n;
        for (let l = k; l < p; l += 4) {
          const width = Math.min(4, p - l);
          if (l === k) {
            residualInformationPass(columns, n, ck, l * n, width, score, weight, sums);
            residual[b + k] = sums[0];
          } else {
            informationPass(columns, n, ck, l * n, width, weight, sums);
          }
          for (let j = 0; j < width; j++) {
            information[f + k * p + l + j] = sums[1 + j];
            information[f + (l + j) * p + k] = sums[1 + j];
          }
        }
      }
    }
  }
  return { nll, residual, information };
}

/**
 * The NLL −Σᵢ log NB(yᵢ; μᵢ, 1/α) at `count` points per active gene, with μ = s·2^(xβ) from
 * log2-scale coefficients, not floored: the objective R's `optim` minimises when DESeq2 refits a
 * row IRLS did not converge (`fitNbinomGLMsWithOptim`, whose μ is `nf * 2^(x %*% p)`). Each term
 * is R's own `dnbinom(y, size = 1/α, mu = μ, log = TRUE)` ({@link nbLogDensity}), μ uses the C
 * library's 2^x ({@link glibcPowerOfTwo}), and the n terms are summed as R's `sum()` does (80-bit
 * accumulation, {@link sumLikeR}): a center holding all the samples returns −`sum(dnbinom(...))`
 * bit for bit (on x86-64 with glibc, where R was checked). μ overflowing to ∞ makes the term −∞
 * (NLL +∞); underflowing to 0 gives 0 for a zero count and −∞ otherwise, as dnbinom does.
 * @param points - A×count×p coefficients on the log2 scale, gene-major
 * @param count - points per gene
 * @returns A×count NLLs
 */
export function nbNllAtPoints(
  data: NbCenterData,
  constants: NbGeneConstants,
  genes: Int32Array,
  points: Float64Array,
  count: number,
): Float64Array {
  const { n, p, design, sizeFactors, counts } = data;
  const { inverseDispersion } = constants;
  const active = genes.length;
  const nll = new Float64Array(active * count);
  const logDensities = new Float64Array(n);
  // The μ-independent parts of each sample's density, once per gene for its `count` points.
  const densityConstants = new Float64Array(n * NB_DENSITY_CONSTANTS);
  // 2^(xβ) once per distinct design row: samples with equal rows have the same xβ, bit for bit
  // (same products, summed in the same order), and the emulated C library's 2^x was a third of
  // this kernel's time (a 120-sample `~ batch + condition` run: 1.7 of 4.9 s) when per sample.
  const { first, classOf } = rowClasses(design, n, p);
  const D = first.length;
  const rowPowers = new Float64Array(D);
  // A gene's first point is L-BFGS-B's x and the others its numerical gradient's x ± ε·e_k: a row
  // with a 0 in column k has the same xβ at x ± ε·e_k as at x, so its samples' densities are
  // those at x, reused rather than recomputed (an indicator design recomputes about half of them).
  const firstEtas = new Float64Array(D);
  const firstPowers = new Float64Array(D);
  const firstDensities = new Float64Array(n);
  const unchanged = new Uint8Array(D);
  for (let a = 0; a < active; a++) {
    const g = genes[a];
    const base = g * n;
    const size = inverseDispersion[g];
    for (let i = 0; i < n; i++)
      nbLogDensityConstants(counts[base + i], size, densityConstants, i * NB_DENSITY_CONSTANTS);
    for (let s = 0; s < count; s++) {
      const b = (a * count + s) * p;
      for (let d = 0; d < D; d++) {
        const row = first[d] * p;
        let eta = 0;
        for (let k = 0; k < p; k++) eta += design[row + k] * points[b + k];
        if (s > 0 && eta === firstEtas[d]) {
          unchanged[d] = 1;
          rowPowers[d] = firstPowers[d];
        } else {
          unchanged[d] = 0;
          rowPowers[d] = glibcPowerOfTwo(eta);
          if (s === 0) {
            firstEtas[d] = eta;
            firstPowers[d] = rowPowers[d];
          }
        }
      }
      for (let i = 0; i < n; i++) {
        logDensities[i] =
          unchanged[classOf[i]] === 1
            ? firstDensities[i]
            : nbLogDensityAt(
                counts[base + i],
                size,
                sizeFactors[i] * rowPowers[classOf[i]],
                densityConstants,
                i * NB_DENSITY_CONSTANTS,
              );
      }
      if (s === 0) firstDensities.set(logDensities);
      nll[a * count + s] = -sumLikeR(logDensities, 0, n);
    }
  }
  return nll;
}
