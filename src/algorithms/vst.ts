/**
 * DESeq2's variance-stabilising transformation (`varianceStabilizingTransformation(dds, blind =
 * FALSE)`, `getVarianceStabilizedData`): each normalised count q = y/s goes through a closed form
 * of the fitted dispersion trend. It is a function of one sample's count, so it is only ever
 * computed where the count is: each center transforms its own samples with the trend the
 * aggregator sends, and keeps the result.
 *
 * - parametric trend α(μ) = asymptDisp + extraPois/μ:
 *   log2((1 + e + 2aq + 2·sqrt(aq(1 + e + aq))) / (4a));
 * - mean trend α: (2·asinh(sqrt(αq)) − ln α − ln 4) / ln 2.
 *
 * DESeq2's "local" trend needs a numerical integral over a grid up to the largest normalised count
 * of the whole federation (one sample's value) and quantiles of the genes' means: not done here.
 */
import type { DispersionTrend } from "./dispersions/trend.js";

/** The trend a center transforms its counts with. */
export type VstTrend =
  | { readonly fit: "parametric"; readonly asymptDisp: number; readonly extraPois: number }
  | { readonly fit: "mean"; readonly meanDispersion: number };

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
  const transform =
    trend.fit === "parametric"
      ? (q: number) => {
          const a = trend.asymptDisp;
          const e = trend.extraPois;
          return (
            Math.log((1 + e + 2 * a * q + 2 * Math.sqrt(a * q * (1 + e + a * q))) / (4 * a)) /
            Math.LN2
          );
        }
      : (q: number) => {
          const alpha = trend.meanDispersion;
          return (2 * Math.asinh(Math.sqrt(alpha * q)) - Math.log(alpha) - Math.log(4)) / Math.LN2;
        };
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
}

/** A center's reply: its sample count only (its transformed counts stay with it). */
export interface VstShare {
  readonly kind: "vst-share";
  readonly samples: number;
}

/** The request for a trend. */
export function vstRequest(trend: VstTrend): VstRequest {
  return trend.fit === "parametric"
    ? {
        kind: "vst-request",
        fit: "parametric",
        asymptDisp: trend.asymptDisp,
        extraPois: trend.extraPois,
        meanDispersion: 0,
      }
    : {
        kind: "vst-request",
        fit: "mean",
        asymptDisp: 0,
        extraPois: 0,
        meanDispersion: trend.meanDispersion,
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
  throw new Error(`vst: no transformation for trend ${JSON.stringify(request)}`);
}
