/**
 * DESeq2's independent filtering and BH adjustment (`DESeq2:::pvalueAdjustment` with
 * `independentFiltering = TRUE`, DESeq2 1.38, and its copy of genefilter's `filtered_p`).
 *
 * For each θ of a grid, genes whose filter statistic (baseMean) is below the θ-quantile of the
 * filter (R's `quantile(filter, θ)`, type 7) are dropped and the remaining p-values are
 * BH-adjusted on their own (NA p-values stay NA and do not count). numRej(θ) is the number of
 * adjusted p-values below `alpha`. A lowess curve (f = 1/5) is fitted to numRej against θ, and
 * the chosen θ is the first whose numRej exceeds max(fit) − √mean(residual²) (residuals over the
 * θ with numRej > 0), or the first θ when no numRej exceeds 10 or none exceeds that threshold.
 * The default grid is 50 points from the fraction of genes whose filter is exactly 0 to 0.95
 * (to 1 when that fraction is ≥ 0.95). padj is NA for filtered-out genes and NA p-values.
 */
import { lowessSorted } from "./lowess.js";
import { bhAdjustOrdered, orderNonMissing } from "./padjust.js";
import { quantileSorted } from "./quantile.js";

/** Options of {@link independentFiltering}, DESeq2's defaults when omitted. */
export interface IndependentFilteringOptions {
  /** Target FDR: numRej counts adjusted p-values < alpha (default 0.1). */
  alpha?: number;
  /** Grid of quantiles of the filter (default {@link defaultThetaGrid}); at least 2 values. */
  theta?: Float64Array;
}

/** What `pvalueAdjustment` returns: padj and the metadata DESeq2 stores with the results. */
export interface IndependentFilteringResult {
  /** BH-adjusted p-values after filtering (NaN = NA). */
  padj: Float64Array;
  /** The grid of quantiles tried (DESeq2's `filterNumRej$theta`). */
  theta: Float64Array;
  /** Rejections at alpha for each θ (DESeq2's `filterNumRej$numRej`). */
  numRej: Float64Array;
  /** The lowess fit of numRej on θ (DESeq2's `lo.fit$y`, in increasing θ). */
  lowessFit: Float64Array;
  /** 0-based index of the chosen θ (DESeq2's j − 1). */
  index: number;
  /** The chosen θ (DESeq2's `filterTheta`). */
  filterTheta: number;
  /** The filter quantile at the chosen θ (DESeq2's `filterThreshold`): genes below it are NA. */
  filterThreshold: number;
}

/**
 * R's `seq(from, to, length.out = n)` for n ≥ 1: `c(from, from + (1:(n−2))·((to − from)/(n − 1)), to)`.
 * @returns the n equally spaced values, ending exactly at `to`
 */
export function seqLength(from: number, to: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 0) return out;
  out[0] = from;
  if (n === 1) return out;
  if (from === to) return out.fill(from);
  const by = (to - from) / (n - 1);
  for (let i = 1; i < n - 1; i++) out[i] = from + i * by;
  out[n - 1] = to;
  return out;
}

/**
 * DESeq2's default θ grid: 50 points from mean(filter == 0) to 0.95 (or to 1 when at least 95%
 * of the filter is zero).
 * @param filter - the filter statistic (baseMean) per gene
 */
export function defaultThetaGrid(filter: Float64Array): Float64Array {
  let zeros = 0;
  for (let i = 0; i < filter.length; i++) if (filter[i] === 0) zeros++;
  const lowerQuantile = zeros / filter.length;
  const upperQuantile = lowerQuantile < 0.95 ? 0.95 : 1;
  return seqLength(lowerQuantile, upperQuantile, 50);
}

/**
 * R's `mean()` of doubles: R sums in long double and adds a second-pass correction; a
 * compensated sum reproduces that rounding (up to rare double-rounding ties).
 */
function rMean(x: Float64Array, n: number): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < n; i++) {
    const t = s + x[i];
    c += Math.abs(s) >= Math.abs(x[i]) ? s - t + x[i] : x[i] - t + s;
    s = t;
  }
  const mean = (s + c) / n;
  if (!Number.isFinite(mean)) return mean;
  let r = 0;
  for (let i = 0; i < n; i++) r += x[i] - mean;
  return mean + r / n;
}

/** Scratch buffers reused across the θ grid. */
interface Scratch {
  /** Indices of the kept non-NA p-values, by increasing p-value. */
  kept: Int32Array;
  /** Adjusted p-values (only entries listed in `kept` are meaningful). */
  adjusted: Float64Array;
}

/**
 * BH-adjust the p-values of genes with filter ≥ cutoff into `scratch.adjusted`.
 * @returns how many genes were adjusted together (entries of `scratch.kept`)
 */
function adjustAboveCutoff(
  filter: Float64Array,
  pvalue: Float64Array,
  order: Int32Array,
  cutoff: number,
  scratch: Scratch,
): number {
  let m = 0;
  for (let k = 0; k < order.length; k++) {
    const g = order[k];
    if (filter[g] >= cutoff) scratch.kept[m++] = g;
  }
  if (m > 0) bhAdjustOrdered(pvalue, scratch.kept, m, scratch.adjusted);
  return m;
}

/** DESeq2's choice of θ index from numRej and its lowess fit. */
function chooseIndex(numRej: Float64Array, fit: Float64Array): number {
  let maxRej = Number.NEGATIVE_INFINITY;
  let maxFit = Number.NEGATIVE_INFINITY;
  let positive = 0;
  for (let k = 0; k < numRej.length; k++) {
    if (numRej[k] > maxRej) maxRej = numRej[k];
    if (fit[k] > maxFit) maxFit = fit[k];
    if (numRej[k] > 0) positive++;
  }
  if (maxRej <= 10) return 0;
  const squares = new Float64Array(Math.max(positive, 1));
  if (positive > 0) {
    let m = 0;
    for (let k = 0; k < numRej.length; k++) {
      if (numRej[k] > 0) {
        const r = numRej[k] - fit[k];
        squares[m++] = r * r;
      }
    }
  }
  const thresh = maxFit - Math.sqrt(rMean(squares, squares.length));
  for (let k = 0; k < numRej.length; k++) if (numRej[k] > thresh) return k;
  return 0;
}

/**
 * DESeq2's `pvalueAdjustment` with independent filtering and BH.
 * @param filter - filter statistic per gene (DESeq2: baseMean); NaN is rejected, as R's
 *   `quantile` does
 * @param pvalue - p-values (NaN = NA)
 * @param options - `alpha` (0.1) and the θ grid (DESeq2's default)
 * @returns padj, the grid, numRej, the lowess fit and the chosen θ and filter threshold
 * @throws RangeError for mismatched lengths, NaN in the filter, alpha outside (0, 1) or a grid
 *   of fewer than 2 values
 */
export function independentFiltering(
  filter: Float64Array,
  pvalue: Float64Array,
  options: IndependentFilteringOptions = {},
): IndependentFilteringResult {
  const n = filter.length;
  if (pvalue.length !== n) throw new RangeError("independentFiltering: lengths differ");
  const alpha = options.alpha ?? 0.1;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError("independentFiltering: alpha in (0, 1)");
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(filter[i])) throw new RangeError("independentFiltering: NaN in the filter");
  }
  const theta = options.theta ?? defaultThetaGrid(filter);
  if (theta.length < 2) throw new RangeError("independentFiltering: θ grid needs ≥ 2 values");
  const sortedFilter = Float64Array.from(filter).sort();
  const cutoffs = new Float64Array(theta.length);
  for (let k = 0; k < theta.length; k++) cutoffs[k] = quantileSorted(sortedFilter, theta[k]);

  const order = orderNonMissing(pvalue);
  const scratch: Scratch = { kept: new Int32Array(order.length), adjusted: new Float64Array(n) };
  const numRej = new Float64Array(theta.length);
  for (let k = 0; k < theta.length; k++) {
    const m = adjustAboveCutoff(filter, pvalue, order, cutoffs[k], scratch);
    let rejected = 0;
    for (let i = 0; i < m; i++) if (scratch.adjusted[scratch.kept[i]] < alpha) rejected++;
    numRej[k] = rejected;
  }

  // lowess(numRej ~ theta, f = 1/5): sorted by θ (stable), delta = 1% of θ's range.
  const byTheta = new Int32Array(theta.length);
  for (let k = 0; k < theta.length; k++) byTheta[k] = k;
  byTheta.sort((a, b) => theta[a] - theta[b] || a - b);
  const thetaSorted = Float64Array.from(byTheta, (k) => theta[k]);
  const rejSorted = Float64Array.from(byTheta, (k) => numRej[k]);
  const delta = 0.01 * (thetaSorted[theta.length - 1] - thetaSorted[0]);
  const lowessFit = lowessSorted(thetaSorted, rejSorted, 1 / 5, 3, delta);

  const index = chooseIndex(numRej, lowessFit);
  const padj = new Float64Array(n).fill(Number.NaN);
  const m = adjustAboveCutoff(filter, pvalue, order, cutoffs[index], scratch);
  for (let i = 0; i < m; i++) padj[scratch.kept[i]] = scratch.adjusted[scratch.kept[i]];
  return {
    padj,
    theta,
    numRej,
    lowessFit,
    index,
    filterTheta: theta[index],
    filterThreshold: cutoffs[index],
  };
}
