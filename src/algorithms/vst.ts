/**
 * DESeq2's variance-stabilising transformation (`varianceStabilizingTransformation(dds, blind =
 * FALSE)`, `getVarianceStabilizedData`): each normalised count q = y/s goes through a closed form
 * of the fitted dispersion trend. It is a function of one sample's count, so it is only ever
 * computed where the count is: each center transforms its own samples with the trend the
 * aggregator sends, and keeps the result.
 *
 * - parametric trend α(μ) = asymptDisp + extraPois/μ:
 *   log2((1 + e + 2aq + 2·sqrt(aq(1 + e + aq))) / (4a));
 * - mean trend α: (2·asinh(sqrt(αq)) − ln α − ln 4) / ln 2;
 * - local trend: DESeq2's numerical integral of 1/sqrt(α(x)x² + mean(1/s)·x) on 999 points
 *   asinh-spaced up to the federation's largest normalised count, interpolated by R's "fmm"
 *   spline in asinh(q) and scaled to log2 at the genes' 95% and 99.9% mean quantiles
 *   ({@link localVstTrend}): the aggregator sends the spline's knots and values, each center
 *   builds it and transforms its own counts. The largest normalised count is one sample's value:
 *   it is found (alone) only under a plan that allows it ({@link VstMaximumRequest}).
 */
import { fmmSpline, splineAt } from "../math/spline.js";
import { quantileType7 } from "../stats/quantile.js";
import type { DispersionTrend } from "./dispersions/trend.js";

/** The trend a center transforms its counts with. */
export type VstTrend =
  | { readonly fit: "parametric"; readonly asymptDisp: number; readonly extraPois: number }
  | { readonly fit: "mean"; readonly meanDispersion: number }
  | LocalVstTrend;

/** DESeq2's vst of a local trend: v = eta·splf(asinh(q)) + xi. */
export interface LocalVstTrend {
  readonly fit: "local";
  /** The spline's knots (asinh of the grid's midpoints, 998) and values (the integral). */
  readonly knots: Float64Array;
  readonly integral: Float64Array;
  readonly eta: number;
  readonly xi: number;
}

/** Points of DESeq2's integration grid (the first, 0, dropped). */
const GRID_POINTS = 1000;

/** What DESeq2's vst of a local trend is computed from. */
export interface LocalVstInput {
  /** The federation's largest normalised count (`max(counts(dds, normalized = TRUE))`). */
  readonly maxCount: number;
  /** The fitted trend α(mean) (`dispersionFunction(dds)`). */
  readonly dispersionAt: (mean: number) => number;
  /** mean(1/s) over every sample. */
  readonly meanInverseSizeFactor: number;
  /** Every gene's mean normalised count (`rowMeans(counts(dds, normalized = TRUE))`, 0 if none). */
  readonly rowMeans: Float64Array;
}

/**
 * DESeq2's `getVarianceStabilizedData` for a local trend, the aggregator's part: the grid
 * xg = sinh(seq(0, asinh(max), length.out = 1000))[−1], the trapezoid integral of
 * 1/sqrt(α(xg)·xg² + xim·xg) at the midpoints' asinh, and eta, xi from R's type-7 quantiles of
 * the genes' means.
 */
export function localVstTrend(input: LocalVstInput): LocalVstTrend {
  const top = Math.asinh(input.maxCount);
  // R's seq(from = 0, to, length.out = n): 0, k·(to/(n − 1)) for 0 < k < n − 1, and to.
  const step = top / (GRID_POINTS - 1);
  const xg = Float64Array.from({ length: GRID_POINTS - 1 }, (_, k) =>
    Math.sinh(k === GRID_POINTS - 2 ? top : (k + 1) * step),
  );
  const integrand = Float64Array.from(xg, (x) => {
    const variance = input.dispersionAt(x) * x * x + input.meanInverseSizeFactor * x;
    return 1 / Math.sqrt(variance);
  });
  const knots = new Float64Array(xg.length - 1);
  const integral = new Float64Array(xg.length - 1);
  let sum = 0;
  for (let k = 0; k < knots.length; k++) {
    knots[k] = Math.asinh((xg[k + 1] + xg[k]) / 2);
    sum += ((xg[k + 1] - xg[k]) * (integrand[k + 1] + integrand[k])) / 2;
    integral[k] = sum;
  }
  const spline = fmmSpline(knots, integral);
  const [h1, h2] = quantileType7(input.rowMeans, [0.95, 0.999]);
  const at1 = splineAt(spline, Math.asinh(h1));
  const eta = (Math.log2(h2) - Math.log2(h1)) / (splineAt(spline, Math.asinh(h2)) - at1);
  const xi = Math.log2(h1) - eta * at1;
  return { fit: "local", knots, integral, eta, xi };
}

/** The transformation's trend for a fitted dispersion trend (null: a local trend, not available). */
export function vstTrendOf(
  trend: Pick<DispersionTrend, "type" | "coefficients" | "meanDispersion">,
): VstTrend | null {
  if (trend.type === "parametric" && trend.coefficients !== null)
    return {
      fit: "parametric",
      asymptDisp: trend.coefficients.asymptDisp,
      extraPois: trend.coefficients.extraPois,
    };
  if (trend.type === "mean") return { fit: "mean", meanDispersion: trend.meanDispersion };
  return null;
}

/** The transformation of one normalised count q under a trend. */
function transformOf(trend: VstTrend): (q: number) => number {
  switch (trend.fit) {
    case "parametric": {
      const a = trend.asymptDisp;
      const e = trend.extraPois;
      return (q) =>
        Math.log((1 + e + 2 * a * q + 2 * Math.sqrt(a * q * (1 + e + a * q))) / (4 * a)) / Math.LN2;
    }
    case "mean": {
      const alpha = trend.meanDispersion;
      return (q) =>
        (2 * Math.asinh(Math.sqrt(alpha * q)) - Math.log(alpha) - Math.log(4)) / Math.LN2;
    }
    case "local": {
      const spline = fmmSpline(trend.knots, trend.integral);
      return (q) => trend.eta * splineAt(spline, Math.asinh(q)) + trend.xi;
    }
  }
}

/**
 * The transformed counts of one center, gene-major like `counts` (gene g's n values at g·n).
 * @param counts - the center's counts, gene-major
 * @param sizeFactors - its samples' size factors (n)
 */
export function varianceStabilized(
  counts: Float64Array,
  sizeFactors: Float64Array,
  trend: VstTrend,
): Float64Array {
  const n = sizeFactors.length;
  const genes = n === 0 ? 0 : counts.length / n;
  const out = new Float64Array(counts.length);
  const transform = transformOf(trend);
  for (let g = 0; g < genes; g++)
    for (let i = 0; i < n; i++) out[g * n + i] = transform(counts[g * n + i] / sizeFactors[i]);
  return out;
}

/** The aggregator's request: the trend each center transforms its own samples with. */
export interface VstRequest {
  readonly kind: "vst-request";
  /** "parametric" or "mean". */
  readonly fit: string;
  /** The parametric trend's coefficients (0 for a mean trend). */
  readonly asymptDisp: number;
  readonly extraPois: number;
  /** The mean trend's dispersion (0 for a parametric trend). */
  readonly meanDispersion: number;
  /** A local trend's spline knots and values, and eta, xi (empty and 0 for the others). */
  readonly knots: Float64Array;
  readonly integral: Float64Array;
  readonly eta: number;
  readonly xi: number;
}

/**
 * Step "vstMaximum": how many of the center's normalised counts (of the run's genes) are above
 * the threshold. The aggregator bisects on the threshold's bits: 64 rounds find the federation's
 * largest normalised count, and nothing but how many counts lie above each threshold.
 */
export interface VstMaximumRequest {
  readonly kind: "vst-maximum-request";
  readonly threshold: number;
}

/** The center's count of normalised counts above the threshold. */
export interface VstMaximumShare {
  readonly kind: "vst-maximum-share";
  readonly above: Float64Array;
}

/** How many of these normalised counts y/s (gene-major counts, n samples) are above `threshold`. */
export function countAbove(
  counts: Float64Array,
  sizeFactors: Float64Array,
  threshold: number,
): number {
  const n = sizeFactors.length;
  let above = 0;
  for (let base = 0; base < counts.length; base += n)
    for (let i = 0; i < n; i++) if (counts[base + i] / sizeFactors[i] > threshold) above++;
  return above;
}

/** The bit pattern of a non-negative double, and back (their order is the numbers'). */
function bitsOf(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0);
}

function doubleOf(bits: bigint): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, bits);
  return view.getFloat64(0);
}

/**
 * The largest normalised count of the federation, by bisection over the doubles: the smallest
 * threshold no count exceeds (at most 63 rounds).
 * @param above - the pooled count of normalised counts above a threshold (one round each)
 */
export async function federatedMaximum(
  above: (threshold: number) => Promise<number>,
): Promise<number> {
  let lo = 0n;
  let hi = bitsOf(Number.MAX_VALUE);
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    if ((await above(doubleOf(mid))) === 0) hi = mid;
    else lo = mid + 1n;
  }
  return doubleOf(lo);
}

/** A center's reply: its sample count only (its transformed counts stay with it). */
export interface VstShare {
  readonly kind: "vst-share";
  readonly samples: number;
}

/** The request for a trend. */
export function vstRequest(trend: VstTrend): VstRequest {
  const none = { knots: new Float64Array(0), integral: new Float64Array(0), eta: 0, xi: 0 };
  if (trend.fit === "local")
    return {
      kind: "vst-request",
      fit: "local",
      asymptDisp: 0,
      extraPois: 0,
      meanDispersion: 0,
      knots: trend.knots,
      integral: trend.integral,
      eta: trend.eta,
      xi: trend.xi,
    };
  return trend.fit === "parametric"
    ? {
        kind: "vst-request",
        fit: "parametric",
        asymptDisp: trend.asymptDisp,
        extraPois: trend.extraPois,
        meanDispersion: 0,
        ...none,
      }
    : {
        kind: "vst-request",
        fit: "mean",
        asymptDisp: 0,
        extraPois: 0,
        meanDispersion: trend.meanDispersion,
        ...none,
      };
}

/**
 * The trend of a request.
 * @throws Error when the request names no trend fedseq transforms with, or its numbers are not
 *   positive and finite where used
 */
export function vstTrendOfRequest(request: VstRequest): VstTrend {
  const positive = (x: number) => Number.isFinite(x) && x > 0;
  if (
    request.fit === "parametric" &&
    positive(request.asymptDisp) &&
    Number.isFinite(request.extraPois) &&
    request.extraPois >= 0
  )
    return { fit: "parametric", asymptDisp: request.asymptDisp, extraPois: request.extraPois };
  if (request.fit === "mean" && positive(request.meanDispersion))
    return { fit: "mean", meanDispersion: request.meanDispersion };
  if (
    request.fit === "local" &&
    request.knots.length >= 2 &&
    request.knots.length === request.integral.length &&
    Number.isFinite(request.eta) &&
    Number.isFinite(request.xi)
  ) {
    // The spline must be buildable (increasing knots): checked here, before any count is read.
    fmmSpline(request.knots, request.integral);
    return {
      fit: "local",
      knots: request.knots,
      integral: request.integral,
      eta: request.eta,
      xi: request.xi,
    };
  }

  throw new Error(`vst: no transformation for trend ${JSON.stringify(request)}`);
}
