/**
 * The first two rounds: DESeq2's base means and variances, its rough (`roughDispEstimate`) and
 * moments (`momentsDispEstimate`) dispersion estimates, and the starting dispersion alpha_init.
 *
 *   round 1 ("dispersionMoments"):   Σ y/s, Xᵀ(y/s) per gene; XᵀX, Σ 1/s, n, distinct rows of X
 *   aggregate:  baseMean = Σ y/s / m;  β = (XᵀX)⁻¹ Xᵀ(y/s)  (the least-squares fit of the
 *               normalised counts, DESeq2's `linearModelMu`)
 *   round 2 ("dispersionResiduals"): Σ (y/s − baseMean)², Σ ((y/s − μ̃)² − μ̃)/μ̃², μ̃ = max(1, xβ)
 *   aggregate:  baseVar, rough = max(Σ…/(m − p), 0), moments = (baseVar − xim·baseMean)/baseMean²,
 *               alpha_init = clamp(min(rough, moments), minDisp, max(10, m))
 *
 * The variance is two-pass (the pooled mean travels in round 2), as R's `rowVars`.
 */
import { InputError } from "../../core/errors.js";
import { crossProduct, rowClasses, solveMany } from "../../math/linalg.js";
import { maskIndices } from "../masks.js";
import { sumOverCenters } from "../shares.js";
import { checkDispersionCenter, type DispersionCenter, dispersionMeans } from "./center.js";
import { DESEQ2_DISPERSION_OPTIONS, type DispersionOptions, maxDispersion } from "./options.js";
import type {
  DispersionMomentsRequest,
  DispersionMomentsShare,
  DispersionResidualsRequest,
  DispersionResidualsShare,
  InitialDispersions,
} from "./state.js";

/** The distinct rows of a row-major n×p matrix, in order of first appearance (D×p). */
export function distinctRows(matrix: Float64Array, n: number, p: number): Float64Array {
  const { first } = rowClasses(matrix, n, p);
  const rows = new Float64Array(first.length * p);
  for (let d = 0; d < first.length; d++)
    rows.set(matrix.subarray(first[d] * p, first[d] * p + p), d * p);
  return rows;
}

/** The distinct design rows over in-process centers (drivers and tests that hold them all). */
export function pooledDistinctRows(
  centers: readonly { readonly n: number; readonly p: number; readonly design: Float64Array }[],
): Float64Array {
  if (centers.length === 0) return new Float64Array(0);
  const p = centers[0].p;
  const all = new Float64Array(centers.reduce((s, c) => s + c.n * p, 0));
  let offset = 0;
  for (const c of centers) {
    all.set(c.design.subarray(0, c.n * p), offset);
    offset += c.n * p;
  }
  return distinctRows(all, all.length / p, p);
}

/**
 * Per candidate row (D×p), how many rows of the n×p `design` equal it bit for bit.
 * @throws Error when a row of `design` is none of the candidates (they list every combination)
 */
export function candidateRowCounts(
  design: Float64Array,
  n: number,
  p: number,
  candidates: Float64Array,
): Float64Array {
  const d = candidates.length / p;
  const counts = new Float64Array(d);
  if (d === 0) return counts; // a continuous covariate: no candidates, nothing counted
  for (let i = 0; i < n; i++) {
    let found = -1;
    for (let r = 0; r < d && found < 0; r++) {
      let same = true;
      for (let k = 0; k < p && same; k++) same = design[i * p + k] === candidates[r * p + k];
      if (same) found = r;
    }
    // Not which sample's (its position with the rows sent would be its cell).
    if (found < 0) throw new Error(`a sample's design row is none of the ${d} candidate rows`);
    counts[found]++;
  }
  return counts;
}

/**
 * Local step "dispersionMoments": per-gene sums of the normalised counts y/s and Xᵀ(y/s), and
 * the center's design summaries (sums; its design rows themselves never travel).
 * @param center - the center's data
 * @param request - the candidate design rows (empty: a design with a continuous covariate)
 */
export function dispersionMomentsLocalStep(
  center: DispersionCenter,
  request: DispersionMomentsRequest,
): DispersionMomentsShare {
  checkDispersionCenter(center);
  const { n, p, genes, design, sizeFactors, counts } = center;
  const gram = crossProduct(design, n, p);
  let inverseSizeFactorSum = 0;
  for (let i = 0; i < n; i++) inverseSizeFactorSum += 1 / sizeFactors[i];
  const normalizedSum = new Float64Array(genes);
  const designTimesNormalized = new Float64Array(genes * p);
  const normalized = new Float64Array(n);
  for (let g = 0; g < genes; g++) {
    const base = g * n;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = counts[base + i] / sizeFactors[i];
      normalized[i] = v;
      sum += v;
    }
    normalizedSum[g] = sum;
    for (let k = 0; k < p; k++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += design[i * p + k] * normalized[i];
      designTimesNormalized[g * p + k] = acc;
    }
  }
  return {
    kind: "dispersion-moments-share",
    samples: n,
    inverseSizeFactorSum,
    gram,
    rowCounts: candidateRowCounts(design, n, p, request.candidateRows),
    normalizedSum,
    designTimesNormalized,
  };
}

/**
 * Aggregate step after "dispersionMoments": pooled means, the least-squares coefficients of
 * the normalised counts and the request of step "dispersionResiduals".
 * @param shares - one share per center, in federation order
 * @param options - DESeq2's constants (minMu)
 * @throws InputError when the design has no residual degrees of freedom (m ≤ p, DESeq2's "no
 *   replicates" error) or XᵀX is singular
 */
export function dispersionMomentsAggregate(
  shares: readonly DispersionMomentsShare[],
  request: DispersionMomentsRequest,
  options: DispersionOptions = DESEQ2_DISPERSION_OPTIONS,
): DispersionResidualsRequest {
  if (shares.length === 0) throw new Error("dispersion moments need at least one share");
  const gram = sumOverCenters(shares, "gram");
  const p = Math.round(Math.sqrt(gram.length));
  let samples = 0;
  let inverseSum = 0;
  for (const share of shares) {
    samples += share.samples;
    inverseSum += share.inverseSizeFactorSum;
  }
  if (samples <= p) {
    throw new InputError(
      `${samples} samples for ${p} design columns: no replicates to estimate the dispersion (DESeq2 stops here too)`,
    );
  }
  // The pooled design's distinct rows: the candidates some center has samples of. With a
  // continuous covariate there are no candidates; DESeq2's distinct rows then outnumber p
  // (unless the covariate takes at most p distinct values over the federation: not detected).
  const rowCounts = sumOverCenters(shares, "rowCounts");
  const designRows: number[] = [];
  let present = 0;
  for (let r = 0; r < rowCounts.length; r++) {
    if (rowCounts[r] <= 0) continue;
    present++;
    for (let k = 0; k < p; k++) designRows.push(request.candidateRows[r * p + k]);
  }
  const normalizedSum = sumOverCenters(shares, "normalizedSum");
  const designTimesNormalized = sumOverCenters(shares, "designTimesNormalized");
  const nGenes = normalizedSum.length;
  const mask = new Uint8Array(nGenes);
  for (let g = 0; g < nGenes; g++) mask[g] = normalizedSum[g] > 0 ? 1 : 0;
  const genes = maskIndices(mask);
  const baseMean = new Float64Array(genes.length);
  const rhs = new Float64Array(genes.length * p);
  for (let a = 0; a < genes.length; a++) {
    const g = genes[a];
    baseMean[a] = normalizedSum[g] / samples;
    rhs.set(designTimesNormalized.subarray(g * p, g * p + p), a * p);
  }
  const linearBeta = new Float64Array(genes.length * p);
  if (genes.length > 0) solveMany(gram, rhs, p, genes.length, linearBeta);
  const linearMu = rowCounts.length > 0 && present === p;
  return {
    kind: "dispersion-residuals-request",
    mask,
    baseMean,
    linearBeta,
    setLinearMu: linearMu,
    minMu: options.minMu,
    samples,
    designColumns: p,
    meanInverseSizeFactor: inverseSum / samples,
    linearMu,
    designRows: Float64Array.from(designRows),
  };
}

/**
 * Local step "dispersionResiduals": squared deviations from the pooled mean and DESeq2's rough
 * residuals, on mask. When `request.setLinearMu`, the center also sets its μ to the
 * linear-model μ = max(s·xβ, minMu) of the same coefficients (DESeq2's
 * `linearModelMuNormalized`, floored as in `estimateDispersionsGeneEst`), which saves the
 * "dispersionMu" round for group designs.
 * @param center - the center's data (its `means` are replaced when setLinearMu)
 * @param request - from {@link dispersionMomentsAggregate}
 */
export function dispersionResidualsLocalStep(
  center: DispersionCenter,
  request: DispersionResidualsRequest,
): DispersionResidualsShare {
  checkDispersionCenter(center);
  const { n, p, genes: nGenes, design, sizeFactors, counts } = center;
  if (request.mask.length !== nGenes)
    throw new Error(`request covers ${request.mask.length} genes, the center holds ${nGenes}`);
  const genes = maskIndices(request.mask);
  const { baseMean, linearBeta } = request;
  const squaredDeviations = new Float64Array(genes.length);
  const roughResiduals = new Float64Array(genes.length);
  for (let a = 0; a < genes.length; a++) {
    const base = genes[a] * n;
    const mean = baseMean[a];
    let deviations = 0;
    let rough = 0;
    for (let i = 0; i < n; i++) {
      const v = counts[base + i] / sizeFactors[i];
      let fitted = 0;
      for (let k = 0; k < p; k++) fitted += design[i * p + k] * linearBeta[a * p + k];
      const d = v - mean;
      deviations += d * d;
      const m = Math.max(1, fitted);
      const r = v - m;
      rough += (r * r - m) / (m * m);
    }
    squaredDeviations[a] = deviations;
    roughResiduals[a] = rough;
  }
  if (request.setLinearMu) {
    center.means = dispersionMeans(
      center,
      request.mask,
      genes,
      linearBeta,
      "identity",
      request.minMu,
    );
  }
  return { kind: "dispersion-residuals-share", squaredDeviations, roughResiduals };
}

/**
 * Aggregate step after "dispersionResiduals": base variances, DESeq2's rough and moments
 * estimates and alpha_init.
 * @param request - the request the centers answered
 * @param shares - one share per center, in federation order
 * @param options - DESeq2's constants (minDisp)
 */
export function dispersionResidualsAggregate(
  request: DispersionResidualsRequest,
  shares: readonly DispersionResidualsShare[],
  options: DispersionOptions = DESEQ2_DISPERSION_OPTIONS,
): InitialDispersions {
  if (shares.length === 0) throw new Error("dispersion residuals need at least one share");
  const genes = maskIndices(request.mask);
  for (const [c, s] of shares.entries()) {
    if (s.squaredDeviations.length !== genes.length)
      throw new Error(
        `residuals share ${c} covers ${s.squaredDeviations.length} genes, expected ${genes.length}`,
      );
  }
  const deviations = sumOverCenters(shares, "squaredDeviations");
  const rough = sumOverCenters(shares, "roughResiduals");
  const m = request.samples;
  const p = request.designColumns;
  const nGenes = request.mask.length;
  const maxDisp = maxDispersion(m);
  const nan = () => new Float64Array(nGenes).fill(Number.NaN);
  const baseMean = nan();
  const baseVar = nan();
  const roughDispersion = nan();
  const momentsDispersion = nan();
  const alphaInit = nan();
  const xim = request.meanInverseSizeFactor;
  for (let a = 0; a < genes.length; a++) {
    const g = genes[a];
    const mean = request.baseMean[a];
    const variance = deviations[a] / (m - 1);
    const r = Math.max(rough[a] / (m - p), 0);
    const moments = (variance - xim * mean) / (mean * mean);
    baseMean[g] = mean;
    baseVar[g] = variance;
    roughDispersion[g] = r;
    momentsDispersion[g] = moments;
    alphaInit[g] = Math.min(Math.max(options.minDisp, Math.min(r, moments)), maxDisp);
  }
  return {
    kind: "dispersion-initial",
    mask: request.mask,
    samples: m,
    p,
    linearMu: request.linearMu,
    designRows: request.designRows,
    baseMean,
    meanInverseSizeFactor: request.meanInverseSizeFactor,
    baseVar,
    roughDispersion,
    momentsDispersion,
    alphaInit,
  };
}
